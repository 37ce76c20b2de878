"""monitoring/grafana/dashboards/kubernetes-overview.json: its shape, and every query it runs
parsed and evaluated by a real Prometheus.

The Prometheus (Debian's binary) scrapes nothing: results are empty, but an expression that
does not parse, or mixes types, fails the query. Template variables are replaced first, with
values like Grafana's.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from processes import free_port, stop_process

REPO = Path(__file__).resolve().parent.parent
DASHBOARD = REPO / "monitoring" / "grafana" / "dashboards" / "kubernetes-overview.json"
PROMETHEUS = shutil.which("prometheus") or shutil.which("prometheus", path="/usr/bin")
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
VARIABLES = {"namespace": "monitoring", "__rate_interval": "1m", "__range": "6h"}
# What the dashboard is for: each of these metrics appears in some panel's query.
METRICS = (
    "kube_deployment_status_replicas_available",
    "kube_deployment_spec_replicas",
    "kube_pod_container_status_restarts_total",
    "container_cpu_usage_seconds_total",
    "container_memory_working_set_bytes",
    "redis_up",
    "redis_memory_used_bytes",
)


def load() -> dict[str, Any]:
    """The dashboard, parsed."""
    value: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return value


def targets(dashboard: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(panel title, target) for every query of every panel."""
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], target


def substitute(expr: str) -> str:
    """``expr`` with $name / ${name} replaced by VARIABLES; an unknown variable fails."""

    def value(found: re.Match[str]) -> str:
        name = found.group(1) or found.group(2)
        assert name in VARIABLES, f"no test value for ${name} in {expr}"
        return VARIABLES[name]

    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", value, expr)


def variable_queries(dashboard: dict[str, Any]) -> list[str]:
    """The selector inside each query variable's label_values(selector, label)."""
    selectors = []
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            found = re.fullmatch(r"label_values\((.+),\s*\w+\)", variable["query"]["query"])
            assert found, variable["query"]
            selectors.append(found.group(1))
    return selectors


def test_the_file_is_canonical_json() -> None:
    """The file is exactly json.dumps(indent=2, sort_keys=True) plus a newline: clean diffs."""
    text = DASHBOARD.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"


def test_every_panel_uses_the_datasource_variable_and_ids_are_unique() -> None:
    """Panels and targets pick Prometheus through ${datasource}; panel ids are distinct."""
    dashboard = load()
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == DATASOURCE, panel["title"]
        assert panel["targets"], panel["title"]
    for title, target in targets(dashboard):
        assert target["datasource"] == DATASOURCE, title
    names = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert names["datasource"]["type"] == "datasource"
    assert names["datasource"]["query"] == "prometheus"
    assert names["namespace"]["type"] == "query"
    assert names["namespace"]["datasource"] == DATASOURCE


def test_panels_cover_replicas_restarts_cpu_memory_and_redis_in_the_namespace() -> None:
    """Each metric the dashboard promises is queried, always within $namespace."""
    exprs = [target["expr"] for _, target in targets(load())]
    for metric in METRICS:
        assert any(re.search(rf"\b{metric}\{{", e) for e in exprs), metric
    for expr in exprs:
        selectors = re.findall(r"\b[a-z_]+\{[^}]*\}", expr)
        assert selectors, expr
        for selector in selectors:
            assert 'namespace="$namespace"' in selector, expr


def test_titles_are_unique_and_panels_do_not_overlap() -> None:
    """Distinct titles, and no two panels share a cell of Grafana's 24-column grid."""
    panels = load()["panels"]
    titles = [p["title"] for p in panels]
    assert len(titles) == len(set(titles))
    taken: dict[tuple[int, int], str] = {}
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in taken, f"{panel['title']} overlaps {taken[x, y]}"
                taken[x, y] = panel["title"]


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as answer:
            return answer.status == 200
    except OSError:  # refused while starting; 503 (an HTTPError) while loading
        return False


def _get(url: str) -> tuple[int, dict[str, Any] | None]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prometheus on a free loopback port with nothing to scrape; its base URL."""
    if PROMETHEUS is None:
        pytest.skip("prometheus is not installed (Debian's prometheus package; CI installs it)")
    folder = tmp_path_factory.mktemp("prometheus")
    config = folder / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 15s\nscrape_configs: []\n", encoding="utf-8")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (folder / "prometheus.log").open("wb") as log:
        process = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={config}",
                f"--storage.tsdb.path={folder / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if _ready(url):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail((folder / "prometheus.log").read_text(errors="replace"))
            time.sleep(0.1)
        yield url
    finally:
        stop_process(process)


def _query(prometheus: str, expr: str) -> tuple[int, dict[str, Any] | None]:
    return _get(f"{prometheus}/api/v1/query?{urllib.parse.urlencode({'query': expr})}")


def test_a_broken_query_fails_on_this_prometheus(prometheus: str) -> None:
    """The check has teeth: a query with a syntax error answers 400, status error."""
    code, body = _query(prometheus, "sum(rate(redis_up[1m])")
    assert code == 400
    assert body is not None
    assert body["status"] == "error"


@pytest.mark.parametrize(
    ("title", "expr"),
    [(title, target["expr"]) for title, target in targets(load())],
    ids=[f"{title}-{target['refId']}" for title, target in targets(load())],
)
def test_every_panel_query_runs_on_a_real_prometheus(
    prometheus: str, title: str, expr: str
) -> None:
    """Prometheus parses and evaluates the panel's query (variables substituted)."""
    code, body = _query(prometheus, substitute(expr))
    assert code == 200, f"{title}: {body}"
    assert body is not None
    assert body["status"] == "success", f"{title}: {body}"


def test_every_variable_query_selector_runs_on_a_real_prometheus(prometheus: str) -> None:
    """The selector inside each label_values() variable query is valid PromQL."""
    selectors = variable_queries(load())
    assert selectors
    for selector in selectors:
        code, body = _query(prometheus, substitute(selector))
        assert code == 200, f"{selector}: {body}"
        assert body is not None
        assert body["status"] == "success"
