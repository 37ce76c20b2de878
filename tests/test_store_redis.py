"""RedisStore's own promises, on a real redis-server: replicas sharing claims, leases and rate
limits; keys, TTLs, durability and failures. The shared contract is in test_store_contract.py."""

from __future__ import annotations

import asyncio
import inspect
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

import alertrouter.store.redis.store as redis_store_module
from alertrouter.errors import ConfigError, StoreError
from alertrouter.ratelimit import TokenBucket
from alertrouter.router.dedup import ClaimState
from alertrouter.store.factory import store_from_url
from alertrouter.store.redis import keys as rk
from alertrouter.store.redis.ratelimit import RedisTokenBucket
from alertrouter.store.redis.store import DONE_TTL_SECONDS, RedisStore
from factories import HOUR, QUEUE, RECEIVER, make_candidate, make_draft, make_key
from redis_server import RedisServer, unique_prefix

T0 = 4_000_000_000.0
LEASE = 30.0

OpenStore = Callable[..., Awaitable[RedisStore]]


@pytest.fixture
async def raw(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    """A plain client on the test server, to look at keys behind the store's back."""
    client = aioredis.Redis.from_url(redis_server.url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def open_store(redis_server: RedisServer) -> AsyncIterator[OpenStore]:
    """Opens RedisStores ("replicas") on one fresh prefix unless told otherwise; closes them."""
    prefix = unique_prefix()
    opened: list[RedisStore] = []

    async def open_one(url: str = redis_server.url, **kw: Any) -> RedisStore:
        store = RedisStore(url, prefix=kw.pop("prefix", prefix), **kw)
        await store.open()
        opened.append(store)
        return store

    try:
        yield open_one
    finally:
        for store in opened:
            await store.close()


# --- replicas ---------------------------------------------------------------------------------


async def test_one_replica_at_a_time_delivers_a_queue(open_store: OpenStore) -> None:
    """A held queue is refused to another replica until released or its hold expires."""
    a, b = await open_store(), await open_store()
    assert await a.hold_queue(QUEUE, "a", 30)
    assert not await b.hold_queue(QUEUE, "b", 30)
    await b.release_queue(QUEUE, "b")  # not b's to release: a keeps it
    assert not await b.hold_queue(QUEUE, "b", 30)
    await a.release_queue(QUEUE, "a")
    assert await b.hold_queue(QUEUE, "b", 0.2)
    await asyncio.sleep(0.3)
    assert await a.hold_queue(QUEUE, "a", 30)


async def test_two_replicas_claiming_the_same_webhook_queue_it_once(
    open_store: OpenStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twenty concurrent claims of one webhook through two replicas create exactly one job."""
    planned = 0
    real_plan_jobs = redis_store_module.plan_jobs

    def counting_plan_jobs(*args: Any) -> Any:
        nonlocal planned
        planned += 1
        return real_plan_jobs(*args)

    monkeypatch.setattr(redis_store_module, "plan_jobs", counting_plan_jobs)
    replicas = [await open_store(), await open_store()]
    drafts = [make_draft("a", "b")]
    outcomes = await asyncio.gather(
        *(replicas[n % 2].claim_and_enqueue(drafts, T0) for n in range(20))
    )
    job_ids = [job_id for outcome in outcomes for job_id in outcome.job_ids]
    assert len(job_ids) == 1
    assert [s for o in outcomes for s in o.suppressed] == [(RECEIVER, "repeat_interval")] * 38
    assert [job.id for job in await replicas[1].list_jobs("pending")] == job_ids
    assert planned > 20  # the race happened: losers re-planned after a WatchError


async def test_two_replicas_never_lease_the_same_job(open_store: OpenStore) -> None:
    """Concurrent fetches from two replicas lease every job exactly once between them."""
    first, second = await open_store(), await open_store()
    drafts = [make_draft(f"fp{n}", integration=f"slack[{n % 4}]") for n in range(40)]
    created = (await first.claim_and_enqueue(drafts, T0)).job_ids
    batches = await asyncio.gather(
        *((first, second)[n % 2].fetch_due(None, T0, 3, LEASE) for n in range(20))
    )
    leased = [job.id for batch in batches for job in batch]
    assert sorted(leased) == sorted(created)
    assert (await second.stats()).inflight == {f"{RECEIVER}/slack[{n}]": 10 for n in range(4)}


async def test_an_expired_lease_is_taken_over_by_the_other_replica(
    open_store: OpenStore,
) -> None:
    """A job leased by a replica that went quiet is re-leased by another once the lease ends."""
    crashed, survivor = await open_store(), await open_store()
    job = (await crashed.claim_and_enqueue([make_draft("a")], T0)).job_ids[0]
    assert [j.id for j in await crashed.fetch_due(QUEUE, T0, 10, LEASE)] == [job]
    assert await survivor.fetch_due(QUEUE, T0 + LEASE - 1, 10, LEASE) == []
    (taken,) = await survivor.fetch_due(QUEUE, T0 + LEASE + 1, 10, LEASE)
    assert (taken.id, taken.state, taken.attempts) == (job, "inflight", 2)
    await survivor.complete(job, T0 + LEASE + 2, {"status": 200})
    assert (await crashed.stats()).inflight == {}


async def test_a_job_promoted_by_a_replica_ahead_in_time_waits_for_our_clock(
    open_store: OpenStore,
) -> None:
    """A job made ready by a replica whose clock runs ahead is not leased early by another."""
    ahead, behind = await open_store(), await open_store()
    x, y = (await ahead.claim_and_enqueue([make_draft("x"), make_draft("y")], T0)).job_ids
    await ahead.fetch_due(None, T0, 10, LEASE)
    await ahead.reschedule(x, T0 + 50, "429")
    await ahead.reschedule(y, T0 + 50, "429")
    assert [j.id for j in await ahead.fetch_due(None, T0 + 60, 1, LEASE)] == [x]
    assert await behind.fetch_due(None, T0 + 40, 10, LEASE) == []
    assert [j.id for j in await behind.fetch_due(None, T0 + 50, 10, LEASE)] == [y]


# --- the shared token bucket ------------------------------------------------------------------


class FakeTime:
    """An injected clock whose sleep advances it, so bucket tests never wait for real."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def clock(self) -> float:
        """The current fake time."""
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Record the wait and let the time pass."""
        self.slept.append(seconds)
        self.now += seconds


async def test_shared_bucket_gives_the_burst_then_the_rate_across_replicas(
    open_store: OpenStore,
) -> None:
    """Two replicas' buckets for one queue share a burst of 2 and then 1 token per second."""
    time = FakeTime()
    first, second = await open_store(), await open_store()
    buckets = [
        RedisTokenBucket(store.client, QUEUE, 1.0, 2, prefix=store.keys.prefix,
                         clock=time.clock, sleep=time.sleep)
        for store in (first, second)
    ]  # fmt: skip
    await buckets[0].acquire()
    await buckets[1].acquire()
    assert time.slept == []
    assert await buckets[0].delay() == pytest.approx(1.0)
    await buckets[1].acquire()
    await buckets[0].acquire()
    assert time.slept == pytest.approx([1.0, 1.0])


async def test_shared_bucket_hold_stops_every_replica(open_store: OpenStore) -> None:
    """A Retry-After hold taken by one replica keeps the other's bucket closed as long."""
    time = FakeTime()
    first, second = await open_store(), await open_store()
    one = RedisTokenBucket(first.client, QUEUE, 10.0, 5, prefix=first.keys.prefix,
                           clock=time.clock, sleep=time.sleep)  # fmt: skip
    other = RedisTokenBucket(second.client, QUEUE, 10.0, 5, prefix=second.keys.prefix,
                             clock=time.clock, sleep=time.sleep)  # fmt: skip
    await one.hold(3)
    assert await other.delay() == pytest.approx(3)
    await other.acquire()
    assert time.slept == pytest.approx([3])
    assert await one.delay() == pytest.approx(0.1)  # then the rate: nothing saved up during it


async def either(value: Any) -> Any:
    """The value, awaited if need be: TokenBucket.delay/hold may become async (RateLimiter)."""
    return await value if inspect.isawaitable(value) else value


async def test_shared_bucket_matches_the_local_token_bucket(open_store: OpenStore) -> None:
    """The Lua bucket answers like delivery.ratelimit.TokenBucket over a sequence of calls."""
    store = await open_store()
    now = [500.0]
    local = TokenBucket(2.0, 3, clock=lambda: now[0])
    shared = RedisTokenBucket(store.client, "q", 2.0, 3, prefix=store.keys.prefix,
                              clock=lambda: now[0])  # fmt: skip
    steps: list[tuple[float, str, float]] = [
        (0.0, "take", 0), (0.0, "take", 0), (0.1, "take", 0), (0.1, "delay", 0),
        (0.5, "take", 0), (0.2, "hold", 1.5), (0.4, "delay", 0), (1.2, "take", 0),
        (3.0, "delay", 0), (0.0, "take", 0), (0.0, "take", 0), (0.0, "delay", 0),
    ]  # fmt: skip
    for advance, op, seconds in steps:
        now[0] += advance
        if op == "hold":
            await either(local.hold(seconds))
            await shared.hold(seconds)
        elif op == "take" and await either(local.delay()) == 0:
            await local.acquire()
            await shared.acquire()
        expected = await either(local.delay())
        assert await shared.delay() == pytest.approx(expected, abs=1e-9), (advance, op)


async def test_shared_bucket_uses_the_redis_clock_by_default(open_store: OpenStore) -> None:
    """Without an injected clock the bucket runs on Redis TIME: 50/s, burst 2, four takes."""
    store = await open_store()
    bucket = store.rate_limiter(QUEUE, 50.0, 2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for _ in range(4):
        await bucket.acquire()
    assert loop.time() - started >= 0.035  # two tokens at 20 ms each, less timer slack
    assert 0 < await bucket.delay() <= 0.02


# --- keys and TTLs ----------------------------------------------------------------------------


async def test_every_key_lives_under_the_prefix_with_a_known_name(
    open_store: OpenStore, raw: aioredis.Redis
) -> None:
    """Whatever the store writes is named by store.redis.keys under the store's prefix."""
    store = await open_store()
    a, b, c = (
        await store.claim_and_enqueue([make_draft(x, integration=f"slack[{n}]")
                                       for n, x in enumerate("abc")], T0)
    ).job_ids  # fmt: skip
    await store.fetch_due(None, T0, 10, LEASE)
    await store.complete(a, T0 + 1)
    await store.dead_letter(b, "boom", T0 + 1)
    await store.reschedule(c, T0 + 9, "later")
    await store.rate_limiter(QUEUE, 1, 1).acquire()
    found = [key async for key in raw.scan_iter(match=f"{store.keys.prefix}*")]
    names = {key.removeprefix(store.keys.prefix).partition(":")[0] + ":" for key in found}
    assert names <= {
        rk.CLAIM, rk.JOB, rk.READY, rk.SCHEDULED, rk.LEASED, rk.CREATED, rk.DEAD,
        rk.STATE_INDEX, rk.BUCKET, rk.QUEUES + ":", rk.JOB_IDS + ":",
    }  # fmt: skip
    assert store.keys.claim(make_key("b")) not in found  # the dead letter gave it back
    assert store.keys.claim(make_key("a")) in found


async def test_claims_expire_after_twice_the_repeat_interval(
    open_store: OpenStore, raw: aioredis.Redis
) -> None:
    """A claim's TTL is its expiry measured from the caller's clock, not the Unix epoch."""
    store = await open_store()
    early = 1_000_000.0  # an injected clock far behind the wall clock
    await store.claim_and_enqueue([make_draft("a")], early)
    ttl_ms = await raw.pttl(store.keys.claim(make_key("a")))
    assert 2 * HOUR * 1000 - 5000 < ttl_ms <= 2 * HOUR * 1000
    assert await store.get_claim(make_key("a")) == ClaimState("firing", early, early + 2 * HOUR)
    assert (await store.claim_and_enqueue([make_draft("a")], early + 1)).job_ids == ()


async def test_done_jobs_expire_and_leave_the_listing(
    open_store: OpenStore, raw: aioredis.Redis
) -> None:
    """A done job keeps its receipt for the done TTL; once expired it is gone from list_jobs."""
    store = await open_store()
    first, second = (
        await store.claim_and_enqueue([make_draft("a"), make_draft("b", integration="x[0]")], T0)
    ).job_ids
    await store.fetch_due(None, T0, 10, LEASE)
    for job_id in (first, second):
        await store.complete(job_id, T0 + 1, {"status": 200})
    ttl_ms = await raw.pttl(store.keys.job(first))
    assert DONE_TTL_SECONDS * 1000 - 5000 < ttl_ms <= DONE_TTL_SECONDS * 1000
    await raw.delete(store.keys.job(first))  # what the TTL does a day later
    assert [job.id for job in await store.list_jobs("done")] == [second]
    assert await raw.zrange(store.keys.state_index("done"), 0, -1) == [str(second)]


async def test_a_dead_letter_keeps_a_done_job_forever(
    open_store: OpenStore, raw: aioredis.Redis
) -> None:
    """Dead-lettering clears any TTL: dead jobs wait for an operator, however long."""
    store = await open_store()
    (job,) = (await store.claim_and_enqueue([make_draft("a")], T0)).job_ids
    await store.fetch_due(None, T0, 10, LEASE)
    await store.complete(job, T0 + 1)
    await store.dead_letter(job, "undeliverable after all", T0 + 2)
    assert await raw.pttl(store.keys.job(job)) == -1
    assert (await store.stats()).dead == {QUEUE: 1}


async def test_any_fingerprint_makes_a_claim(open_store: OpenStore) -> None:
    """Fingerprints are client data: slashes, quotes, non-ASCII and lone surrogates all work."""
    store = await open_store()
    odd = ["a/b", 'q"uote', "été", "\ud800", "x:y"]
    drafts = [make_draft(candidates=[make_candidate(fp)]) for fp in odd]
    outcome = await store.claim_and_enqueue(drafts, T0)
    assert len(outcome.job_ids) == len(odd)
    for fp in odd:
        assert await store.get_claim(make_key(fp)) == ClaimState("firing", T0, T0 + 2 * HOUR)
    jobs = await store.list_jobs("pending")
    assert [job.payload["alerts"][0]["fingerprint"] for job in jobs] == odd


# --- durability -------------------------------------------------------------------------------


async def test_data_survives_reconnect(open_store: OpenStore) -> None:
    """Jobs, leases and claims written by one connection are there for the next."""
    first = await open_store()
    (job,) = (await first.claim_and_enqueue([make_draft("a")], T0)).job_ids
    await first.fetch_due(None, T0, 10, LEASE)
    before = await first.get_job(job)
    await first.close()
    second = await open_store()
    assert await second.get_job(job) == before
    assert (await second.claim_and_enqueue([make_draft("a")], T0 + 1)).job_ids == ()
    (later,) = (await second.claim_and_enqueue([make_draft("b")], T0 + 2)).job_ids
    assert later > job


async def test_acknowledged_jobs_survive_a_redis_crash_with_aof(
    tmp_path: Path, open_store: OpenStore
) -> None:
    """With appendfsync always, a job queued before Redis is killed is there after restart."""
    server = RedisServer(data_dir=tmp_path)
    server.start()
    try:
        store = await open_store(server.url)
        (job,) = (await store.claim_and_enqueue([make_draft("a")], T0)).job_ids
        await store.close()
        server.stop(crash=True)
        server.start()
        revived = await open_store(server.url)
        stored = await revived.get_job(job)
        assert stored is not None
        assert stored.state == "pending"
        assert await revived.get_claim(make_key("a")) == ClaimState("firing", T0, T0 + 2 * HOUR)
        assert [j.id for j in await revived.fetch_due(None, T0, 10, LEASE)] == [job]
    finally:
        server.stop()


async def test_open_warns_when_redis_would_lose_jobs(
    open_store: OpenStore, caplog: pytest.LogCaptureFixture
) -> None:
    """A Redis without an append-only file is reported at open as redis_not_durable."""
    caplog.set_level(logging.WARNING, logger="alertrouter.store.redis.store")
    await open_store()
    assert [r.getMessage() for r in caplog.records] == ["redis_not_durable"]


# --- failures and configuration ---------------------------------------------------------------


async def test_unreachable_redis_fails_open_without_leaking_the_password(tmp_path: Path) -> None:
    """open raises StoreError naming the host but not the password."""
    server = RedisServer()
    server.start()
    url = f"redis://:hunter2@127.0.0.1:{server.port}/0"
    server.stop()
    store = RedisStore(url)
    with pytest.raises(StoreError, match=r"127\.0\.0\.1") as caught:
        await store.open()
    assert "hunter2" not in str(caught.value)
    assert "hunter2" not in repr(store)
    await store.close()


async def test_operations_raise_store_error_when_redis_goes_away(
    open_store: OpenStore,
) -> None:
    """Once Redis is gone every call raises StoreError (a 503: Alertmanager retries)."""
    server = RedisServer()
    server.start()
    try:
        store = await open_store(server.url)
        await store.ping()
    finally:
        server.stop()
    with pytest.raises(StoreError):
        await store.ping()
    with pytest.raises(StoreError):
        await store.claim_and_enqueue([make_draft("a")], T0)
    with pytest.raises(StoreError):
        await store.fetch_due(None, T0, 1, LEASE)


async def test_calls_before_open_raise_store_error() -> None:
    """A store never opened says so instead of failing obscurely."""
    with pytest.raises(StoreError, match="not open"):
        await RedisStore("redis://127.0.0.1:1/0").ping()


def test_store_from_url_builds_redis_stores() -> None:
    """``redis://`` and ``rediss://`` (TLS) give a RedisStore for that URL."""
    for url in ("redis://127.0.0.1:6379/0", "rediss://cache.example:6380/1"):
        store = store_from_url(url)
        assert isinstance(store, RedisStore)
        assert store.url == url


def test_store_from_url_without_the_redis_package_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the redis extra missing, a redis:// URL is a ConfigError naming alertrouter[redis]."""
    monkeypatch.setitem(sys.modules, "redis", None)  # what a base install looks like
    monkeypatch.delitem(sys.modules, "alertrouter.store.redis.store")
    with pytest.raises(ConfigError, match=r"install alertrouter\[redis\]") as caught:
        store_from_url("redis://:hunter2@cache.example:6379/0")
    assert "hunter2" not in str(caught.value)


async def test_every_replica_hears_of_jobs_another_committed(open_store: OpenStore) -> None:
    """claim_and_enqueue on one replica announces its queues to another's listen()."""
    a, b = await open_store(), await open_store()
    heard: list[list[str]] = []
    listening = asyncio.create_task(b.listen(heard.append))
    try:
        await asyncio.sleep(0.2)  # subscribed
        await a.claim_and_enqueue([make_draft("x")], 1_000.0)
        for _ in range(100):
            if heard:
                break
            await asyncio.sleep(0.02)
        assert heard == [[QUEUE]]
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)
