"""Every Redis key alertrouter writes, in one place (like arq's ``constants.py``).

Each name below follows the store's prefix (``DEFAULT_PREFIX`` unless given), so one Redis can
hold several deployments, and ``redis-cli --scan --pattern 'alertrouter:*'`` lists all of ours.
``<queue>`` is a job's queue, ``receiver/type[i]``; ``<id>`` a decimal job id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from alertrouter.router.dedup import ClaimKey

__all__ = [
    "BUCKET",
    "CLAIM",
    "CREATED",
    "DEAD",
    "DEFAULT_PREFIX",
    "JOB",
    "JOB_IDS",
    "LEASED",
    "QUEUES",
    "READY",
    "SCHEDULED",
    "STATE_INDEX",
    "RedisKeys",
]

DEFAULT_PREFIX = "alertrouter:"

# --- dedup claims --------------------------------------------------------------------------
# String: JSON [status, sent_at, expires_at]; expires with the claim (TTL = expires_at - now).
# The suffix is the JSON array [receiver, integration, fingerprint]: unambiguous whatever
# characters a receiver name or a client-supplied fingerprint holds.
CLAIM = "claim:"

# --- jobs ----------------------------------------------------------------------------------
# String counter: INCRBY hands out job ids (they order jobs within a priority).
JOB_IDS = "job_ids"
# Hash job:<id>: the Job's fields (payload, claims and receipt as JSON) plus ``queue`` and
# ``rank``. A done job expires after the store's done TTL; others live until requeued/done.
JOB = "job:"
# Set of every queue name that ever held a job: what fetch_due(None) and stats() walk.
QUEUES = "queues"

# --- per-queue indexes, one of each per <queue> (sorted sets of job ids) --------------------
# ready:<queue>: pending jobs that are due, score = rank = priority * 2**40 + id, so ZRANGE
# gives the contract's (priority, id) order.
READY = "ready:"
# scheduled:<queue>: pending jobs not yet due, score = due_at; fetch_due moves due ones to ready.
SCHEDULED = "scheduled:"
# leased:<queue>: inflight jobs, score = lease expiry; any replica re-leases an expired one.
LEASED = "leased:"
# created:<queue>: every pending job (ready or scheduled), score = created_at: the pending
# count and the oldest pending job for stats().
CREATED = "created:"
# dead:<queue>: dead-lettered jobs, score = id: the dead count per queue.
DEAD = "dead:"

# --- per-state listing indexes (sorted sets of job ids, score = id) -------------------------
# jobs:<state> for pending, inflight, dead and done: list_jobs() reads them oldest first.
# jobs:done is trimmed as done jobs expire.
STATE_INDEX = "jobs:"

# --- queue ownership -------------------------------------------------------------------------
# String worker:<queue> = the owner id of the one replica delivering that queue, with a TTL
# its owner renews; when a replica dies, another takes the queue after the TTL.
WORKER = "worker:"

# --- wake-ups -------------------------------------------------------------------------------
# Pub/sub channel wake: claim_and_enqueue publishes the queues it added jobs to (a JSON list),
# so the replica delivering a queue starts at once whichever replica took the webhook.
WAKE = "wake"

# --- rate limits ---------------------------------------------------------------------------
# Hash bucket:<name> {tokens, updated, hold_until}: one token bucket shared by every replica.
# Expires once idle long enough to be full again (a missing bucket is a full one).
BUCKET = "bucket:"


@dataclass(frozen=True, slots=True)
class RedisKeys:
    """The full key names under one prefix."""

    prefix: str = DEFAULT_PREFIX

    @property
    def job_ids(self) -> str:
        """The job id counter."""
        return self.prefix + JOB_IDS

    @property
    def queues(self) -> str:
        """The set of queue names."""
        return self.prefix + QUEUES

    def claim(self, key: ClaimKey) -> str:
        """The claim of one alert at one integration."""
        # ASCII-escaped: a lone surrogate in a client-supplied fingerprint still makes a key.
        return self.prefix + CLAIM + json.dumps([key.receiver, key.integration, key.fingerprint])

    def job(self, job_id: int | str) -> str:
        """One job's hash."""
        return f"{self.prefix}{JOB}{job_id}"

    def per_queue(self, index: str, queue: str) -> str:
        """One of the per-queue indexes (``READY``, ``SCHEDULED``, ...) of ``queue``."""
        return self.prefix + index + queue

    def state_index(self, state: str) -> str:
        """The listing index of one job state."""
        return self.prefix + STATE_INDEX + state

    def worker(self, queue: str) -> str:
        """Who delivers ``queue``."""
        return self.prefix + WORKER + queue

    @property
    def wake(self) -> str:
        """The channel announcing queues with new jobs."""
        return self.prefix + WAKE

    def bucket(self, name: str) -> str:
        """One shared token bucket."""
        return self.prefix + BUCKET + name
