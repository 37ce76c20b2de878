"""``alertrouter serve`` as a real process: jobs survive SIGKILL, SIGTERM stops cleanly, SIGHUP
reloads, unset secrets refuse to start, and the real Alertmanager posts to it over TLS.

Every process runs on free loopback ports in a temporary folder and is stopped by its PID in a
``finally``. Provider endpoints point at closed loopback ports, so delivery (if workers run)
only ever fails and retries: nothing leaves the machine and queued jobs stay queued.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import ssl
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from alertrouter.payload import alertmanager_fingerprint
from processes import free_port, stop_process

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "config" / "alertrouter.yml"
TOKEN = "process-test-token-7"
SECRET_NAMES = ("PAGERDUTY_SERVICE_KEY", "SLACK_WEBHOOK_URL")
ALERTMANAGER = shutil.which("prometheus-alertmanager") or (
    "/usr/bin/prometheus-alertmanager"
    if os.access("/usr/bin/prometheus-alertmanager", os.X_OK)
    else None
)
CONSOLE_SCRIPT = Path(sys.executable).with_name("alertrouter")
START_TIMEOUT = 15.0


RAW = Path(__file__).parent / "fixtures" / "alertmanager" / "raw"
# First sends of the captured traffic; under the shipped policy each queues exactly one job.
FIRST_SENDS = (
    "firing_critical",
    "firing_warning",
    "firing_infra",
    "grouped_firing",
    "truncated_firing",
    "prometheus_firing",
    "retry_500_attempt",
)


def alertrouter(*args: str) -> list[str]:
    """The command line running the ``alertrouter`` console script of this environment."""
    if CONSOLE_SCRIPT.exists():
        return [str(CONSOLE_SCRIPT), *args]
    runner = "from alertrouter.cli.main import main; raise SystemExit(main())"
    return [sys.executable, "-c", runner, *args]


def base_env(**extra: str) -> dict[str, str]:
    """This environment without any alertrouter settings or secrets, plus ``extra``."""
    dropped = {*SECRET_NAMES, "SENTRY_DSN", "ENVIRONMENT", "ENABLE_METRICS", "PAGERDUTY_URL"}
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("ALERTROUTER_") and k not in dropped
    }
    env.update(ALERTROUTER_LOG_FORMAT="json", **extra)
    return env


def nowhere_env() -> dict[str, str]:
    """Secrets set, webhook token set, and every provider endpoint a closed loopback port."""
    closed = free_port()
    return base_env(
        PAGERDUTY_SERVICE_KEY="pd-process-key",
        PAGERDUTY_URL=f"http://127.0.0.1:{closed}/v2/enqueue",
        SLACK_WEBHOOK_URL=f"http://127.0.0.1:{closed}/slack",
        SMTP_SMARTHOST=f"127.0.0.1:{closed}",
        ALERTROUTER_WEBHOOK_TOKEN=TOKEN,
    )


def routing_file(folder: Path) -> Path:
    """The shipped policy, with PagerDuty's endpoint taken from ${PAGERDUTY_URL}."""
    text = SHIPPED.read_text(encoding="utf-8")
    key_line = "      - routing_key: ${PAGERDUTY_SERVICE_KEY}\n"
    assert key_line in text
    text = text.replace(key_line, key_line + "        url: ${PAGERDUTY_URL}\n")
    path = folder / "alertrouter.yml"
    path.write_text(text, encoding="utf-8")
    return path


