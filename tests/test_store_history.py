"""``Store.find_jobs`` and ``Store.activity`` (what the console asks) on every backend: a
backend's own query (SQLite's SQL) answers exactly what the generic scan answers."""

from __future__ import annotations

import dataclasses

from alertrouter.store.base import Store
from alertrouter.store.query import JobQuery, QueueActivity
from factories import make_draft
from test_store_contract import LEASE, T0, store  # noqa: F401 - store is the backend fixture


async def fill(store: Store) -> list[int]:  # noqa: F811 - the fixture's name, on purpose
    """Twelve jobs over two receivers: four delivered, two dead, one retrying, five pending."""
    ids = []
    for i in range(12):
        receiver, integration, kind = (
            ("slack-warnings", "slack[0]", "slack")
            if i % 2
            else ("pager", "pagerduty[0]", "pagerduty")
        )
        draft = make_draft(
            f"fp{i}", receiver=receiver, integration=integration, integration_type=kind
        )
        outcome = await store.claim_and_enqueue([draft], T0 + i)
        ids.extend(outcome.job_ids)
    leased = {job.id for job in await store.fetch_due(None, T0 + 20, 100, LEASE)}
    assert leased == set(ids)
    for job_id in ids[:4]:
        await store.complete(job_id, T0 + 30, {"status": 200})
    for job_id in ids[4:6]:
        await store.dead_letter(job_id, "clientError: 400", T0 + 31)
    await store.reschedule(ids[6], T0 + 500, "serverError: 503")
    await store.release(ids[7:])
    return ids


QUERIES = [
    JobQuery(),
    JobQuery(limit=3),
    JobQuery(states=("done",)),
    JobQuery(states=("dead", "pending")),
    JobQuery(receiver="pager"),
    JobQuery(integration="slack"),
    JobQuery(integration="pagerduty[0]"),
    JobQuery(alertname="Alert-fp3"),
    JobQuery(fingerprint="fp5"),
    JobQuery(fingerprint='fp"5'),
    JobQuery(since=T0 + 3, until=T0 + 8),
    JobQuery(before_id=None, receiver="slack-warnings", limit=2),
]


async def test_find_jobs_answers_as_the_generic_scan(store: Store) -> None:  # noqa: F811
    """Every filter, alone and together, gives the same jobs, newest first, as the scan."""
    ids = await fill(store)
    for query in [*QUERIES, JobQuery(before_id=ids[5])]:
        own = [job.id for job in await store.find_jobs(query)]
        generic = [job.id for job in await Store.find_jobs(store, query)]
        assert own == generic, query
        assert own == sorted(own, reverse=True)
    assert [job.id for job in await store.find_jobs(JobQuery(fingerprint="fp5"))] == [ids[5]]
    (found,) = await store.find_jobs(dataclasses.replace(QUERIES[0], alertname="Alert-fp0"))
    assert found.receipt == {"status": 200}


async def test_activity_counts_retries_and_the_last_hours_outcomes(store: Store) -> None:  # noqa: F811
    """Retrying jobs with their latest retry time; delivered and dead since the given time."""
    await fill(store)
    own = await store.activity(T0)
    assert {k: v for k, v in own.items() if v != QueueActivity()} == {
        k: v for k, v in (await Store.activity(store, T0)).items() if v != QueueActivity()
    }
    assert own["pager/pagerduty[0]"] == QueueActivity(
        retrying=1, retrying_until=T0 + 500, delivered=2, dead=1
    )
    assert own["slack-warnings/slack[0]"] == QueueActivity(delivered=2, dead=1)
    later = await store.activity(T0 + 100)
    assert later["pager/pagerduty[0]"].delivered == 0
