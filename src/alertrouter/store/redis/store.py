"""Redis store (``redis://`` / ``rediss://``): several replicas share claims and the job queue.

Atomicity: ``claim_and_enqueue`` and ``dead_letter`` are optimistic transactions. They WATCH
the claim keys they read, run the one Python dedup planner (router.dedup), and write claims and
jobs in MULTI/EXEC, retrying when another replica touched a watched key first; so two replicas
given the same webhook queue it once. Job state changes are Lua scripts, each atomic in Redis,
so two replicas never lease the same job. Key names: ``store.redis.keys``. Standalone Redis (or a
primary) only: the scripts compute key names, which Redis Cluster does not allow.

Durability is Redis's: run it with ``appendonly yes`` (``appendfsync always`` to lose nothing
acknowledged); ``open`` logs ``redis_not_durable`` when AOF is off.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any, cast

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError, ResponseError, WatchError
from redis.typing import EncodableT

from alertrouter.errors import StoreError
from alertrouter.logs import get_logger, log_event
from alertrouter.router.dedup import ClaimKey, ClaimState, JobDraft, PlannedJob, plan_jobs
from alertrouter.store.base import (
    DONE_RETENTION_SECONDS,
    IngestOutcome,
    Job,
    JobState,
    Store,
    StoreStats,
    decode_claims,
    encode_claims,
    encode_payloads,
    load_json,
    restored_claims,
    retaken_claims,
)
from alertrouter.store.redis import keys as rk
from alertrouter.store.redis import scripts
from alertrouter.store.redis.ratelimit import RedisTokenBucket
from alertrouter.store.urls import redact_url

__all__ = ["DONE_TTL_SECONDS", "RedisStore"]

logger = get_logger(__name__)
Pipeline = aioredis.client.Pipeline

DONE_TTL_SECONDS = DONE_RETENTION_SECONDS  # a done job expires after this
# A caller of _rewrite_job_and_claims queues the job's change and returns its claim updates:
# the helper writes them, under the key names it already built to WATCH them.
_Rewrite = Callable[
    [Pipeline, Job, Callable[[ClaimKey], ClaimState | None]],
    Awaitable[Mapping[ClaimKey, ClaimState | None]],
]
_MAX_TRANSACTION_ATTEMPTS = 200  # WatchError retries before giving up; each retry means progress
_RANK_ID_BITS = 40  # rank = priority * 2**40 + id: exact in a sorted-set score (a double)
_SOCKET_TIMEOUT_SECONDS = 5.0
_MAX_CONNECTIONS = 64


class RedisStore(Store):
    """The shared store for several replicas; ``prefix`` namespaces every key it writes."""

    backend = "redis"

    def __init__(
        self,
        url: str,
        *,
        prefix: str = rk.DEFAULT_PREFIX,
        done_ttl_seconds: float = DONE_TTL_SECONDS,
    ) -> None:
        self.url = url
        self.keys = rk.RedisKeys(prefix)
        self.done_ttl_seconds = done_ttl_seconds
        self._client: aioredis.Redis | None = None
        self._scripts: dict[str, AsyncScript] = {}

    def __repr__(self) -> str:
        return f"RedisStore({redact_url(self.url)!r}, prefix={self.keys.prefix!r})"

    @property
    def client(self) -> aioredis.Redis:
        """The open connection pool (shared with the token buckets)."""
        if self._client is None:
            raise StoreError("Redis store is not open")
        return self._client

    async def open(self) -> None:
        """Connect, check that Redis answers, and say so if it would lose acknowledged jobs."""
        # A Redis that stops answering must fail the webhook (503, Alertmanager retries), not
        # hang it: bounded socket timeouts, unless the URL's query sets its own.
        # A blocking pool: a burst of webhooks waits a moment for a connection rather than
        # failing past the pool's size (redis-py's default pool raises instead).
        pool = aioredis.BlockingConnectionPool.from_url(
            self.url,
            max_connections=_MAX_CONNECTIONS,
            timeout=_SOCKET_TIMEOUT_SECONDS,
            decode_responses=True,
            socket_timeout=_SOCKET_TIMEOUT_SECONDS,
            socket_connect_timeout=_SOCKET_TIMEOUT_SECONDS,
        )
        client = aioredis.Redis(connection_pool=pool)
        try:
            await client.ping()
            await self._warn_unless_durable(client)
        except RedisError as exc:
            await client.aclose()
            await pool.disconnect()
            raise StoreError(f"cannot reach Redis at {redact_url(self.url)}: {exc}") from exc
        self._client = client
        sources = {
            "fetch": scripts.FETCH,
            "release": scripts.RELEASE,
            "reschedule": scripts.RESCHEDULE,
            "complete": scripts.COMPLETE,
            "requeue": scripts.REQUEUE,
            "bury": scripts.BURY,
            "hold_queue": scripts.HOLD_QUEUE,
            "release_queue": scripts.RELEASE_QUEUE,
        }
        self._scripts = {name: client.register_script(src) for name, src in sources.items()}

    async def close(self) -> None:
        """Close the connection pool; safe to call twice."""
        client, self._client = self._client, None
        self._scripts = {}
        if client is not None:
            await client.aclose()
            await client.connection_pool.disconnect()  # ours: the client does not own it

    async def _warn_unless_durable(self, client: aioredis.Redis) -> None:
        try:
            info = await client.info("persistence")
        except ResponseError:  # INFO renamed or disabled (some managed Redis): cannot tell
            return
        if str(info.get("aof_enabled", "1")) != "1":
            log_event(
                logger, logging.WARNING, "redis_not_durable", url=redact_url(self.url),
                hint="jobs acknowledged since the last RDB save are lost if Redis crashes; "
                "set appendonly yes",
            )  # fmt: skip

    def rate_limiter(self, name: str, rate: float, burst: int) -> RedisTokenBucket:
        """A token bucket shared by every replica using this Redis: the limit is the fleet's."""
        return RedisTokenBucket(self.client, name, rate, burst, prefix=self.keys.prefix)

    def _registered(self, name: str) -> AsyncScript:
        script = self._scripts.get(name)
        if script is None:
            raise StoreError("Redis store is not open")
        return script

    async def _script(
        self, name: str, *args: str | int | float, client: Pipeline | None = None
    ) -> Any:
        """A job script; given a pipeline, it is queued there (loaded before its EXEC)."""
        script = self._registered(name)
        return await script(keys=[], args=[self.keys.prefix, *args], client=client)

    async def hold_queue(self, queue: str, owner: str, ttl_seconds: float) -> bool:
        """SET NX with a TTL, or renew it when ``owner`` already holds the queue."""
        ttl_ms = max(1, int(ttl_seconds * 1000))
        with _redis_errors("hold_queue"):
            script = self._registered("hold_queue")
            held = await script(keys=[self.keys.worker(queue)], args=[owner, ttl_ms])
        return bool(held)

    async def release_queue(self, queue: str, owner: str) -> None:
        """Delete the ownership key if ``owner`` still holds it."""
        with _redis_errors("release_queue"):
            script = self._registered("release_queue")
            await script(keys=[self.keys.worker(queue)], args=[owner])

    async def listen(self, on_new_jobs: Callable[[list[str]], None]) -> None:
        """Follow the wake channel: every replica hears of jobs any replica committed."""
        pubsub = self.client.pubsub()
        try:
            await pubsub.subscribe(self.keys.wake)
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    on_new_jobs(json.loads(message["data"]))
        except RedisError as exc:
            log_event(logger, logging.WARNING, "redis_wake_channel_lost", error=str(exc))
        finally:
            await pubsub.aclose()

    async def ping(self) -> None:
        """PING."""
        with _redis_errors("ping"):
            await self.client.ping()

    async def claim_and_enqueue(self, drafts: Sequence[JobDraft], now: float) -> IngestOutcome:
        """WATCH the claims, plan in Python, write claims and jobs in MULTI; retry on a race."""
        claim_keys = list(dict.fromkeys(c.key for draft in drafts for c in draft.candidates))
        if not claim_keys:
            return IngestOutcome((), ())
        names = {key: self.keys.claim(key) for key in claim_keys}
        with _redis_errors("claim_and_enqueue"):
            async with self.client.pipeline(transaction=True) as pipe:
                for _ in range(_MAX_TRANSACTION_ATTEMPTS):
                    try:
                        await pipe.watch(*names.values())
                        stored = await pipe.mget(list(names.values()))
                        states = {
                            key: _decode_claim(raw)
                            for key, raw in zip(claim_keys, stored, strict=True)
                        }
                        plan = plan_jobs(drafts, states, now)
                        # Encode before any write: a payload that cannot be stored fails the
                        # call and leaves no claim behind.
                        records = [
                            _job_record(planned, payload, now)
                            for planned, payload in zip(
                                plan.jobs, encode_payloads(plan.jobs), strict=True
                            )
                        ]
                        first_id = 0
                        if records:
                            first_id = await pipe.incrby(self.keys.job_ids, len(records))
                            first_id -= len(records) - 1
                        _begin_transaction(pipe)
                        for key, state in plan.updates.items():
                            _write_claim(pipe, names[key], state, now)
                        job_ids = tuple(range(first_id, first_id + len(records)))
                        for job_id, record in zip(job_ids, records, strict=True):
                            self._write_job(pipe, job_id, record, now)
                        if records:
                            queues = sorted({record["queue"] for record in records})
                            pipe.publish(self.keys.wake, json.dumps(queues))
                        await pipe.execute()
                    except WatchError:
                        continue  # another replica changed one of our claims: plan again
                    return IngestOutcome(job_ids, tuple(plan.suppressed))
        raise StoreError("claim_and_enqueue: claims kept changing under us; giving up")

    def _write_job(self, pipe: Pipeline, job_id: int, record: dict[str, str], now: float) -> None:
        priority = int(record["priority"])
        if not 0 <= priority < 2 ** (53 - _RANK_ID_BITS) or job_id >= 2**_RANK_ID_BITS:
            raise StoreError(f"job {job_id} priority {priority}: outside the rank encoding")
        rank = priority * 2**_RANK_ID_BITS + job_id
        queue = record["queue"]
        fields: dict[EncodableT, EncodableT] = {"id": str(job_id), "rank": str(rank)}
        fields.update(record)
        pipe.hset(self.keys.job(job_id), mapping=fields)
        pipe.zadd(self.keys.per_queue(rk.SCHEDULED, queue), {str(job_id): now})
        pipe.zadd(self.keys.per_queue(rk.CREATED, queue), {str(job_id): now})
        pipe.zadd(self.keys.state_index("pending"), {str(job_id): job_id})
        pipe.sadd(self.keys.queues, queue)

    async def fetch_due(
        self, queue: str | None, now: float, limit: int, lease_seconds: float
    ) -> list[Job]:
        """Re-pend expired leases, promote due jobs, lease by (priority, id): one script."""
        if limit <= 0:
            return []
        with _redis_errors("fetch_due"):
            rows = await self._script(
                "fetch", queue or "", repr(now), repr(now + lease_seconds), limit
            )
        # Without the claims: only dead_letter and requeue need them, and they read the job.
        return [_job_from_hash(_pairs(row), with_claims=False) for row in rows]

    async def complete(
        self, job_id: int, now: float, receipt: Mapping[str, Any] | None = None
    ) -> None:
        """Done, with the receipt; the job expires after the done TTL."""
        await self.complete_many([job_id], now, receipt)

    async def complete_many(
        self, job_ids: Sequence[int], now: float, receipt: Mapping[str, Any] | None = None
    ) -> None:
        """Done, each with the receipt, by one script; the jobs expire after the done TTL."""
        if not job_ids:
            return
        encoded = "" if receipt is None else json.dumps(receipt)
        ttl_ms = max(1, math.ceil(self.done_ttl_seconds * 1000))
        with _redis_errors("complete"):
            await self._script("complete", repr(now), ttl_ms, encoded, *job_ids)

    async def release(self, job_ids: Sequence[int]) -> None:
        """Back to pending, the attempt not counted."""
        if job_ids:
            with _redis_errors("release"):
                await self._script("release", *job_ids)

    async def reschedule(self, job_id: int, due_at: float, error: str) -> None:
        """Pending again at ``due_at``."""
        with _redis_errors("reschedule"):
            await self._script("reschedule", job_id, repr(due_at), error)

    async def dead_letter(self, job_id: int, error: str, now: float) -> None:
        """Bury the job and restore the claims it took, unless newer ones replaced them."""

        async def bury(
            pipe: Pipeline, job: Job, current: Callable[[ClaimKey], ClaimState | None]
        ) -> Mapping[ClaimKey, ClaimState | None]:
            await self._script("bury", job_id, error, repr(now), client=pipe)
            return restored_claims(job, current)

        await self._rewrite_job_and_claims(
            job_id, "dead_letter", now, lambda job: [key for key, _ in job.claims], bury
        )

    async def requeue(self, job_id: int, now: float) -> bool:
        """Dead -> pending, due now, and its claims taken again."""

        async def revive(
            pipe: Pipeline, job: Job, current: Callable[[ClaimKey], ClaimState | None]
        ) -> Mapping[ClaimKey, ClaimState | None]:
            await self._script("requeue", job_id, repr(now), client=pipe)
            return retaken_claims(job, current, now)

        return await self._rewrite_job_and_claims(
            job_id,
            "requeue",
            now,
            lambda job: [key for key, _ in job.taken],
            revive,
            wanted=lambda job: job.state == "dead",
        )

    async def _rewrite_job_and_claims(
        self,
        job_id: int,
        operation: str,
        now: float,
        claims_of: Callable[[Job], list[ClaimKey]],
        write: _Rewrite,
        wanted: Callable[[Job], bool] = lambda job: True,
    ) -> bool:
        """WATCH the job and the claims it names; in one MULTI, let ``write`` queue the job's
        change and write the claim updates it returns; retry on a race. False when the job
        is gone or not ``wanted``."""
        job_name = self.keys.job(job_id)
        with _redis_errors(operation):
            async with self.client.pipeline(transaction=True) as pipe:
                for _ in range(_MAX_TRANSACTION_ATTEMPTS):
                    try:
                        await pipe.watch(job_name)
                        fields = _text_map(await pipe.hgetall(job_name))
                        if not fields:
                            return False
                        job = _job_from_hash(fields)
                        if not wanted(job):
                            return False  # leaving the block resets the pipeline
                        names = {key: self.keys.claim(key) for key in claims_of(job)}
                        current: dict[ClaimKey, ClaimState | None] = {}
                        if names:
                            await pipe.watch(*names.values())
                            stored = await pipe.mget(list(names.values()))
                            current = {
                                key: _decode_claim(raw)
                                for key, raw in zip(names, stored, strict=True)
                            }
                        _begin_transaction(pipe)
                        updates = await write(pipe, job, current.get)
                        for key, state in updates.items():
                            _write_claim(pipe, names[key], state, now)
                        await pipe.execute()
                    except WatchError:
                        continue
                    return True
        raise StoreError(f"{operation} {job_id}: the job kept changing under us; giving up")

    async def get_job(self, job_id: int) -> Job | None:
        """By id; a done job only until its TTL."""
        with _redis_errors("get_job"):
            fields = _text_map(await self.client.hgetall(self.keys.job(job_id)))
        return _job_from_hash(fields) if fields else None

    async def list_jobs(
        self, state: JobState, limit: int = 100, *, newest_first: bool = False
    ) -> list[Job]:
        """Oldest (or newest) first, from the state's index; expired done jobs are dropped."""
        if limit <= 0:
            return []  # ZRANGE 0 -1 would mean everything
        index = self.keys.state_index(state)
        jobs: list[Job] = []
        offset = 0
        with _redis_errors("list_jobs"):
            while len(jobs) < limit:
                job_ids = await self.client.zrange(
                    index, offset, offset + limit - len(jobs) - 1, desc=newest_first
                )
                if not job_ids:
                    break
                async with self.client.pipeline(transaction=False) as pipe:
                    for job_id in job_ids:
                        pipe.hgetall(self.keys.job(str(job_id)))
                    found = await pipe.execute()
                for job_id, fields in zip(job_ids, found, strict=True):
                    if fields:
                        jobs.append(_job_from_hash(_text_map(fields)))
                        offset += 1
                    else:  # expired (done TTL): forget it, and the next one moves up
                        await self.client.zrem(index, str(job_id))
        return jobs

    async def get_claim(self, key: ClaimKey) -> ClaimState | None:
        """The stored claim, until its TTL."""
        with _redis_errors("get_claim"):
            return _decode_claim(await self.client.get(self.keys.claim(key)))

    async def stats(self) -> StoreStats:
        """Cardinalities of the per-queue indexes, in one round trip after the queue list."""
        with _redis_errors("stats"):
            queues = sorted(str(q) for q in await self.client.smembers(self.keys.queues))
            async with self.client.pipeline(transaction=False) as pipe:
                for queue in queues:
                    pipe.zcard(self.keys.per_queue(rk.CREATED, queue))
                    pipe.zcard(self.keys.per_queue(rk.LEASED, queue))
                    pipe.zcard(self.keys.per_queue(rk.DEAD, queue))
                    pipe.zrange(self.keys.per_queue(rk.CREATED, queue), 0, 0, withscores=True)
                replies = await pipe.execute()
        pending: dict[str, int] = {}
        inflight: dict[str, int] = {}
        dead: dict[str, int] = {}
        oldest: dict[str, float] = {}
        for n, queue in enumerate(queues):
            n_pending, n_inflight, n_dead, first = replies[4 * n : 4 * n + 4]
            for counts, count in ((pending, n_pending), (inflight, n_inflight), (dead, n_dead)):
                if count:
                    counts[queue] = int(count)
            if first:
                oldest[queue] = float(first[0][1])
        return StoreStats(pending, inflight, dead, oldest)


