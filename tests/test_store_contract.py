"""The store contract (store/base.py), run against every backend; then SQLite's own promises.

A backend joins the suite by adding a factory to ``BACKENDS``. Times come from an injected clock:
every call is given ``now`` explicitly, and nothing sleeps.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from alertrouter.errors import StoreError
from alertrouter.router.dedup import ClaimState
from alertrouter.store.base import Job, Store, StoreStats
from alertrouter.store.factory import store_from_url
from alertrouter.store.memory import MemoryStore
from alertrouter.store.redis.store import RedisStore
from alertrouter.store.sqlite.store import SCHEMA_VERSION, SQLiteStore
from factories import (
    HOUR,
    INTEGRATION,
    QUEUE,
    RECEIVER,
    make_alert,
    make_candidate,
    make_draft,
    make_key,
)
from redis_server import shared_redis_server, unique_prefix

RI = HOUR
LEASE = 30.0
# Far past the wall clock on purpose: SQLiteStore sweeps claims against time.time(), not the
# caller's clock (see test_sqlite_claim_sweep_follows_the_callers_clock).
T0 = 4_000_000_000.0

StoreFactory = Callable[[Path], Store]

BACKENDS: dict[str, StoreFactory] = {
    "memory": lambda tmp_path: MemoryStore(),
    "sqlite": lambda tmp_path: SQLiteStore(tmp_path / "state" / "alertrouter.db"),
    # One shared redis-server (started on first use); a fresh key prefix keeps each test apart.
    "redis": lambda tmp_path: RedisStore(shared_redis_server().url, prefix=unique_prefix()),
}


@pytest.fixture(params=list(BACKENDS))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """An opened store of each backend, closed after the test."""
    backend = BACKENDS[request.param](tmp_path)
    await backend.open()
    try:
        yield backend
    finally:
        await backend.close()


async def enqueue_one(store: Store, fingerprint: str = "a", now: float = T0, **kw: Any) -> Job:
    """Claim and enqueue one alert that is due, and return the job it created."""
    outcome = await store.claim_and_enqueue([make_draft(fingerprint, **kw)], now)
    (job_id,) = outcome.job_ids
    job = await store.get_job(job_id)
    assert job is not None
    return job


async def lease_all(store: Store, now: float) -> list[Job]:
    """Lease every due job."""
    return await store.fetch_due(None, now, 100, LEASE)


async def state_of(store: Store, job_id: int) -> str:
    """The state of a job that must exist."""
    job = await store.get_job(job_id)
    assert job is not None
    return job.state


def ids(jobs: list[Job]) -> list[int]:
    """The ids of ``jobs``, in order."""
    return [job.id for job in jobs]


# --- claim_and_enqueue ------------------------------------------------------------------------


async def test_claim_and_enqueue_writes_jobs_and_claims(store: Store) -> None:
    """One call creates a pending job per draft and a claim per due alert."""
    slack = make_draft("a", "b", priority=0)
    email = make_draft(
        "a", receiver="email-infra", integration="email[0]", integration_type="email"
    )
    outcome = await store.claim_and_enqueue([slack, email], T0)
    assert len(outcome.job_ids) == 2
    assert len(set(outcome.job_ids)) == 2
    assert outcome.suppressed == ()
    job = await store.get_job(outcome.job_ids[0])
    assert job == Job(
        id=outcome.job_ids[0],
        receiver=RECEIVER,
        integration=INTEGRATION,
        integration_type="slack",
        priority=0,
        state="pending",
        created_at=T0,
        due_at=T0,
        attempts=0,
        payload={"group": dict(slack.group), "alerts": [make_alert("a"), make_alert("b")]},
        claims=((make_key("a"), None), (make_key("b"), None)),
        taken=(
            (make_key("a"), ClaimState("firing", T0, T0 + 2 * RI)),
            (make_key("b"), ClaimState("firing", T0, T0 + 2 * RI)),
        ),
    )
    assert job.queue == QUEUE
    email_job = await store.get_job(outcome.job_ids[1])
    assert email_job is not None
    assert email_job.queue == "email-infra/email[0]"
    fresh = ClaimState("firing", T0, T0 + 2 * RI)
    assert await store.get_claim(make_key("a")) == fresh
    assert await store.get_claim(make_key("b")) == fresh
    assert await store.get_claim(make_key("a", "email-infra", "email[0]")) == fresh


async def test_repeat_within_repeat_interval_queues_nothing(store: Store) -> None:
    """The same alert again within repeat_interval is suppressed and queues no job."""
    await enqueue_one(store)
    outcome = await store.claim_and_enqueue([make_draft("a")], T0 + RI)
    assert outcome.job_ids == ()
    assert outcome.suppressed == ((RECEIVER, "repeat_interval"),)
    assert len(await store.list_jobs("pending")) == 1
    # The claim is refreshed but keeps its send time.
    assert await store.get_claim(make_key("a")) == ClaimState("firing", T0, T0 + RI + 2 * RI)


async def test_repeat_after_repeat_interval_queues_again(store: Store) -> None:
    """The same alert after repeat_interval is notified again."""
    first = await enqueue_one(store)
    second = await enqueue_one(store, now=T0 + RI + 1)
    assert second.id != first.id
    assert second.claims == ((make_key("a"), ClaimState("firing", T0, T0 + 2 * RI)),)


async def test_resolve_queues_once_and_duplicates_are_suppressed(store: Store) -> None:
    """A resolve after a firing is queued; the repeated resolve is suppressed as a duplicate."""
    await enqueue_one(store)
    resolve = await enqueue_one(store, now=T0 + 10, status="resolved")
    assert resolve.payload["alerts"] == [make_alert("a", "resolved")]
    outcome = await store.claim_and_enqueue([make_draft("a", status="resolved")], T0 + 20)
    assert outcome.job_ids == ()
    assert outcome.suppressed == ((RECEIVER, "already_resolved"),)


async def test_resolve_of_unknown_alert_is_suppressed_without_a_claim(store: Store) -> None:
    """A resolve for an alert never notified queues nothing and stores nothing."""
    outcome = await store.claim_and_enqueue([make_draft("a", status="resolved")], T0)
    assert outcome.job_ids == ()
    assert outcome.suppressed == ((RECEIVER, "never_notified"),)
    assert await store.get_claim(make_key("a")) is None


async def test_send_resolved_off_stores_the_resolve_without_a_job(store: Store) -> None:
    """With send_resolved off a resolve queues nothing but the claim becomes resolved."""
    await enqueue_one(store)
    outcome = await store.claim_and_enqueue(
        [make_draft("a", status="resolved", send_resolved=False)], T0 + 10
    )
    assert outcome.job_ids == ()
    assert outcome.suppressed == ((RECEIVER, "send_resolved_disabled"),)
    assert await store.get_claim(make_key("a")) == ClaimState("resolved", T0 + 10, T0 + 10 + 2 * RI)


async def test_expired_claim_counts_as_none(store: Store) -> None:
    """A claim not refreshed for 2x repeat_interval is forgotten: a late resolve is not sent."""
    await enqueue_one(store)
    outcome = await store.claim_and_enqueue([make_draft("a", status="resolved")], T0 + 2 * RI + 1)
    assert outcome.job_ids == ()
    assert outcome.suppressed == ((RECEIVER, "never_notified"),)
    assert await store.get_claim(make_key("a")) is None


async def test_same_drafts_twice_in_one_call_queue_once(store: Store) -> None:
    """The same draft twice in one step is planned atomically: one job, one suppression."""
    outcome = await store.claim_and_enqueue([make_draft("a"), make_draft("a")], T0)
    assert len(outcome.job_ids) == 1
    assert outcome.suppressed == ((RECEIVER, "repeat_interval"),)


async def test_get_job_and_get_claim_of_unknown_are_none(store: Store) -> None:
    """Unknown job ids and claim keys read as None."""
    assert await store.get_job(12345) is None
    assert await store.get_claim(make_key("nope")) is None


# --- fetch_due and leases ---------------------------------------------------------------------


async def test_fetch_due_leases_a_job(store: Store) -> None:
    """A fetched job is inflight with one attempt, and is not fetched again during its lease."""
    job = await enqueue_one(store)
    (leased,) = await lease_all(store, T0)
    assert (leased.id, leased.state, leased.attempts) == (job.id, "inflight", 1)
    assert leased.payload == job.payload
    stored = await store.get_job(job.id)
    assert stored is not None
    assert (stored.state, stored.attempts) == ("inflight", 1)
    assert await lease_all(store, T0 + LEASE - 1) == []


async def test_fetch_due_takes_a_job_back_after_its_lease_expires(
    store: Store, request: pytest.FixtureRequest
) -> None:
    """An inflight job whose lease ran out is fetched again, with its attempts incremented."""
    job = await enqueue_one(store)
    await lease_all(store, T0)
    again = await lease_all(store, T0 + LEASE + 1)
    assert [(j.id, j.state, j.attempts) for j in again] == [(job.id, "inflight", 2)]
    assert await lease_all(store, T0 + LEASE + 2) == []


async def test_fetch_due_skips_jobs_not_yet_due(store: Store) -> None:
    """A job created at ``t`` is not due before ``t``."""
    await enqueue_one(store, now=T0 + 100)
    assert await lease_all(store, T0 + 99) == []
    assert len(await lease_all(store, T0 + 100)) == 1


async def test_fetch_due_keeps_order_when_the_clock_steps_back(store: Store) -> None:
    """A job made before the wall clock stepped back is not due yet, and holds back the
    later job of its queue (a resolve made after the step never overtakes its trigger)."""
    trigger = await enqueue_one(store, "a", now=T0 + 100)
    resolve = await store.claim_and_enqueue([make_draft("b")], T0 + 50)
    assert await store.fetch_due(QUEUE, T0 + 60, 10, LEASE) == []
    assert await lease_all(store, T0 + 60) == []
    assert ids(await lease_all(store, T0 + 100)) == [trigger.id, *resolve.job_ids]


async def test_fetch_due_orders_by_priority_then_id(store: Store) -> None:
    """Priority 0 comes first, then the lowest id whatever the due times; ``limit`` caps it."""
    drafts = [
        make_draft("a", integration="slack[0]", priority=1),
        make_draft("b", integration="slack[1]", priority=0),
        make_draft("c", integration="slack[2]", priority=1),
        make_draft("d", integration="slack[3]", priority=1),
    ]
    a, b, c, d = (await store.claim_and_enqueue(drafts, T0)).job_ids
    await lease_all(store, T0)
    for job_id, due in ((a, T0 + 8), (b, T0 + 9), (c, T0 + 7), (d, T0 + 6)):
        await store.reschedule(job_id, due, "retry")
    assert ids(await store.fetch_due(None, T0 + 10, 2, LEASE)) == [b, a]
    assert ids(await store.fetch_due(None, T0 + 10, 10, LEASE)) == [c, d]


async def test_fetch_due_keeps_a_retried_job_ahead_of_later_ones(store: Store) -> None:
    """A job waiting for its retry holds back later jobs of its queue, even across a restart
    (nothing in memory), so a resolve never goes out before its trigger."""
    retried = await enqueue_one(store, "a")
    await lease_all(store, T0)
    await store.reschedule(retried.id, T0 + 5, "429")
    newer = await enqueue_one(store, "a", now=T0 + 3, status="resolved")
    other_queue = await enqueue_one(store, "b", now=T0 + 3, integration="email[0]")
    assert ids(await lease_all(store, T0 + 4)) == [other_queue.id]
    assert ids(await lease_all(store, T0 + 5)) == [retried.id, newer.id]


async def test_fetch_due_orders_priority_before_age(store: Store) -> None:
    """A newer critical job is leased before an older non-critical one."""
    old = await enqueue_one(store, "old", priority=1)
    critical = await enqueue_one(store, "critical", now=T0 + 5, priority=0)
    assert ids(await store.fetch_due(None, T0 + 5, 1, LEASE)) == [critical.id]
    assert ids(await store.fetch_due(None, T0 + 5, 1, LEASE)) == [old.id]


async def test_fetch_due_filters_by_queue(store: Store) -> None:
    """With a queue given only that queue's jobs are leased; None means any queue."""
    slack = await enqueue_one(store, "a")
    email = await enqueue_one(store, "a", receiver="email-infra", integration="email[0]")
    assert ids(await store.fetch_due("email-infra/email[0]", T0, 10, LEASE)) == [email.id]
    assert await store.fetch_due("email-infra/email[0]", T0, 10, LEASE) == []
    assert await store.fetch_due("no-such/queue[0]", T0, 10, LEASE) == []
    assert ids(await store.fetch_due(None, T0, 10, LEASE)) == [slack.id]


