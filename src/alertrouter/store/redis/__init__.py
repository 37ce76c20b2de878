"""The Redis backend: several replicas share claims, the job queue and rate limits."""