def sha256_of(path: Path) -> str:
    """The hash /api/v1/status reports for a routing file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def wait_for(what: str, check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``check`` every 50 ms until true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


@dataclass
class Server:
    """A running ``alertrouter serve``: its process, URL, log file and state file."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path
    state: Path
    verify: ssl.SSLContext | bool = True

    def client(self, **kwargs: Any) -> httpx.Client:
        """An HTTP client for this server, with the webhook token."""
        headers = {"Authorization": f"Bearer {TOKEN}"}
        return httpx.Client(
            base_url=self.url, headers=headers, verify=self.verify, timeout=10, **kwargs
        )

    def logs(self) -> str:
        """Everything the process wrote so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def status(self) -> dict[str, Any]:
        """GET /api/v1/status."""
        with self.client() as client:
            answer = client.get("/api/v1/status")
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def stop(self, sig: signal.Signals, timeout: float = 10.0) -> tuple[int, float]:
        """Send ``sig`` to the process; its exit code and how long it took to exit."""
        started = time.monotonic()
        self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        return code, time.monotonic() - started


@contextlib.contextmanager
def serving(
    folder: Path,
    *args: str,
    env: dict[str, str],
    state: Path | None = None,
    tls: tuple[Path, Path, ssl.SSLContext] | None = None,
) -> Iterator[Server]:
    """Start ``alertrouter serve`` and wait until /-/ready; kill it by PID when the block ends."""
    port = free_port()
    state = state or folder / "state.db"
    command = alertrouter(
        "serve", "--listen", f"127.0.0.1:{port}", "--state-url", f"sqlite:///{state}", *args
    )
    verify: ssl.SSLContext | bool = True
    if tls is not None:
        cert, key, verify = tls
        command += ["--tls-cert-file", str(cert), "--tls-key-file", str(key)]
    log = folder / f"alertrouter-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env=env, cwd=folder, stdout=output, stderr=subprocess.STDOUT
        )
    scheme = "https" if tls is not None else "http"
    server = Server(process, f"{scheme}://127.0.0.1:{port}", log, state, verify)
    try:
        with httpx.Client(verify=verify, timeout=2) as probe:

            def ready() -> bool:
                if process.poll() is not None:
                    pytest.fail(f"alertrouter exited with {process.returncode}:\n{server.logs()}")
                try:
                    return probe.get(f"{server.url}/-/ready").status_code == 200
                except httpx.TransportError:
                    return False

            wait_for("alertrouter to be ready", ready, START_TIMEOUT)
        yield server
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def read_jobs(state: Path) -> list[tuple[str, str, tuple[tuple[str, str], ...]]]:
    """Every job in the SQLite file, opened read-only: state, queue, (fingerprint, status)s."""
    uri = f"file:{state}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
        rows = connection.execute(
            "SELECT state, queue, payload FROM jobs JOIN job_bodies USING (id) ORDER BY id"
        ).fetchall()
    return [
        (
            row_state,
            queue,
            tuple(sorted((a["fingerprint"], a["status"]) for a in json.loads(payload)["alerts"])),
        )
        for row_state, queue, payload in rows
    ]


def distinct_alert(index: int) -> bytes:
    """firing_warning about a distinct instance: one Slack job of its own."""
    body = json.loads((RAW / "firing_warning.body").read_bytes())
    alert = body["alerts"][0]
    alert["labels"]["instance"] = f"durable-{index}:8080"
    alert["fingerprint"] = alertmanager_fingerprint(alert["labels"])
    return json.dumps(body, separators=(",", ":")).encode() + b"\n"


def post(client: httpx.Client, body: bytes) -> dict[str, Any]:
    """POST one webhook body; it must be accepted."""
    answer = client.post(
        "/api/v1/alerts", content=body, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_queued_jobs_survive_sigkill_and_resends_stay_harmless(tmp_path: Path) -> None:
    """Jobs answered with 200 survive SIGKILL once each; after restart resends queue nothing."""
    env = nowhere_env()
    config = routing_file(tmp_path)
    bodies = [(RAW / f"{name}.body").read_bytes() for name in FIRST_SENDS]
    bodies += [distinct_alert(i) for i in range(20)]
    with serving(tmp_path, "--config", str(config), env=env) as server:
        with server.client() as client:
            answers = [post(client, body) for body in bodies]
        server.process.kill()  # right after the last 200: no drain, no checkpoint
        server.process.wait(timeout=10)
    assert [a["queued"] for a in answers] == [1] * len(bodies)

    jobs = read_jobs(server.state)
    assert len(jobs) == len(bodies)
    contents = Counter((queue, alerts) for _, queue, alerts in jobs)
    assert max(contents.values()) == 1, "a job was stored twice"
    assert {state for state, _, _ in jobs} <= {"pending", "inflight"}

    restart = serving(tmp_path, "--config", str(config), env=env, state=server.state)
    with restart as restarted:
        status = restarted.status()
        assert (status["queue_depth"], status["dead_letters"]) == (len(bodies), 0)
        with restarted.client() as client:
            for body in bodies:
                answer = post(client, body)
                assert (answer["queued"], answer["suppressed"]) == (0, answer["accepted"])
        assert restarted.status()["queue_depth"] == len(bodies)
        code, _ = restarted.stop(signal.SIGTERM)
        assert code == 0
    assert Counter((q, a) for _, q, a in read_jobs(server.state)) == contents


def test_sigterm_exits_zero_promptly_and_closes_the_store(tmp_path: Path) -> None:
    """On SIGTERM serve drains, exits 0 within seconds, and leaves the SQLite WAL checkpointed."""
    env = nowhere_env()
    config = routing_file(tmp_path)
    with serving(tmp_path, "--config", str(config), env=env) as server:
        with server.client() as client:
            assert post(client, (RAW / "firing_critical.body").read_bytes())["queued"] == 1
        code, took = server.stop(signal.SIGTERM)
    assert code == 0, server.logs()
    assert took < 5.0, f"took {took:.1f}s to stop"
    wal = server.state.with_name(server.state.name + "-wal")
    assert not wal.exists(), "WAL left behind: the store was not closed cleanly"
    assert "service_stopped" in server.logs()
    assert len(read_jobs(server.state)) == 1


def test_sighup_reloads_the_routing_file(tmp_path: Path) -> None:
    """SIGHUP loads the changed file (new sha256); an invalid one is refused, the old one kept."""
    env = nowhere_env()
    config = routing_file(tmp_path)
    with serving(tmp_path, "--config", str(config), env=env) as server:
        first = sha256_of(config)
        assert server.status()["config"]["sha256"] == first

        config.write_text(config.read_text(encoding="utf-8") + "# changed\n", encoding="utf-8")
        second = sha256_of(config)
        server.process.send_signal(signal.SIGHUP)
        wait_for("the reload", lambda: server.status()["config"]["sha256"] == second)

        config.write_text("route: {receiver: nobody}\n", encoding="utf-8")
        server.process.send_signal(signal.SIGHUP)
        wait_for(
            "the refused reload",
            lambda: server.status()["config"]["last_reload_successful"] is False,
        )
        assert server.status()["config"]["sha256"] == second
        assert "config_reload_failed" in server.logs()
        with server.client() as client:
            assert post(client, (RAW / "firing_warning.body").read_bytes())["queued"] == 1
        code, _ = server.stop(signal.SIGTERM)
        assert code == 0


def test_unset_secrets_refuse_to_start_unless_dry_run(tmp_path: Path) -> None:
    """Without its secrets serve exits 1 naming both; with --dry-run it starts and serves."""
    env = base_env()
    state = tmp_path / "refused.db"
    finished = subprocess.run(
        alertrouter(
            "serve",
            "--config",
            str(SHIPPED),
            "--listen",
            f"127.0.0.1:{free_port()}",
            "--state-url",
            f"sqlite:///{state}",
        ),
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert finished.returncode == 1, finished.stderr
    for name in SECRET_NAMES:
        assert name in finished.stderr
    assert "--dry-run" in finished.stderr
    assert "Traceback" not in finished.stderr
    assert not state.exists()

    with serving(tmp_path, "--config", str(SHIPPED), "--dry-run", env=env) as server:
        status = server.status()
        assert status["dry_run"] is True
        assert status["config"]["sha256"] == sha256_of(SHIPPED)
        with server.client() as client:
            assert post(client, (RAW / "firing_critical.body").read_bytes())["accepted"] == 1
        code, _ = server.stop(signal.SIGTERM)
        assert code == 0


ALERTMANAGER_CONFIG = """\
route:
  receiver: alertrouter
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: alertrouter
    webhook_configs:
      - url: {url}/api/v1/alerts
        send_resolved: true
        http_config:
          tls_config:
            ca_file: {ca}
          authorization:
            credentials: {token}