# --- reschedule, complete ---------------------------------------------------------------------


async def test_reschedule_releases_the_job_until_its_due_time(store: Store) -> None:
    """A rescheduled job is pending with its error, and is not due before ``due_at``."""
    job = await enqueue_one(store)
    await lease_all(store, T0)
    await store.reschedule(job.id, T0 + 60, "503 from Slack")
    stored = await store.get_job(job.id)
    assert stored is not None
    assert (stored.state, stored.due_at, stored.last_error) == (
        "pending",
        T0 + 60,
        "503 from Slack",
    )
    assert await lease_all(store, T0 + 59) == []
    (again,) = await lease_all(store, T0 + 60)
    assert (again.id, again.attempts, again.last_error) == (job.id, 2, "503 from Slack")


async def test_complete_marks_the_job_done_for_good(store: Store) -> None:
    """A completed job is done, stamped, and never fetched again."""
    job = await enqueue_one(store)
    await lease_all(store, T0)
    await store.complete(job.id, T0 + 1)
    stored = await store.get_job(job.id)
    assert stored is not None
    assert (stored.state, stored.finished_at) == ("done", T0 + 1)
    assert await lease_all(store, T0 + 10 * LEASE) == []
    assert ids(await store.list_jobs("done")) == [job.id]


async def test_a_payload_with_a_lone_surrogate_round_trips(store: Store) -> None:
    """Text no UTF-8 can hold (a lone surrogate, from a plugin or an old body) is stored
    and read back as it was, not lost or refused."""
    alert = {**make_alert("odd"), "annotations": {"summary": "broken \ud800 text"}}
    outcome = await store.claim_and_enqueue(
        [make_draft(candidates=[make_candidate("odd", alert=alert)])], T0
    )
    (leased,) = await lease_all(store, T0)
    assert leased.id == outcome.job_ids[0]
    assert leased.payload["alerts"] == [alert]


