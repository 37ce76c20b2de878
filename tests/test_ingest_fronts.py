"""``serve --ingest-processes N``: fronts take the webhooks, the serving process commits them.

Real processes on free loopback ports (test_serve_process's helpers). The fronts must answer
exactly as one process does, count in the owner's metrics, follow its reloads, be started
again when they die, and never outlive it.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import os
import signal
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from processes import children
from test_serve_process import (
    FIRST_SENDS,
    RAW,
    TOKEN,
    distinct_alert,
    nowhere_env,
    post,
    read_jobs,
    routing_file,
    serving,
    wait_for,
)

JSON = {"Content-Type": "application/json"}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def samples(client: httpx.Client, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Every sample of metric family ``name`` from /metrics, by its sorted labels."""
    text = client.get("/metrics").text
    found: dict[tuple[tuple[str, str], ...], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def exchange(client: httpx.Client) -> list[tuple[int, Any]]:
    """The same requests in the same order: first sends, resends, a bad body, bad credentials,
    the wrong media type. Each answer's status and body, job ids left out."""
    bodies = [(RAW / f"{name}.body").read_bytes() for name in FIRST_SENDS]
    answers: list[tuple[int, Any]] = []
    requests: list[tuple[bytes, dict[str, str]]] = [(b, JSON) for b in bodies + bodies]
    requests += [
        (b'{"alerts": [{"labels": 5}]}', JSON),
        (bodies[0], {**JSON, "Authorization": "Bearer wrong"}),
        (bodies[0], {"Content-Type": "text/plain"}),
        (b" " * (8 * 1024 * 1024 + 1), JSON),  # over the default size limit
    ]
    for body, headers in requests:
        answer = client.post("/api/v1/alerts", content=body, headers=headers)
        if answer.headers["Content-Type"].startswith("application/json"):
            payload = answer.json()
            payload.pop("jobs", None)
        else:
            payload = answer.text
        answers.append((answer.status_code, payload))
    return answers


def test_a_front_answers_and_counts_as_one_process_does(tmp_path: Path) -> None:
    """Same requests, same answers, same jobs and the same webhook and alert counts."""
    env = nowhere_env()
    config = routing_file(tmp_path)
    seen = {}
    for mode, flags in (("one", ()), ("front", ("--ingest-processes", "1"))):
        folder = tmp_path / mode
        folder.mkdir()
        with serving(folder, "--config", str(config), *flags, env=env) as server:
            with server.client() as client:
                answers = exchange(client)
                counts = (
                    samples(client, "alertrouter_webhooks_received_total"),
                    samples(client, "alertrouter_alerts_received_total"),
                    samples(client, "alertrouter_alerts_suppressed_total"),
                )
                status = server.status()
            seen[mode] = (answers, counts, read_jobs(server.state), status["queue_depth"])
    assert seen["front"] == seen["one"]
    answers, (webhooks, _, _), jobs, _ = seen["front"]
    assert [status for status, _ in answers].count(200) == 2 * len(FIRST_SENDS)
    assert webhooks[(("code", "400"),)] == 1
    assert webhooks[(("code", "413"),)] == 1
    assert len(jobs) == len(FIRST_SENDS)


def test_fronts_commit_concurrent_webhooks_once(tmp_path: Path) -> None:
    """Two fronts: 100 webhooks at once are all committed; 10 copies of one queue one job."""
    env = nowhere_env()
    config = routing_file(tmp_path)
    flags = ("--ingest-processes", "2")
    with serving(tmp_path, "--config", str(config), *flags, env=env) as server:
        assert len(children(server.process.pid)) == 2
        distinct = [distinct_alert(i) for i in range(100)]
        same = [(RAW / "firing_critical.body").read_bytes()] * 10
        with server.client() as client, concurrent.futures.ThreadPoolExecutor(16) as pool:
            firsts = list(pool.map(lambda body: post(client, body), distinct))
            copies = list(pool.map(lambda body: post(client, body), same))
    assert [a["queued"] for a in firsts] == [1] * 100
    assert sorted(a["queued"] for a in copies) == [0] * 9 + [1]
    assert len(read_jobs(server.state)) == 101


def test_a_reload_reaches_the_fronts_before_it_is_answered(tmp_path: Path) -> None:
    """POST /-/reload (through a front) swaps the config the fronts route with, before the
    reload is answered, as with one process."""
    env = nowhere_env()
    config = routing_file(tmp_path)
    fresh = itertools.count()
    flags = ("--config", str(config), "--ingest-processes", "1")
    with serving(tmp_path, *flags, env=env) as server, server.client() as client:

        def queue_of_a_new_warning() -> str:
            answer = post(client, distinct_alert(next(fresh)))
            (job,) = answer["jobs"]
            return next(q for i, (_, q, _) in enumerate(read_jobs(server.state), 1) if i == job)

        assert queue_of_a_new_warning() == "slack-warnings/slack[0]"
        text = config.read_text(encoding="utf-8")
        moved = "      receiver: slack-warnings\n      repeat_interval: 12h\nreceivers"
        assert moved in text
        config.write_text(
            text.replace(moved, moved.replace("slack-warnings", "email-infrastructure")),
            encoding="utf-8",
        )
        reloaded = client.post("/-/reload")
        assert reloaded.status_code == 200, reloaded.text
        # Answered once the fronts route with the new file: the very next webhook does.
        assert queue_of_a_new_warning() == "email-infrastructure/email[0]"


def test_a_front_that_dies_is_started_again(tmp_path: Path) -> None:
    """SIGKILL a front: the owner logs it and starts another, which routes with the owner's
    config even though the file on disk has since been broken; webhooks go through again."""
    env = nowhere_env()
    config = routing_file(tmp_path)
    with serving(tmp_path, "--config", str(config), "--ingest-processes", "1", env=env) as server:
        (front,) = children(server.process.pid)
        config.write_text("route: {receiver: nobody}\n", encoding="utf-8")
        os.kill(front, signal.SIGKILL)
        wait_for("a new front", lambda: children(server.process.pid) not in ([], [front]))
        with server.client() as client:

            def accepted() -> bool:
                try:
                    answer = client.post(
                        "/api/v1/alerts",
                        content=(RAW / "firing_infra.body").read_bytes(),
                        headers=JSON,
                    )
                except httpx.TransportError:
                    return False
                return answer.status_code == 200

            wait_for("a webhook through the new front", accepted)
        assert '"front_exited"' in server.logs()


def test_fronts_do_not_outlive_the_owner(tmp_path: Path) -> None:
    """SIGKILL the serving process: its fronts notice and exit."""
    env = nowhere_env()
    config = routing_file(tmp_path)
    with serving(tmp_path, "--config", str(config), "--ingest-processes", "2", env=env) as server:
        fronts = children(server.process.pid)
        assert len(fronts) == 2
        server.process.kill()
        server.process.wait(timeout=10)
        wait_for("the fronts to exit", lambda: not any(alive(pid) for pid in fronts))


def test_the_webhook_token_is_checked_by_the_front(tmp_path: Path) -> None:
    """No credentials: 401 from the front, counted in the owner."""
    env = nowhere_env()
    config = routing_file(tmp_path)
    with serving(tmp_path, "--config", str(config), "--ingest-processes", "1", env=env) as server:
        with httpx.Client(base_url=server.url, timeout=10) as anonymous:
            answer = anonymous.post(
                "/api/v1/alerts", content=(RAW / "firing_critical.body").read_bytes(), headers=JSON
            )
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        with server.client() as client:
            assert samples(client, "alertrouter_webhooks_received_total")[(("code", "401"),)] == 1
    assert TOKEN not in server.logs()


def test_the_admin_api_through_a_front_knows_the_caller(tmp_path: Path) -> None:
    """Without an admin token the admin API answers loopback callers only: through a front it
    judges the front's client, whatever address the client claims in the front's header."""
    env = nowhere_env()
    config = routing_file(tmp_path)
    flags = ("--config", str(config), "--ingest-processes", "1")
    with serving(tmp_path, *flags, env=env) as server, server.client() as client:
        assert client.get("/api/v1/deliveries").status_code == 200
        claimed = client.get("/api/v1/deliveries", headers={"X-Alertrouter-Client": "203.0.113.9"})
        assert claimed.status_code == 200
