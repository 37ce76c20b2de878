"""Dedup decisions (design.md §4) and the planner that turns drafts into jobs and claims."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from alertrouter.router.dedup import ClaimKey, ClaimState, Decision, decide, plan_jobs
from factories import HOUR, RECEIVER, AlertStatus, make_candidate, make_draft, make_key

RI = HOUR  # the matched route's repeat_interval
SENT = 1_000_000.0  # when the stored claim was sent


def firing(sent_at: float = SENT) -> ClaimState:
    """A live firing claim, sent at ``sent_at``."""
    return ClaimState("firing", sent_at, sent_at + 2 * RI)


def resolved(sent_at: float = SENT) -> ClaimState:
    """A live resolved claim, sent at ``sent_at``."""
    return ClaimState("resolved", sent_at, sent_at + 2 * RI)


# --- decide(): the §4 table, row by row -------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One row of the table: stored state, incoming status and time, and the expected decision."""

    previous: ClaimState | None
    status: AlertStatus
    now: float
    send_resolved: bool
    expected: Decision


TABLE: dict[str, Row] = {
    "none-firing-notifies-first": Row(
        None, "firing", SENT, True, Decision(True, None, ClaimState("firing", SENT, SENT + 2 * RI))
    ),
    "none-resolved-suppressed-never-notified": Row(
        None, "resolved", SENT, True, Decision(False, "never_notified", None)
    ),
    "firing-firing-within-interval-suppressed": Row(
        firing(),
        "firing",
        SENT + RI / 2,
        True,
        # The claim is refreshed (new expiry) but keeps the time it was last sent.
        Decision(False, "repeat_interval", ClaimState("firing", SENT, SENT + RI / 2 + 2 * RI)),
    ),
    "firing-firing-at-exactly-interval-suppressed": Row(
        firing(),
        "firing",
        SENT + RI,
        True,
        Decision(False, "repeat_interval", ClaimState("firing", SENT, SENT + RI + 2 * RI)),
    ),
    "firing-firing-past-interval-notifies": Row(
        firing(),
        "firing",
        SENT + RI + 1,
        True,
        Decision(True, None, ClaimState("firing", SENT + RI + 1, SENT + RI + 1 + 2 * RI)),
    ),
    "firing-resolved-send-resolved-notifies": Row(
        firing(),
        "resolved",
        SENT + 60,
        True,
        Decision(True, None, ClaimState("resolved", SENT + 60, SENT + 60 + 2 * RI)),
    ),
    "firing-resolved-send-resolved-off-suppressed-state-resolved": Row(
        firing(),
        "resolved",
        SENT + 60,
        False,
        Decision(
            False,
            "send_resolved_disabled",
            ClaimState("resolved", SENT + 60, SENT + 60 + 2 * RI),
        ),
    ),
    "resolved-firing-notifies-even-within-interval": Row(
        resolved(),
        "firing",
        SENT + 60,
        True,
        Decision(True, None, ClaimState("firing", SENT + 60, SENT + 60 + 2 * RI)),
    ),
    "resolved-resolved-suppressed-duplicate": Row(
        resolved(),
        "resolved",
        SENT + 60,
        True,
        Decision(False, "already_resolved", ClaimState("resolved", SENT, SENT + 60 + 2 * RI)),
    ),
}


@pytest.mark.parametrize("row", list(TABLE.values()), ids=list(TABLE))
def test_decide_table(row: Row) -> None:
    """Each row of design.md §4's table gives its notify/suppress result and next claim."""
    assert decide(row.previous, row.status, row.now, RI, row.send_resolved) == row.expected


@pytest.mark.parametrize("status", ["firing", "resolved"])
def test_decide_every_stored_claim_expires_two_repeat_intervals_later(status: AlertStatus) -> None:
    """Whatever the outcome, the claim written expires 2 × repeat_interval after this decision."""
    for previous in (None, firing(), resolved()):
        decision = decide(previous, status, SENT + 10, RI, True)
        if decision.new_state is not None:
            assert decision.new_state.expires_at == SENT + 10 + 2 * RI


# --- expiry: after 2x repeat_interval without a refresh, the state counts as none ------------


def test_decide_resolve_before_expiry_is_sent() -> None:
    """A resolve just under 2 × repeat_interval after the last refresh still sees the firing."""
    decision = decide(firing(), "resolved", SENT + 2 * RI - 1, RI, True)
    assert decision.notify