async def test_complete_many_marks_each_job_done_with_the_receipt(store: Store) -> None:
    """A digest's jobs are completed together: each done, stamped, with the one receipt;
    a job left out stays leased."""
    jobs = [await enqueue_one(store, f"fp{n}", integration=f"slack[{n}]") for n in range(3)]
    await lease_all(store, T0)
    await store.complete_many([jobs[0].id, jobs[2].id], T0 + 1, {"ts": "1.5"})
    for job in (jobs[0], jobs[2]):
        stored = await store.get_job(job.id)
        assert stored is not None
        assert (stored.state, stored.finished_at, stored.receipt) == ("done", T0 + 1, {"ts": "1.5"})
    assert await state_of(store, jobs[1].id) == "inflight"


async def test_complete_keeps_the_receipt(store: Store) -> None:
    """The provider's receipt given to complete is kept on the job; none by default."""
    with_receipt = await enqueue_one(store, "a")
    without = await enqueue_one(store, "b", integration="slack[1]")
    await lease_all(store, T0)
    await store.complete(with_receipt.id, T0 + 1, {"dedup_key": "abc", "status": 202})
    await store.complete(without.id, T0 + 1)
    done = await store.get_job(with_receipt.id)
    assert done is not None
    assert done.receipt == {"dedup_key": "abc", "status": 202}
    plain = await store.get_job(without.id)
    assert plain is not None
    assert plain.receipt is None