"""


@pytest.mark.skipif(
    ALERTMANAGER is None,
    reason="prometheus-alertmanager not installed (Debian package; CI installs it)",
)
def test_the_real_alertmanager_posts_over_tls(tmp_path: Path) -> None:
    """Alertmanager 0.25 posts over HTTPS with a bearer token, and alertrouter queues the page."""
    assert ALERTMANAGER is not None
    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1", "localhost")
    ca, cert, key = tmp_path / "ca.pem", tmp_path / "server.pem", tmp_path / "server.key"
    authority.cert_pem.write_to_path(str(ca))
    issued.private_key_pem.write_to_path(str(key))
    for index, blob in enumerate(issued.cert_chain_pems):
        blob.write_to_path(str(cert), append=index > 0)
    trust = ssl.create_default_context()
    authority.configure_trust(trust)

    env = nowhere_env()
    config = routing_file(tmp_path)
    tls = (cert, key, trust)
    with serving(tmp_path, "--config", str(config), env=env, tls=tls) as server:
        am_port = free_port()
        am_config = tmp_path / "alertmanager.yml"
        am_config.write_text(
            ALERTMANAGER_CONFIG.format(url=server.url, ca=ca, token=TOKEN), encoding="utf-8"
        )
        am_log = tmp_path / "alertmanager.log"
        with am_log.open("wb") as output:
            am = subprocess.Popen(
                [
                    ALERTMANAGER,
                    f"--config.file={am_config}",
                    f"--storage.path={tmp_path / 'alertmanager-data'}",
                    f"--web.listen-address=127.0.0.1:{am_port}",
                    "--cluster.listen-address=",
                ],
                cwd=tmp_path,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{am_port}", timeout=5) as am_api:

                def am_ready() -> bool:
                    if am.poll() is not None:
                        pytest.fail(f"alertmanager exited:\n{am_log.read_text(errors='replace')}")
                    try:
                        return am_api.get("/-/ready").status_code == 200
                    except httpx.TransportError:
                        return False

                wait_for("alertmanager to be ready", am_ready, START_TIMEOUT)
                labels = {"alertname": "TLSPathWorks", "severity": "critical", "instance": "tls-1"}
                pushed = am_api.post(
                    "/api/v2/alerts",
                    json=[{"labels": labels, "annotations": {"summary": "over TLS"}}],
                )
                assert pushed.status_code == 200, pushed.text

            queue = "pagerduty-critical/pagerduty[0]"
            wait_for(
                f"alertrouter to queue the page\n{server.logs()}",
                lambda: queue in server.status()["queues"],
                timeout=20,
            )
            (job,) = [j for j in read_jobs(server.state) if j[1] == queue]
            assert job[2] == ((alertmanager_fingerprint(labels), "firing"),)
            accepted = [
                json.loads(line)
                for line in server.logs().splitlines()
                if '"webhook_accepted"' in line
            ]
            assert [(e["group_key"], e["queued"]) for e in accepted] == [
                ('{}:{alertname="TLSPathWorks"}', 1)
            ]
        finally:
            stop_process(am)
        code, _ = server.stop(signal.SIGTERM)
        assert code == 0