def test_decide_resolve_after_expiry_is_treated_as_never_notified() -> None:
    """A resolve after the firing claim expired is suppressed as if nothing had been sent."""
    decision = decide(firing(), "resolved", SENT + 2 * RI + 1, RI, True)
    assert decision == Decision(False, "never_notified", None)


def test_decide_duplicate_resolve_after_expiry_deletes_the_claim() -> None:
    """An expired resolved claim counts as none: a repeated resolve drops it rather than refresh."""
    decision = decide(resolved(), "resolved", SENT + 2 * RI + 1, RI, True)
    assert decision == Decision(False, "never_notified", None)


def test_decide_expired_firing_claim_notifies_even_if_recently_sent() -> None:
    """An expired claim is ignored even when its sent_at is within repeat_interval."""
    previous = ClaimState("firing", sent_at=SENT, expires_at=SENT + 30)
    decision = decide(previous, "firing", SENT + 60, RI, True)
    assert decision == Decision(True, None, ClaimState("firing", SENT + 60, SENT + 60 + 2 * RI))


def test_decide_suppressed_repeat_refreshes_the_expiry() -> None:
    """A suppressed repeat refreshes the claim: a resolve after its first expiry is still sent."""
    refreshed = decide(firing(), "firing", SENT + RI - 1, RI, True)
    assert not refreshed.notify
    decision = decide(refreshed.new_state, "resolved", SENT + 2 * RI + 1, RI, True)
    assert decision.notify


# --- send_resolved and the resolved -> firing transition -------------------------------------


def test_decide_send_resolved_off_then_firing_again_notifies() -> None:
    """With send_resolved off the resolve is silent, but the state is resolved so a refire
    notifies at once."""
    silent = decide(firing(), "resolved", SENT + 60, RI, False)
    assert not silent.notify
    assert silent.new_state is not None
    assert silent.new_state.status == "resolved"
    duplicate = decide(silent.new_state, "resolved", SENT + 120, RI, False)
    assert duplicate.reason == "already_resolved"
    refire = decide(duplicate.new_state, "firing", SENT + 180, RI, False)
    assert refire.notify
    assert refire.new_state == ClaimState("firing", SENT + 180, SENT + 180 + 2 * RI)


def test_decide_firing_resolved_firing_notifies_every_transition() -> None:
    """Firing, resolved, firing again within one repeat_interval: three notifications."""
    first = decide(None, "firing", SENT, RI, True)
    resolve = decide(first.new_state, "resolved", SENT + 10, RI, True)
    refire = decide(resolve.new_state, "firing", SENT + 20, RI, True)
    assert (first.notify, resolve.notify, refire.notify) == (True, True, True)


# --- plan_jobs() ------------------------------------------------------------------------------

NOW = SENT + RI / 2  # within repeat_interval of SENT


def test_plan_one_job_per_draft_holding_exactly_the_due_alerts() -> None:
    """Each draft with due alerts becomes one job with exactly those alerts, in draft order."""
    slack = make_draft("a", "b", "c")
    email = make_draft("a", "d", receiver="email-infra", integration="email[0]")
    states: dict[ClaimKey, ClaimState | None] = {make_key("b"): firing()}
    plan = plan_jobs([slack, email], states, NOW)
    assert [job.draft for job in plan.jobs] == [slack, email]
    assert [[alert["fingerprint"] for alert in job.alerts] for job in plan.jobs] == [
        ["a", "c"],
        ["a", "d"],
    ]
    assert plan.jobs[0].alerts[0] is slack.candidates[0].alert


def test_plan_draft_with_no_due_alerts_makes_no_job() -> None:
    """A draft whose every alert is suppressed produces no job, while the others still do."""
    quiet = make_draft("a", "b")
    loud = make_draft("c", integration="slack[1]")
    states: dict[ClaimKey, ClaimState | None] = {make_key("a"): firing(), make_key("b"): firing()}
    plan = plan_jobs([quiet, loud], states, NOW)
    assert [job.draft for job in plan.jobs] == [loud]
    assert plan.suppressed == [(RECEIVER, "repeat_interval"), (RECEIVER, "repeat_interval")]


def test_plan_empty_batch_is_empty() -> None:
    """No drafts: no jobs, no updates, nothing suppressed."""
    plan = plan_jobs([], {}, NOW)
    assert (plan.jobs, plan.updates, plan.suppressed) == ([], {}, [])


def test_plan_same_key_twice_in_one_batch_notifies_once() -> None:
    """The second offer of the same alert to the same integration in one batch is suppressed."""
    draft = make_draft("a")
    states: dict[ClaimKey, ClaimState | None] = {}
    plan = plan_jobs([draft, draft], states, NOW)
    assert len(plan.jobs) == 1
    assert plan.jobs[0].claims == {make_key("a"): None}
    assert plan.suppressed == [(RECEIVER, "repeat_interval")]
    assert states[make_key("a")] == ClaimState("firing", NOW, NOW + 2 * RI)