async def test_release_returns_leased_jobs_untried(store: Store) -> None:
    """Released jobs are pending at once, with the lease's attempt not counted."""
    first = await enqueue_one(store, "a")
    second = await enqueue_one(store, "b", integration="slack[1]")
    await lease_all(store, T0)
    await store.release([first.id, second.id])
    for job_id in (first.id, second.id):
        released = await store.get_job(job_id)
        assert released is not None
        assert (released.state, released.attempts) == ("pending", 0)
    leased = await lease_all(store, T0 + 1)
    assert [(job.id, job.attempts) for job in leased] == [(first.id, 1), (second.id, 1)]


async def test_release_leaves_jobs_that_are_not_leased(store: Store) -> None:
    """Releasing a pending or finished job changes nothing."""
    pending = await enqueue_one(store, "a")
    done = await enqueue_one(store, "b", integration="slack[1]")
    await store.fetch_due(f"{RECEIVER}/slack[1]", T0, 1, LEASE)
    await store.complete(done.id, T0 + 1)
    await store.release([pending.id, done.id])
    assert await store.get_job(pending.id) == pending
    assert await state_of(store, done.id) == "done"


# --- dead_letter, requeue ---------------------------------------------------------------------


async def test_dead_letter_parks_the_job_and_gives_back_its_claim(store: Store) -> None:
    """A dead job keeps its error, and its alert is notified again by the next webhook."""
    job = await enqueue_one(store)
    await lease_all(store, T0)
    await store.dead_letter(job.id, "401 from PagerDuty", T0 + 1)
    dead = await store.get_job(job.id)
    assert dead is not None
    assert (dead.state, dead.last_error, dead.finished_at) == ("dead", "401 from PagerDuty", T0 + 1)
    assert await store.get_claim(make_key("a")) is None
    retry = await enqueue_one(store, now=T0 + 2)
    assert retry.id != job.id
    assert ids(await lease_all(store, T0 + 10 * LEASE)) == [retry.id]


