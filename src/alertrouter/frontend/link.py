"""What the owner and its fronts say to each other, and how: pickled lists of messages, each
list one length-prefixed frame, so a turn of the event loop costs one write."""

from __future__ import annotations

import asyncio
import pickle
import socket
import struct
import time
from typing import Any, NamedTuple

from alertrouter.config.settings import Settings
from alertrouter.ingest import Drafts
from alertrouter.intake import Committed, Intake
from alertrouter.router.dedup import Candidate, ClaimKey, JobDraft
from alertrouter.store.base import encode_draft_payloads

__all__ = [
    "ConfigText",
    "Done",
    "Hello",
    "Outbox",
    "Reload",
    "Reloaded",
    "Served",
    "Take",
    "from_wire",
    "read_frame",
    "read_frame_blocking",
    "to_wire",
]

_HEADER = struct.Struct("!I")
_HOLD_SECONDS = 0.0005


class Hello(NamedTuple):
    """Owner to front, first: the settings and routing file to serve with, and where the
    owner's HTTP is."""

    settings: Settings
    owner_http: str  # path of the owner's HTTP Unix socket
    config: ConfigText


class Take(NamedTuple):
    """Front to owner: commit this intake (request ``seq`` of the front), in ``to_wire`` form."""

    seq: int
    request_id: str
    intake: tuple[Any, ...]


class Done(NamedTuple):
    """Owner to front: what became of ``Take`` ``seq``; ``committed`` None when it failed,
    with the status one process would answer (503: the store; 500: anything else)."""

    seq: int
    committed: Committed | None
    status: int
    error: str


class Served(NamedTuple):
    """Front to owner: a webhook request the front answered, for the owner's metrics."""

    method: str
    endpoint: str
    status: int
    seconds: float


class Reload(NamedTuple):
    """Owner to front: the owner swapped in this routing file; route with it too."""

    generation: int
    config: ConfigText


class Reloaded(NamedTuple):
    """Front to owner: it routes with ``Reload`` ``generation`` (or a newer one) now; or why
    not (``error``)."""

    generation: int
    error: str


class ConfigText(NamedTuple):
    """The routing file as the owner read and validated it, so a front parses the same text
    rather than the file, which may have changed since. (Files it names, such as ``*_file``
    secrets, are read again.)"""

    text: str
    file: str


def to_wire(intake: Intake) -> tuple[Any, ...]:
    """``intake`` as plain tuples, lists and dicts: pickled in about a fifth of the time of
    its named tuples and dataclasses (each of those is a class lookup and a call). Each
    draft's payload is encoded here, ahead: the front has time to spare, the owner's store
    step has none."""
    planned = intake.drafts.drafts
    drafts = [
        (
            draft.receiver, draft.integration, draft.integration_type, draft.send_resolved,
            draft.priority, draft.group,
            [(*c.key, c.status, c.repeat_interval, c.alert) for c in draft.candidates],
            payload,
        )
        for draft, payload in zip(planned, encode_draft_payloads(planned), strict=True)
    ]  # fmt: skip
    suppressed = list(intake.drafts.suppressed)
    return (drafts, suppressed, intake.now, intake.group_key, intake.alerts, intake.firing)


def from_wire(wire: tuple[Any, ...]) -> Intake:
    """The ``Intake`` that ``to_wire`` was given."""
    drafts, suppressed, now, group_key, alerts, firing = wire
    rebuilt = [
        JobDraft(
            receiver, integration, integration_type, send_resolved, priority, group,
            [
                Candidate(ClaimKey(r, i, fingerprint), status, repeat_interval, alert)
                for r, i, fingerprint, status, repeat_interval, alert in candidates
            ],
            payload,
        )
        for (receiver, integration, integration_type, send_resolved, priority, group,
             candidates, payload) in drafts
    ]  # fmt: skip
    return Intake(Drafts(rebuilt, suppressed), now, group_key, alerts, firing)


def _frame(messages: list[Any]) -> bytes:
    data = pickle.dumps(messages, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(data)) + data


async def read_frame(reader: asyncio.StreamReader) -> list[Any]:
    """The next frame's messages; IncompleteReadError when the other side has gone."""
    (length,) = _HEADER.unpack(await reader.readexactly(_HEADER.size))
    messages: list[Any] = pickle.loads(await reader.readexactly(length))
    return messages


def read_frame_blocking(connection: socket.socket) -> list[Any]:
    """``read_frame`` on a blocking socket (a front reads its Hello before its loop runs)."""

    def exactly(size: int) -> bytes:
        data = bytearray()
        while len(data) < size:
            chunk = connection.recv(size - len(data))
            if not chunk:
                raise ConnectionError("the owner closed the link")
            data += chunk
        return bytes(data)

    (length,) = _HEADER.unpack(exactly(_HEADER.size))
    messages: list[Any] = pickle.loads(exactly(length))
    return messages


class Outbox:
    """Messages for one peer, written together: at the end of the current loop turn, or as
    soon as the first of them has waited ``_HOLD_SECONDS``. A turn that takes several 20-alert
    webhooks lasts milliseconds, and holding each Take that long keeps the other process idle
    meanwhile; a frame per message costs two system calls and a wake-up at either end."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self._messages: list[Any] = []
        self._since = 0.0

    def put(self, message: Any) -> None:
        """Queue ``message``; write what is queued if it has waited long enough."""
        messages = self._messages
        messages.append(message)
        if len(messages) == 1:
            self._since = time.perf_counter()
            asyncio.get_running_loop().call_soon(self._flush)
        elif time.perf_counter() - self._since > _HOLD_SECONDS:
            self._flush()

    def send_now(self, messages: list[Any]) -> None:
        """Write ``messages`` as their own frame at once."""
        self.writer.write(_frame(messages))

    def _flush(self) -> None:
        messages, self._messages = self._messages, []
        if messages and not self.writer.is_closing():
            self.writer.write(_frame(messages))
