"""The Grafana dashboard's queries against the real Prometheus, scraping a real alertrouter.

One stack per module: fake Slack and PagerDuty and alertrouter (in-process, delivery workers on,
SQLite state) run on an event loop in a background thread; Prometheus (Debian's binary) scrapes
alertrouter every second. Captured Alertmanager webhooks go in while the fakes answer one 400
(a dead letter) and one 500 (retried, then delivered), and the routing file is reloaded once, so
every panel, for each receiver, has real traffic to show.
"""

from __future__ import annotations

import asyncio
import json
import math
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestServer

from alertrouter.app import make_app
from alertrouter.config.loader import load_routing_config
from alertrouter.config.settings import Settings
from fakes.http import ScriptedAnswer
from fakes.pagerduty import FakePagerDuty
from fakes.slack import FakeSlack
from processes import free_port, stop_process
from test_monitoring import (
    VARIABLE_VALUES,
    annotation_queries,
    dashboard_queries,
    load_dashboard,
    substitute_variables,
)

PROMETHEUS = shutil.which("prometheus") or shutil.which("prometheus", path="/usr/bin")
PROMTOOL = shutil.which("promtool") or shutil.which("promtool", path="/usr/bin")
RAW = Path(__file__).parent / "fixtures" / "alertmanager" / "raw"
TOKEN = "dashboard-test-token"
DEADLINE = 30.0  # seconds for any one wait below; the whole module takes about 10

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        PROMETHEUS is None,
        reason="prometheus is not installed (Debian's prometheus package; .ci/run installs it)",
    ),
    pytest.mark.skipif(
        not RAW.is_dir(), reason="the captured Alertmanager fixtures (raw/*.body) are missing"
    ),
]

ROUTING = """\
route:
  receiver: slack-warnings
  repeat_interval: 1h
  routes:
    - matchers: ['severity="critical"']
      receiver: pagerduty-critical
receivers:
  - name: pagerduty-critical
    pagerduty_configs:
      - routing_key: {routing_key}
        url: {pagerduty_url}
        retry: {{initial: 100ms, max_interval: 200ms}}
  - name: slack-warnings
    slack_configs:
      - api_url: {slack_url}
        channel: '#alerts'
        retry: {{initial: 100ms, max_interval: 200ms}}
"""

# Panels whose values the tests check, by title.
DELIVERED = "Notifications delivered by receiver"
FAILED = "Failed notifications by receiver and reason"
LATENCY = "Delivery latency (queued to delivered)"
RATIO = "Failure ratio by integration"
QUEUE = "Queue depth by integration"
DEAD = "Dead letters by integration"

# The traffic, by hand: firing_critical and firing_infra are critical (one PagerDuty job per
# alert), firing_warning and grouped_firing go to Slack (one message per webhook group). The
# first PagerDuty event is answered 400 (dead-lettered: a failed notification); the second
# PagerDuty event's first 500 and Slack's first 500 are retried and delivered (failed requests,
# not failed notifications). So PagerDuty's failure ratio is 1/2, though 2 of its 3 requests
# failed.
ATTEMPTED = {"pagerduty-critical": 2, "slack-warnings": 2}
FAILED_NOTIFICATIONS = {"pagerduty-critical": 1, "slack-warnings": 0}
INTEGRATION = {"pagerduty-critical": "pagerduty", "slack-warnings": "slack"}
RECEIVERS = (".*", "pagerduty-critical", "slack-warnings")  # $receiver: All, then each one

# Windows longer than the module's life: every rate() and increase() covers all the traffic, and
# since every series starts at 0 in the first scrape, a ratio of rates is the ratio of counts.
LIVE_VALUES = {**VARIABLE_VALUES, "__rate_interval": "1h", "__interval": "1h", "__range": "1h"}


def live_values(receiver: str) -> dict[str, str]:
    """The variables with $receiver set (``.*`` is Grafana's All)."""
    return {**LIVE_VALUES, "receiver": receiver}