async def test_dead_letter_gives_back_a_claim_refreshed_by_suppressed_repeats(store: Store) -> None:
    """Repeats suppressed while the job waited do not stop the dead letter from undoing it."""
    job = await enqueue_one(store)
    suppressed = await store.claim_and_enqueue([make_draft("a")], T0 + 10)
    assert suppressed.job_ids == ()
    await store.dead_letter(job.id, "boom", T0 + 20)
    assert await store.get_claim(make_key("a")) is None
    assert len((await store.claim_and_enqueue([make_draft("a")], T0 + 30)).job_ids) == 1


async def test_dead_letter_restores_the_previous_claim(store: Store) -> None:
    """A dead resolve puts the firing claim back, so the next resolve is sent again."""
    firing = await enqueue_one(store)
    await lease_all(store, T0)
    await store.complete(firing.id, T0 + 1)
    resolve = await enqueue_one(store, now=T0 + 10, status="resolved")
    assert resolve.claims == ((make_key("a"), ClaimState("firing", T0, T0 + 2 * RI)),)
    await store.dead_letter(resolve.id, "boom", T0 + 11)
    assert await store.get_claim(make_key("a")) == ClaimState("firing", T0, T0 + 2 * RI)
    again = await enqueue_one(store, now=T0 + 20, status="resolved")
    assert again.id != resolve.id


async def test_dead_letter_keeps_a_newer_claim(store: Store) -> None:
    """A claim taken by a newer job is not undone when the older job dies."""
    old = await enqueue_one(store)
    await lease_all(store, T0)
    new = await enqueue_one(store, now=T0 + RI + 1)
    await store.dead_letter(old.id, "boom", T0 + RI + 2)
    newer = ClaimState("firing", T0 + RI + 1, T0 + RI + 1 + 2 * RI)
    assert await store.get_claim(make_key("a")) == newer
    outcome = await store.claim_and_enqueue([make_draft("a")], T0 + RI + 3)
    assert outcome.job_ids == ()
    stored = await store.get_job(new.id)
    assert stored is not None
    assert stored.state == "pending"


async def test_dead_letter_undoes_only_its_own_alerts(store: Store) -> None:
    """Dead-lettering one integration's job leaves another integration's claim for the alert."""
    slack = await enqueue_one(store)
    await enqueue_one(store, receiver="email-infra", integration="email[0]")
    await store.dead_letter(slack.id, "boom", T0 + 1)
    assert await store.get_claim(make_key("a")) is None
    assert await store.get_claim(make_key("a", "email-infra", "email[0]")) is not None


async def test_requeue_revives_a_dead_job(store: Store) -> None:
    """A dead job goes back to pending, due now with no attempts, and is delivered again."""
    job = await enqueue_one(store)
    await lease_all(store, T0)
    await store.dead_letter(job.id, "boom", T0 + 1)
    assert await store.requeue(job.id, T0 + 100) is True
    revived = await store.get_job(job.id)
    assert revived is not None
    assert (revived.state, revived.due_at, revived.attempts, revived.finished_at) == (
        "pending",
        T0 + 100,
        0,
        None,
    )
    assert await lease_all(store, T0 + 99) == []
    (leased,) = await lease_all(store, T0 + 100)
    assert (leased.id, leased.attempts) == (job.id, 1)


