"""Front units: the wire form, the payloads a front encodes ahead of the store step, and the
owner's private socket folder."""

from __future__ import annotations

import dataclasses
import os
import pickle
import stat
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alertrouter.config.loader import load_routing_config
from alertrouter.frontend.link import from_wire, to_wire
from alertrouter.frontend.owner import socket_folder
from alertrouter.ingest import draft_jobs
from alertrouter.intake import Intake
from alertrouter.router.dedup import ClaimState, plan_jobs
from alertrouter.router.tree import Router
from alertrouter.store.base import encode_payloads, load_json
from alertrouter.webhook import WebhookPayload

RAW = Path(__file__).parent / "fixtures" / "alertmanager" / "raw"
SHIPPED = Path(__file__).resolve().parent.parent / "config" / "alertrouter.yml"
NOW = 1_790_000_000.0


def intake_of(fixture: str) -> Intake:
    config = load_routing_config(SHIPPED, allow_missing_env=True)
    payload = WebhookPayload.model_validate_json((RAW / f"{fixture}.body").read_bytes())
    firing = sum(a.status == "firing" for a in payload.alerts)
    drafts = draft_jobs(payload, config, Router(config.root), datetime.fromtimestamp(NOW, UTC))
    return Intake(drafts, NOW, payload.groupKey, len(payload.alerts), firing)


def test_an_intake_crosses_the_wire_whole() -> None:
    """Through pickle and back: the same drafts, candidates and counts, payloads added."""
    intake = intake_of("grouped_firing")
    assert len(intake.drafts.drafts) >= 1
    back = from_wire(pickle.loads(pickle.dumps(to_wire(intake))))
    assert back.drafts.drafts == [
        dataclasses.replace(draft, payload=got.payload)
        for draft, got in zip(intake.drafts.drafts, back.drafts.drafts, strict=True)
    ]
    assert list(back.drafts.suppressed) == list(intake.drafts.suppressed)
    assert (back.now, back.group_key, back.alerts, back.firing) == (
        intake.now, intake.group_key, intake.alerts, intake.firing,
    )  # fmt: skip
    assert all(draft.payload is not None for draft in back.drafts.drafts)


def test_a_payload_encoded_ahead_is_what_the_store_would_encode() -> None:
    """Every candidate due: the front's text is used, and equals the store's own encoding.
    One suppressed: the store encodes the due ones itself."""
    intake = intake_of("grouped_firing")
    ahead = from_wire(to_wire(intake)).drafts.drafts
    plain = intake.drafts.drafts
    all_due = plan_jobs(ahead, {}, NOW)
    assert encode_payloads(all_due.jobs) == encode_payloads(plan_jobs(plain, {}, NOW).jobs)
    assert encode_payloads(all_due.jobs) == [draft.payload for draft in ahead]

    draft = next(d for d in ahead if len(d.candidates) > 1)
    recent = ClaimState("firing", NOW - 60, NOW + 3600)
    partly = plan_jobs([draft], {draft.candidates[0].key: recent}, NOW)
    (payload,) = encode_payloads(partly.jobs)
    fingerprints = [alert["fingerprint"] for alert in load_json(payload)["alerts"]]
    assert fingerprints == [c.key.fingerprint for c in draft.candidates[1:]]


def test_socket_folders_are_private_and_those_of_dead_owners_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new folder is 0700 and named after this PID; one of a process that is gone is
    removed, one of a live process is kept."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = tmp_path / f"alertrouter-fronts-{gone.pid}-abc"
    live = tmp_path / f"alertrouter-fronts-{os.getppid()}-def"
    for folder in (stale, live):
        folder.mkdir()
        (folder / "link.sock").touch()
    made = socket_folder()
    assert made.name.startswith(f"alertrouter-fronts-{os.getpid()}-")
    assert stat.S_IMODE(made.stat().st_mode) == 0o700
    assert not stale.exists()
    assert live.exists()
