"""Ingest fronts: webhooks taken by other processes, dedup still decided in one.

With ``serve --ingest-processes N`` the serving process (the *owner*) opens the listening
socket and hands it to N front processes. A front answers ``POST /api/v1/alerts`` up to the
store step (credentials, body, validation, routing, drafting: intake.take_webhook) and sends
the drafts over a Unix socket to the owner, which claims, enqueues and commits them
(intake.commit_intake) before the front answers 200. Every other request is passed to the
owner's own HTTP server on a Unix socket. The owner keeps the store, the claims, delivery,
the metrics (the fronts report what they answered) and the config; on reload it tells the
fronts to load the file again.

Why: CPython runs one process's Python on one core at a time. Validating, routing and
drafting a webhook is most of its cost and needs no shared state, so it can run beside the
owner (BENCHMARKS.md, "Ingest").
"""