async def test_requeue_refuses_jobs_that_are_not_dead(store: Store) -> None:
    """Requeue is False for pending, inflight, done and unknown jobs, and changes nothing."""
    pending = await enqueue_one(store, "p")
    inflight = await enqueue_one(store, "i", integration="slack[1]")
    await store.fetch_due("slack-warnings/slack[1]", T0, 1, LEASE)
    done = await enqueue_one(store, "d", integration="slack[2]")
    await store.fetch_due("slack-warnings/slack[2]", T0, 1, LEASE)
    await store.complete(done.id, T0 + 1)
    for job_id in (pending.id, inflight.id, done.id, 9999):
        assert await store.requeue(job_id, T0 + 2) is False
    assert [await state_of(store, j.id) for j in (pending, inflight, done)] == [
        "pending",
        "inflight",
        "done",
    ]


# --- list_jobs, stats, ping -------------------------------------------------------------------


async def test_list_jobs_per_state_oldest_first(store: Store) -> None:
    """Each state lists its own jobs by id, up to ``limit``."""
    drafts = [make_draft(fp, integration=f"slack[{n}]") for n, fp in enumerate("abcdef")]
    a, b, c, d, e, f = (await store.claim_and_enqueue(drafts, T0)).job_ids
    for n in (0, 2, 4):  # lease a, c and e
        await store.fetch_due(f"{RECEIVER}/slack[{n}]", T0, 1, LEASE)
    await store.complete(a, T0 + 1)
    await store.dead_letter(c, "boom", T0 + 1)
    assert ids(await store.list_jobs("pending")) == [b, d, f]
    assert ids(await store.list_jobs("pending", limit=2)) == [b, d]
    assert ids(await store.list_jobs("inflight")) == [e]
    assert ids(await store.list_jobs("done")) == [a]
    assert ids(await store.list_jobs("dead")) == [c]


async def test_list_jobs_newest_first_takes_the_newest(store: Store) -> None:
    """newest_first lists the ``limit`` most recent jobs of a state, most recent first."""
    drafts = [make_draft(fp, integration=f"slack[{n}]") for n, fp in enumerate("abcd")]
    a, b, c, d = (await store.claim_and_enqueue(drafts, T0)).job_ids
    assert ids(await store.list_jobs("pending", newest_first=True)) == [d, c, b, a]
    assert ids(await store.list_jobs("pending", limit=2, newest_first=True)) == [d, c]


async def test_stats_count_jobs_per_queue(store: Store) -> None:
    """Pending, inflight and dead are counted per queue, with the oldest pending creation time."""
    assert await store.stats() == StoreStats()
    email = {"receiver": "email-infra", "integration": "email[0]"}
    await enqueue_one(store, "a", now=T0 + 1)
    await enqueue_one(store, "b", now=T0 + 5)
    await enqueue_one(store, "c", now=T0 + 7)
    e1 = await enqueue_one(store, "a", now=T0 + 2, **email)
    e2 = await enqueue_one(store, "b", now=T0 + 3, **email)
    e3 = await enqueue_one(store, "c", now=T0 + 4, **email)
    e4 = await enqueue_one(store, "d", now=T0 + 4, **email)
    leased = await store.fetch_due("email-infra/email[0]", T0 + 10, 3, LEASE)
    assert ids(leased) == [e1.id, e2.id, e3.id]
    await store.dead_letter(e1.id, "boom", T0 + 11)
    await store.complete(e2.id, T0 + 11)
    stats = await store.stats()
    assert stats == StoreStats(
        pending={QUEUE: 3, "email-infra/email[0]": 1},
        inflight={"email-infra/email[0]": 1},
        dead={"email-infra/email[0]": 1},
        oldest_pending_created_at={QUEUE: T0 + 1, "email-infra/email[0]": e4.created_at},
    )


async def test_a_replayed_dead_letter_takes_its_claim_again(store: Store) -> None:
    """After requeue, the alert counts as notified again: its resolve is due, a repeat is not."""
    job = await enqueue_one(store, "a")
    await store.fetch_due(QUEUE, T0, 10, 60)
    await store.dead_letter(job.id, "clientError: 400", T0 + 1)
    assert await store.get_claim(make_key("a")) is None
    assert await store.requeue(job.id, T0 + 2)
    # sent when the job was made; remembered as long as a fresh claim would be
    assert await store.get_claim(make_key("a")) == ClaimState("firing", T0, T0 + 2 + 2 * RI)
    repeat = await store.claim_and_enqueue([make_draft("a")], T0 + 3)
    assert repeat.job_ids == ()
    resolve = await store.claim_and_enqueue([make_draft("a", status="resolved")], T0 + 4)
    assert len(resolve.job_ids) == 1


