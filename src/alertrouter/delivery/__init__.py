"""Outbox delivery: per-integration workers with rate limits, retries, order, digests."""
