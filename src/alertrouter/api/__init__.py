"""HTTP handlers only: the webhook, the ops endpoints and the admin API, each with its auth."""
