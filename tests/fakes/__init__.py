"""Real protocol peers on 127.0.0.1 for tests: Slack, PagerDuty, SMTP and webhook receivers."""