def test_plan_same_key_twice_in_one_draft_is_listed_once() -> None:
    """An alert repeated inside one draft appears once in the job."""
    draft = make_draft("a", "a")
    plan = plan_jobs([draft], {}, NOW)
    assert [alert["fingerprint"] for alert in plan.jobs[0].alerts] == ["a"]
    assert plan.suppressed == [(RECEIVER, "repeat_interval")]


def test_plan_records_claims_with_their_previous_state() -> None:
    """A job's claims map each due alert's key to the state before this step, and only those."""
    candidates = [
        make_candidate("new"),
        make_candidate("refire"),
        make_candidate("resolve", "resolved"),
        make_candidate("repeat"),
    ]
    states: dict[ClaimKey, ClaimState | None] = {
        make_key("refire"): resolved(),
        make_key("resolve"): firing(),
        make_key("repeat"): firing(),
    }
    plan = plan_jobs([make_draft(candidates=candidates)], states, NOW)
    (job,) = plan.jobs
    assert job.claims == {
        make_key("new"): None,
        make_key("refire"): resolved(),
        make_key("resolve"): firing(),
    }


def test_plan_updates_hold_every_changed_claim_and_states_are_updated() -> None:
    """``updates`` lists each claim written (None: delete) and ``states`` is updated in place."""
    expired = ClaimState("firing", SENT - 10 * RI, SENT - 8 * RI)
    candidates = [
        make_candidate("new"),
        make_candidate("repeat"),
        make_candidate("gone", "resolved"),
    ]
    states: dict[ClaimKey, ClaimState | None] = {
        make_key("repeat"): firing(),
        make_key("gone"): expired,
    }
    plan = plan_jobs([make_draft(candidates=candidates)], states, NOW)
    expected = {
        make_key("new"): ClaimState("firing", NOW, NOW + 2 * RI),
        make_key("repeat"): ClaimState("firing", SENT, NOW + 2 * RI),
        make_key("gone"): None,
    }
    assert plan.updates == expected
    assert states == expected


def test_plan_unchanged_missing_claim_is_not_an_update() -> None:
    """A resolve for an alert never notified leaves no claim and writes nothing."""
    plan = plan_jobs([make_draft("a", status="resolved")], {}, NOW)
    assert (plan.jobs, plan.updates) == ([], {})
    assert plan.suppressed == [(RECEIVER, "never_notified")]


def test_plan_suppression_reasons_per_receiver() -> None:
    """Each suppressed alert is reported once as (receiver, reason), with §4's reasons."""
    silent = make_draft(
        receiver="email-infra",
        integration="email[0]",
        send_resolved=False,
        candidates=[
            make_candidate("x", "resolved", receiver="email-infra", integration="email[0]")
        ],
    )
    loud = make_draft(
        candidates=[
            make_candidate("never", "resolved"),
            make_candidate("repeat"),
            make_candidate("dup", "resolved"),
        ]
    )
    states: dict[ClaimKey, ClaimState | None] = {
        make_key("x", "email-infra", "email[0]"): firing(),
        make_key("repeat"): firing(),
        make_key("dup"): resolved(),
    }
    plan = plan_jobs([silent, loud], states, NOW)
    assert plan.jobs == []
    assert plan.suppressed == [
        ("email-infra", "send_resolved_disabled"),
        (RECEIVER, "never_notified"),
        (RECEIVER, "repeat_interval"),
        (RECEIVER, "already_resolved"),
    ]
    assert states[make_key("x", "email-infra", "email[0]")] == ClaimState(
        "resolved", NOW, NOW + 2 * RI
    )


def test_plan_uses_each_candidates_own_repeat_interval() -> None:
    """The repeat interval is the candidate's (its matched route's), not a global one."""
    candidates = [
        make_candidate("short", repeat_interval=RI / 4),
        make_candidate("long", repeat_interval=RI),
    ]
    states: dict[ClaimKey, ClaimState | None] = {
        make_key("short"): firing(),
        make_key("long"): firing(),
    }
    plan = plan_jobs([make_draft(candidates=candidates)], states, NOW)
    assert [alert["fingerprint"] for alert in plan.jobs[0].alerts] == ["short"]
    assert states[make_key("short")] == ClaimState("firing", NOW, NOW + RI / 2)