@dataclass
class Stack:
    """alertrouter and its fakes on a background event loop, and Prometheus scraping it."""

    workdir: Path
    alertrouter_url: str = ""
    prometheus_url: str = ""
    slack: FakeSlack | None = None
    pagerduty: FakePagerDuty | None = None
    _thread: threading.Thread | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _stop: asyncio.Event | None = None
    _ready: threading.Event = field(default_factory=threading.Event)
    _error: BaseException | None = None
    _prometheus: subprocess.Popen[bytes] | None = None

    # -- alertrouter and the fakes, in a thread ---------------------------------------------------

    def start_alertrouter(self) -> None:
        """Start the loop thread; return once alertrouter answers (or raise what went wrong)."""
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True)
        self._thread.start()
        if not self._ready.wait(DEADLINE):
            raise TimeoutError("alertrouter did not start")
        if self._error is not None:
            raise self._error

    async def _serve(self) -> None:
        try:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            async with FakeSlack() as slack, FakePagerDuty() as pagerduty:
                self.slack, self.pagerduty = slack, pagerduty
                path = self.workdir / "alertrouter.yml"
                path.write_text(
                    ROUTING.format(
                        routing_key="k" * 32,
                        pagerduty_url=pagerduty.events_url,
                        slack_url=slack.webhook_url(),
                    ),
                    encoding="utf-8",
                )
                settings = Settings(
                    config_path=str(path),
                    state_url=f"sqlite:///{self.workdir / 'state.db'}",
                    webhook_token=TOKEN,
                )
                app = make_app(settings, load_routing_config(path), deliver=True)
                server = TestServer(app, host="127.0.0.1")
                await server.start_server()
                try:
                    self.alertrouter_url = f"http://127.0.0.1:{server.port}"
                    self._ready.set()
                    await self._stop.wait()
                finally:
                    await server.close()
        except BaseException as exc:  # handed to the test thread, which raises it
            self._error = exc
            self._ready.set()

    def stop_alertrouter(self) -> None:
        """Stop the loop thread (the server drains, the fakes stop)."""
        if self._loop is not None and self._stop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(DEADLINE)

    # -- Prometheus -------------------------------------------------------------------------------

    def start_prometheus(self) -> None:
        """Run Prometheus on a free loopback port, scraping alertrouter every second."""
        assert PROMETHEUS is not None
        port = free_port()
        target = self.alertrouter_url.removeprefix("http://")
        config = {
            # scrape_timeout defaults to the interval when it is shorter than 10s.
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [
                {
                    "job_name": "alertrouter",
                    "metrics_path": "/api/v1/metrics",
                    "static_configs": [{"targets": [target]}],
                }
            ],
        }
        config_file = self.workdir / "prometheus.yml"
        config_file.write_text(yaml.safe_dump(config), encoding="utf-8")
        with (self.workdir / "prometheus.log").open("wb") as log:
            self._prometheus = subprocess.Popen(
                [
                    PROMETHEUS,
                    f"--config.file={config_file}",
                    f"--storage.tsdb.path={self.workdir / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.prometheus_url = f"http://127.0.0.1:{port}"
        self.wait_for("Prometheus to be ready", lambda: _get(f"{self.prometheus_url}/-/ready"))

    def stop_prometheus(self) -> None:
        """Stop Prometheus by its PID (SIGTERM, then SIGKILL after the deadline)."""
        if self._prometheus is None:
            return
        stop_process(self._prometheus, DEADLINE)

    def prometheus_log(self) -> str:
        """What Prometheus logged, for failure messages."""
        path = self.workdir / "prometheus.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    # -- helpers ----------------------------------------------------------------------------------

    def query(self, expr: str) -> dict[str, Any]:
        """Prometheus' answer to an instant query, errors (400/422) included."""
        url = f"{self.prometheus_url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                answer: dict[str, Any] = json.load(response)
        except urllib.error.HTTPError as exc:
            with exc:
                answer = json.load(exc)
        return answer

    def reload(self) -> None:
        """POST /-/reload: the routing file is read again (a reload annotation to show)."""
        request = urllib.request.Request(f"{self.alertrouter_url}/-/reload", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200

    def post_fixture(self, name: str) -> dict[str, Any]:
        """POST a captured Alertmanager webhook body to alertrouter, as Alertmanager does."""
        request = urllib.request.Request(
            f"{self.alertrouter_url}/api/v1/alerts",
            data=(RAW / f"{name}.body").read_bytes(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            answer: dict[str, Any] = json.load(response)
        return answer

    def wait_for(self, what: str, condition: Callable[[], Any]) -> Any:
        """Poll ``condition`` until it is truthy; fail after DEADLINE seconds."""
        deadline = time.monotonic() + DEADLINE
        while True:
            try:
                value = condition()
            except (OSError, ValueError):  # not listening yet, or half an answer
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}\n{self.prometheus_log()}")
            time.sleep(0.1)


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        text: str = response.read().decode()
    return text


def _values(answer: dict[str, Any]) -> list[float]:
    return [float(item["value"][1]) for item in answer["data"]["result"]]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A scraped alertrouter that has delivered, retried and dead-lettered notifications."""
    live = Stack(tmp_path_factory.mktemp("dashboard"))
    try:
        live.start_alertrouter()
        live.start_prometheus()
        # A first scrape before any traffic, so rate() sees the counters rise from zero.
        live.wait_for(
            "the first scrape of alertrouter",
            lambda: _values(live.query('up{job="alertrouter"} == 1')),
        )
        assert live.slack is not None
        assert live.pagerduty is not None
        live.pagerduty.fail_next(
            ScriptedAnswer(400, json.dumps({"status": "invalid event", "errors": ["scripted"]})),
            ScriptedAnswer(500, "scripted outage"),
        )
        live.slack.fail_next(FakeSlack.webhook_error(500, "internal_error"))
        for name in ("firing_critical", "firing_infra", "firing_warning", "grouped_firing"):
            assert live.post_fixture(name)["queued"] >= 1, name

        def settled() -> bool:
            status = json.loads(_get(f"{live.alertrouter_url}/api/v1/status"))
            return status["queue_depth"] == 0 and status["dead_letters"] == 1

        def scraped() -> bool:
            attempted = live.query('sum(alertrouter_notifications_total{job="alertrouter"})')
            delivered = live.query(
                'sum(alertrouter_notifications_delivered_total{job="alertrouter"})'
            )
            dead = live.query('sum(alertrouter_dead_letters{job="alertrouter"})')
            reloaded = live.query(
                "changes(alertrouter_config_last_reload_success_timestamp_seconds[1h]) > 0"
            )
            # Two samples of the series the reload created last: every series born of the
            # traffic then has the two samples rate() needs.
            sampled = live.query(
                'count_over_time(http_request_duration_seconds_count{endpoint="/-/reload"}[1h])'
                " >= 2"
            )
            return (
                _values(attempted) == [float(sum(ATTEMPTED.values()))]
                and _values(delivered) == [3.0]
                and _values(dead) == [1.0]
                and bool(_values(reloaded))
                and bool(_values(sampled))
            )

        # 4 jobs, 3 delivered: PagerDuty answers the first with 400 (a dead letter), Slack
        # answers the first with 500 (retried, then delivered).
        live.wait_for("every job to be delivered or dead-lettered", settled)
        live.reload()
        live.wait_for("Prometheus to scrape the outcome", scraped)
        yield live
    finally:
        live.stop_prometheus()
        live.stop_alertrouter()


@pytest.mark.parametrize("receiver", RECEIVERS)
def test_every_dashboard_query_returns_data_for_each_receiver(stack: Stack, receiver: str) -> None:
    """Every panel query evaluates to data with $receiver All and set to each receiver, and
    a filtered panel shows only that receiver."""
    for title, expr in dashboard_queries(load_dashboard()):
        answer = stack.query(substitute_variables(expr, live_values(receiver)))
        assert answer["status"] == "success", f"{title}: {answer.get('error')}\n{expr}"
        result = answer["data"]["result"]
        assert result, f"{title} ($receiver={receiver}): no data\n{expr}"
        shown = {item["metric"]["receiver"] for item in result if "receiver" in item["metric"]}
        if receiver != ".*":
            assert shown <= {receiver}, title


def test_annotation_queries_evaluate_and_show_the_reload(stack: Stack) -> None:
    """Every annotation query evaluates; the reload annotation finds the reload."""
    found = {}
    for name, expr in annotation_queries(load_dashboard()):
        answer = stack.query(substitute_variables(expr, LIVE_VALUES))
        assert answer["status"] == "success", f"{name}: {answer.get('error')}\n{expr}"
        found[name] = answer["data"]["result"]
    assert found["Config reloaded"], "the reload is not shown"
    assert found["Restarts"] == []


@pytest.mark.parametrize("receiver", RECEIVERS)
def test_failure_ratio_is_failed_over_attempted_notifications(stack: Stack, receiver: str) -> None:
    """The failure ratio panel equals failed / attempted notifications, counted by hand, for
    All and for each receiver."""
    chosen = [r for r in ATTEMPTED if receiver in (".*", r)]
    expected = {
        INTEGRATION[r]: FAILED_NOTIFICATIONS[r] / ATTEMPTED[r] for r in chosen
    }  # one receiver per integration here, so per integration is per receiver
    ((_, expr),) = [(t, e) for t, e in dashboard_queries(load_dashboard()) if t == RATIO]
    answer = stack.query(substitute_variables(expr, live_values(receiver)))
    shown = {item["metric"]["integration"]: float(item["value"][1])
             for item in answer["data"]["result"]}  # fmt: skip
    assert shown == pytest.approx(expected)


def test_delivery_panels_show_the_traffic(stack: Stack) -> None:
    """The delivered, failed, latency, queue and dead-letter panels show what the fakes answered."""
    queries: dict[str, list[str]] = {}
    for title, expr in dashboard_queries(load_dashboard()):
        queries.setdefault(title, []).append(substitute_variables(expr, LIVE_VALUES))

    def series(title: str) -> list[tuple[dict[str, str], float]]:
        found = []
        for expr in queries[title]:
            for item in stack.query(expr)["data"]["result"]:
                found.append((item["metric"], float(item["value"][1])))
        return found

    delivered = {m["receiver"]: v for m, v in series(DELIVERED)}
    assert delivered["pagerduty-critical"] > 0
    assert delivered["slack-warnings"] > 0
    failed = {(m["integration"], m["reason"]): v for m, v in series(FAILED) if v > 0}
    assert set(failed) == {("pagerduty", "clientError")}
    latencies = [v for _, v in series(LATENCY)]
    assert any(math.isfinite(v) and v > 0 for v in latencies), latencies
    dead = {m["integration"]: v for m, v in series(DEAD)}
    assert dead == {"pagerduty": 1.0, "slack": 0.0}
    assert {v for _, v in series(QUEUE)} == {0.0}

    # Requests: each of the 4 notifications once, plus two retries; three failed.
    def by_integration(expr: str) -> dict[str, float]:
        answer = stack.query(f"sum by (integration) ({expr})")
        return {i["metric"]["integration"]: float(i["value"][1]) for i in answer["data"]["result"]}

    assert by_integration("alertrouter_notification_requests_total") == {
        "pagerduty": 3.0,
        "slack": 3.0,
    }
    assert by_integration("alertrouter_notification_requests_failed_total") == {
        "pagerduty": 2.0,
        "slack": 1.0,
    }


def test_live_exposition_passes_promtool_check_metrics(stack: Stack) -> None:
    """`promtool check metrics` finds nothing to complain about in /api/v1/metrics after traffic."""
    if PROMTOOL is None:
        pytest.skip("promtool is not installed (Debian's prometheus package; .ci/run installs it)")
    exposition = _get(f"{stack.alertrouter_url}/api/v1/metrics")
    assert "alertrouter_notifications_failed_total{" in exposition
    result = subprocess.run(
        [PROMTOOL, "check", "metrics"],
        input=exposition,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