def _begin_transaction(pipe: Pipeline) -> None:
    """MULTI after the WATCHed reads: the buffered commands run at EXEC, or none do."""
    pipe.multi()  # type: ignore[no-untyped-call]  # redis-py leaves Pipeline.multi unannotated


@contextlib.contextmanager
def _redis_errors(operation: str) -> Iterator[None]:
    """Redis failures reach callers as StoreError (a 503 for the webhook: Alertmanager retries)."""
    try:
        yield
    except RedisError as exc:
        raise StoreError(f"Redis store {operation}: {exc}") from exc


def _text_map(raw: Mapping[Any, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in raw.items()}


def _pairs(flat: Sequence[Any]) -> dict[str, str]:
    """A Lua HGETALL reply (k1, v1, k2, v2, ...) as a dict."""
    return {str(flat[i]): str(flat[i + 1]) for i in range(0, len(flat), 2)}


def _write_claim(pipe: Pipeline, name: str, state: ClaimState | None, now: float) -> None:
    """Queue the claim stored under key ``name`` (None deletes it)."""
    # TTL relative to the caller's clock (not PEXPIREAT): a replica's clock skew or an
    # injected clock must not expire a live claim; decide() checks expires_at regardless.
    ttl_ms = 0 if state is None else math.ceil((state.expires_at - now) * 1000)
    if state is None or ttl_ms <= 0:
        pipe.delete(name)
    else:
        value = json.dumps([state.status, state.sent_at, state.expires_at])
        pipe.set(name, value, px=ttl_ms)


def _decode_claim(raw: Any) -> ClaimState | None:
    if raw is None:
        return None
    status, sent_at, expires_at = json.loads(raw)
    return ClaimState(status, sent_at, expires_at)


def _job_record(planned: PlannedJob, payload: str, now: float) -> dict[str, str]:
    """A new job's hash fields (less id and rank, known only once ids are handed out)."""
    draft = planned.draft
    return {
        "queue": f"{draft.receiver}/{draft.integration}",
        "receiver": draft.receiver,
        "integration": draft.integration,
        "integration_type": draft.integration_type,
        "priority": str(draft.priority),
        "state": "pending",
        "created_at": repr(now),
        "due_at": repr(now),
        "attempts": "0",
        "payload": payload,
        "claims": encode_claims(planned.claims, planned.taken),
    }


def _job_from_hash(fields: Mapping[str, str], *, with_claims: bool = True) -> Job:
    """The job a hash holds; ``claims`` and ``taken`` left empty unless ``with_claims``."""
    claims, taken = decode_claims(fields["claims"]) if with_claims else ((), ())
    state = cast(JobState, fields["state"])  # only our scripts write it
    finished_at = fields.get("finished_at")
    receipt = fields.get("receipt")
    return Job(
        id=int(fields["id"]),
        receiver=fields["receiver"],
        integration=fields["integration"],
        integration_type=fields["integration_type"],
        priority=int(fields["priority"]),
        state=state,
        created_at=float(fields["created_at"]),
        due_at=float(fields["due_at"]),
        attempts=int(fields["attempts"]),
        payload=load_json(fields["payload"]),
        claims=claims,
        taken=taken,
        last_error=fields.get("last_error"),
        finished_at=None if finished_at is None else float(finished_at),
        receipt=None if receipt is None else json.loads(receipt),
    )