async def test_a_replayed_dead_letter_leaves_a_newer_claim_alone(store: Store) -> None:
    """A claim taken after the dead-lettered job by a later webhook is not overwritten."""
    job = await enqueue_one(store, "a")
    await store.fetch_due(QUEUE, T0, 10, 60)
    await store.dead_letter(job.id, "clientError: 400", T0 + 1)
    later = await store.claim_and_enqueue([make_draft("a")], T0 + 5)
    assert len(later.job_ids) == 1
    assert await store.requeue(job.id, T0 + 6)
    assert await store.get_claim(make_key("a")) == ClaimState("firing", T0 + 5, T0 + 5 + 2 * RI)


async def test_ping_answers(store: Store) -> None:
    """An open store answers ping without raising."""
    await store.ping()


async def test_a_lone_owner_holds_and_renews_its_queue(store: Store) -> None:
    """The first owner gets the queue, keeps it on renewal, and can give it up."""
    assert await store.hold_queue(QUEUE, "replica-a", 30)
    assert await store.hold_queue(QUEUE, "replica-a", 30)
    await store.release_queue(QUEUE, "replica-a")
    assert await store.hold_queue(QUEUE, "replica-a", 30)


# --- SQLite only ------------------------------------------------------------------------------


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the SQLite-only tests keep their file."""
    return tmp_path / "alertrouter.db"


async def open_sqlite(path: Path) -> SQLiteStore:
    """An opened SQLiteStore at ``path``."""
    sqlite_store = SQLiteStore(path)
    await sqlite_store.open()
    return sqlite_store


async def test_sqlite_data_survives_close_and_reopen(db_path: Path) -> None:
    """Jobs and claims written before close are there after reopening the file."""
    first = await open_sqlite(db_path)
    job = await enqueue_one(first)
    await first.close()
    second = await open_sqlite(db_path)
    try:
        assert await second.get_job(job.id) == job
        assert await second.get_claim(make_key("a")) == ClaimState("firing", T0, T0 + 2 * RI)
        outcome = await second.claim_and_enqueue([make_draft("a")], T0 + 1)
        assert outcome.job_ids == ()
        later = await enqueue_one(second, "b", now=T0 + 2)
        assert later.id > job.id
    finally:
        await second.close()


async def test_sqlite_inflight_jobs_are_pending_after_reopen(db_path: Path) -> None:
    """Jobs leased by a process that went away are pending again, due as before, when reopened."""
    first = await open_sqlite(db_path)
    job = await enqueue_one(first)
    await lease_all(first, T0)
    await first.close()
    second = await open_sqlite(db_path)
    try:
        stored = await second.get_job(job.id)
        assert stored is not None
        assert (stored.state, stored.due_at, stored.attempts) == ("pending", T0, 1)
        (leased,) = await lease_all(second, T0)
        assert (leased.id, leased.attempts) == (job.id, 2)
    finally:
        await second.close()


async def test_sqlite_uses_wal(db_path: Path) -> None:
    """The file is in WAL journal mode."""
    await (await open_sqlite(db_path)).close()
    with sqlite3.connect(db_path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    connection.close()


async def test_sqlite_records_schema_version(db_path: Path) -> None:
    """The schema version table holds the current version, once, and reopening keeps it."""
    await (await open_sqlite(db_path)).close()
    await (await open_sqlite(db_path)).close()
    with sqlite3.connect(db_path) as connection:
        rows = connection.execute("SELECT version FROM schema_version").fetchall()
    connection.close()
    assert rows == [(SCHEMA_VERSION,)]


async def test_sqlite_refuses_a_newer_schema_version(db_path: Path) -> None:
    """A file written by a newer alertrouter is refused with a StoreError naming its version."""
    await (await open_sqlite(db_path)).close()
    newer = SCHEMA_VERSION + 41
    with sqlite3.connect(db_path) as connection:
        connection.execute("UPDATE schema_version SET version = ?", (newer,))
    connection.close()
    refused = SQLiteStore(db_path)
    with pytest.raises(StoreError, match=f"schema version {newer}"):
        await refused.open()
    await refused.close()


async def test_sqlite_concurrent_identical_webhooks_queue_one_job(db_path: Path) -> None:
    """Fifty concurrent claims of the same drafts yield exactly one job between them."""
    sqlite_store = await open_sqlite(db_path)
    try:
        drafts = [make_draft("a", "b")]
        outcomes = await asyncio.gather(
            *(sqlite_store.claim_and_enqueue(drafts, T0) for _ in range(50))
        )
        job_ids = [job_id for outcome in outcomes for job_id in outcome.job_ids]
        assert len(job_ids) == 1
        suppressed = [s for outcome in outcomes for s in outcome.suppressed]
        assert suppressed == [(RECEIVER, "repeat_interval")] * 49 * 2
        assert ids(await sqlite_store.list_jobs("pending")) == job_ids
    finally:
        await sqlite_store.close()


async def test_sqlite_concurrent_distinct_webhooks_queue_one_job_each(db_path: Path) -> None:
    """Fifty concurrent claims of different alerts yield fifty distinct jobs."""
    sqlite_store = await open_sqlite(db_path)
    try:
        outcomes = await asyncio.gather(
            *(sqlite_store.claim_and_enqueue([make_draft(f"fp{n}")], T0) for n in range(50))
        )
        job_ids = [job_id for outcome in outcomes for job_id in outcome.job_ids]
        assert len(set(job_ids)) == 50
        assert (await sqlite_store.stats()).pending == {QUEUE: 50}
        jobs = await sqlite_store.list_jobs("pending")
        assert sorted(job.payload["alerts"][0]["fingerprint"] for job in jobs) == sorted(
            f"fp{n}" for n in range(50)
        )
    finally:
        await sqlite_store.close()


async def test_sqlite_failing_operation_fails_only_its_caller(db_path: Path) -> None:
    """A draft that cannot be stored fails its own call, leaves no claim, and spares its batch."""
    sqlite_store = await open_sqlite(db_path)
    try:
        bad_alert = {**make_alert("bad"), "extra": object()}  # not JSON-serialisable
        bad = make_draft(candidates=[make_candidate("bad", alert=bad_alert)])
        calls = [sqlite_store.claim_and_enqueue([make_draft(f"ok{n}")], T0) for n in range(5)]
        calls.insert(2, sqlite_store.claim_and_enqueue([bad], T0))
        results = await asyncio.gather(*calls, return_exceptions=True)
        assert isinstance(results[2], TypeError)
        assert [r for n, r in enumerate(results) if n != 2 and isinstance(r, BaseException)] == []
        assert len(await sqlite_store.list_jobs("pending")) == 5
        assert await sqlite_store.get_claim(make_key("bad")) is None
        assert await sqlite_store.get_claim(make_key("ok0")) is not None
        await sqlite_store.ping()
    finally:
        await sqlite_store.close()


async def test_sqlite_claim_sweep_follows_the_callers_clock(db_path: Path) -> None:
    """Claims live by the caller's clock: one taken at an injected time stays until it expires."""
    sqlite_store = await open_sqlite(db_path)
    try:
        early = 1_000_000.0  # an injected clock far behind the wall clock
        await enqueue_one(sqlite_store, now=early)
        outcome = await sqlite_store.claim_and_enqueue([make_draft("a")], early + 1)
        assert outcome.job_ids == ()
    finally:
        await sqlite_store.close()


async def test_sqlite_operation_after_close_raises(db_path: Path) -> None:
    """A call on a closed store raises StoreError instead of waiting forever."""
    sqlite_store = await open_sqlite(db_path)
    await sqlite_store.close()
    with pytest.raises(StoreError):
        await asyncio.wait_for(sqlite_store.ping(), timeout=1)


async def test_sqlite_operation_before_open_raises(db_path: Path) -> None:
    """A call on a store never opened raises StoreError."""
    with pytest.raises(StoreError, match="not open"):
        await SQLiteStore(db_path).ping()


def test_store_from_url_picks_the_backend(tmp_path: Path) -> None:
    """``sqlite:////abs`` gives a SQLiteStore at that absolute path; ``memory://`` a MemoryStore."""
    sqlite_store = store_from_url(f"sqlite:///{tmp_path}/x.db")
    assert isinstance(sqlite_store, SQLiteStore)
    assert sqlite_store.path == tmp_path / "x.db"
    assert isinstance(store_from_url("memory://"), MemoryStore)
