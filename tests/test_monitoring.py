"""The monitoring stack in the repository (design.md §10), each file checked by its real tool.

promtool checks the Prometheus config and rules and runs the rules' unit tests, amtool checks the
Alertmanager config and its routing, the compose file is validated against the Compose
Specification's JSON schema (vendored by check-jsonschema), and the dashboard's queries may only
name metrics that alertrouter exports. The live counterpart, every dashboard query against a real
Prometheus scraping a real alertrouter, is tests/test_prometheus_dashboard.py.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from alertrouter.cli.main import build_parser
from alertrouter.durations import parse_duration
from alertrouter.metrics import Metrics

REPO = Path(__file__).resolve().parent.parent
MONITORING = REPO / "monitoring"
PROMETHEUS_CONFIG = MONITORING / "prometheus" / "prometheus.yml"
RULES = MONITORING / "prometheus" / "rules" / "alertrouter.yml"
RULE_TESTS = MONITORING / "prometheus" / "rules" / "alertrouter_test.yml"
MIXIN_RULES = MONITORING / "prometheus" / "mixin" / "alertmanager-mixin.yml"
MIXIN_TESTS = MONITORING / "prometheus" / "mixin" / "alertmanager-mixin_test.yml"
ALERTMANAGER_CONFIG = MONITORING / "alertmanager" / "config.yml"
DATASOURCES = MONITORING / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
DASHBOARD_PROVIDERS = MONITORING / "grafana" / "provisioning" / "dashboards" / "dashboards.yml"
DASHBOARD = MONITORING / "grafana" / "dashboards" / "alertrouter.json"
COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
RUNBOOK = REPO / "docs" / "runbook.md"

SERVE_ARGS = ["serve", "--listen", "0.0.0.0:8080", "--config", "/etc/alertrouter/alertrouter.yml"]

# What a dashboard variable stands for when a query is run outside Grafana: the multi-value
# variables' "All" (their allValue), the scrape job, and the intervals Grafana computes.
VARIABLE_VALUES = {
    "__rate_interval": "1m",
    "__interval": "15s",
    "__range": "1h",
    "job": "alertrouter",
    "receiver": ".*",
    "integration": ".*",
}

_PROMQL_KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
    "unless", "offset", "inf", "nan",
}  # fmt: skip


def tool(name: str) -> str:
    """The path of a Debian-packaged binary, or skip the test that needs it."""
    found = shutil.which(name) or shutil.which(name, path="/usr/bin")
    if found is None:
        pytest.skip(
            f"{name} is not installed (Debian's prometheus / prometheus-alertmanager packages; "
            ".ci/run installs them)"
        )
    return found


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run a tool to completion, capturing its output."""
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


def load_yaml(path: Path) -> Any:
    """A YAML file, parsed."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def exported_families() -> dict[str, str]:
    """alertrouter's metric families by name (counters with ``_total``, as metrics.py writes
    them) and type, read from the exposition text of a fresh ``Metrics``.

    From the families, not the samples: a labelled metric nobody has observed yet (the HTTP
    histograms before the first request) exposes its HELP and TYPE but no sample.
    """
    metrics = Metrics()
    metrics.initialise([("r", "slack")])
    exposition = generate_latest(metrics.registry).decode()
    return {
        family.name + ("_total" if family.type == "counter" else ""): family.type
        for family in text_string_to_metric_families(exposition)
        if not family.name.endswith("_created")  # prometheus_client's creation timestamps
    }


def exported_sample_names() -> set[str]:
    """Every series name alertrouter can expose (``_bucket``, ``_sum``, ``_count`` included)."""
    names = set()
    for name, kind in exported_families().items():
        if kind == "histogram":
            names.update(name + suffix for suffix in ("_bucket", "_sum", "_count"))
        else:
            names.add(name)
    return names


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (functions, labels and keywords left out)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings first: they may hold anything
    text = re.sub(r"`[^`]*`", '""', text)  # raw strings
    text = re.sub(r"#[^\n]*", " ", text)  # comments
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # range and subquery durations
    text = re.sub(
        r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text
    )  # label lists
    names = set()
    for found in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        following = text[found.end() :].lstrip()
        if following.startswith("(") or found.group(0).lower() in _PROMQL_KEYWORDS:
            continue  # a function call or a keyword
        names.add(found.group(0))
    return names


def substitute_variables(expr: str, values: dict[str, str] | None = None) -> str:
    """A dashboard query with Grafana's variables replaced by ``values`` (VARIABLE_VALUES)."""
    values = VARIABLE_VALUES if values is None else values

    def value(found: re.Match[str]) -> str:
        name = found.group(1) or found.group(2)
        if name not in values:
            raise AssertionError(f"no value for dashboard variable ${name} in: {expr}")
        return values[name]

    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", value, expr)


def load_dashboard() -> dict[str, Any]:
    """The dashboard JSON, parsed."""
    value: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return value


def dashboard_panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, those inside collapsed rows included."""
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def dashboard_queries(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(panel title, PromQL) for every panel target."""
    for panel in dashboard_panels(dashboard):
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"]


def annotation_queries(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(annotation name, PromQL) for every Prometheus annotation (reloads, restarts)."""
    for annotation in dashboard["annotations"]["list"]:
        if "expr" in annotation:
            yield annotation["name"], annotation["expr"]


def alerting_rules() -> list[dict[str, Any]]:
    """Every alerting rule of rules/alertrouter.yml."""
    groups = load_yaml(RULES)["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def runbook_anchors() -> set[str]:
    """The GitHub-style anchors of docs/runbook.md's headings."""
    headings = re.findall(r"^#+\s+(.+?)\s*$", RUNBOOK.read_text(encoding="utf-8"), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}


# -- Prometheus -----------------------------------------------------------------------------------


def test_prometheus_config_is_valid() -> None:
    """promtool accepts prometheus.yml and finds the rule file it names (relative to itself)."""
    result = run(tool("promtool"), "check", "config", str(PROMETHEUS_CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 1 rule files found" in result.stdout


def test_prometheus_scrapes_alertrouter_where_compose_serves_it() -> None:
    """The alertrouter job scrapes /api/v1/metrics every 10s at the compose service's address."""
    config = load_yaml(PROMETHEUS_CONFIG)
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"alertrouter", "alertmanager", "prometheus"}
    alertrouter = jobs["alertrouter"]
    assert alertrouter["metrics_path"] == "/api/v1/metrics"
    assert alertrouter["scrape_interval"] == "10s"
    assert alertrouter["static_configs"] == [{"targets": ["alertrouter:8080"]}]
    assert jobs["alertmanager"]["static_configs"] == [{"targets": ["alertmanager:9093"]}]
    targets = config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert targets == ["alertmanager:9093"]
    # The targets are compose service names; alertrouter's port is the one its image listens on.
    services = load_yaml(COMPOSE)["services"]
    assert {"alertrouter", "alertmanager"} <= set(services)
    assert SERVE_ARGS[SERVE_ARGS.index("--listen") + 1].endswith(":8080")


def test_rules_are_valid() -> None:
    """promtool accepts the alerting rules."""
    result = run(tool("promtool"), "check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_rule_unit_tests_pass() -> None:
    """promtool's unit tests of the rules pass."""
    result = run(tool("promtool"), "test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_rule_is_tested_firing_and_quiet() -> None:
    """Each alert has a unit test where it fires and one where it must not."""
    fires: set[str] = set()
    quiet: set[str] = set()
    for case in load_yaml(RULE_TESTS)["tests"]:
        for check in case.get("alert_rule_test", []):
            (fires if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = {rule["alert"] for rule in alerting_rules()}
    assert names - fires == set(), "never tested firing"
    assert names - quiet == set(), "never tested quiet"


def test_every_rule_is_labelled_annotated_and_has_a_runbook_section() -> None:
    """Each alert waits (for:), has a severity, routes to the fallback, and links its runbook."""
    anchors = runbook_anchors()
    for rule in alerting_rules():
        name = rule["alert"]
        assert parse_duration(rule["for"]) > timedelta(0), name
        assert rule["labels"]["severity"] in ("critical", "warning"), name
        assert rule["labels"]["component"] == "alertrouter", name
        annotations = rule["annotations"]
        assert {"summary", "description", "runbook_url"} <= set(annotations), name
        anchor = annotations["runbook_url"].partition("#")[2]
        assert annotations["runbook_url"].split("#")[0].endswith("docs/runbook.md"), name
        assert anchor == name.lower(), name
        assert anchor in anchors, f"docs/runbook.md has no section {name}"


def test_rules_name_only_exported_metrics() -> None:
    """Every series a rule selects is one alertrouter (or Prometheus, or Alertmanager) exports."""
    # Besides ours: Prometheus' scrape health and Alertmanager's own failure counter.
    known = exported_sample_names() | {"up", "alertmanager_notifications_failed_total"}
    for rule in alerting_rules():
        used = metric_names(rule["expr"])
        assert used, rule["alert"]
        assert used <= known, f"{rule['alert']}: {sorted(used - known)}"


def test_alertmanager_mixin_notification_alerts_work_on_our_series() -> None:
    """The mixin-derived rules are valid and their promtool cases pass on alertrouter's series."""
    promtool = tool("promtool")
    checked = run(promtool, "check", "rules", str(MIXIN_RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = run(promtool, "test", "rules", str(MIXIN_TESTS))
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_alertmanager_mixin_rules_select_our_job_and_exported_metrics() -> None:
    """Each mixin-derived rule selects job="alertrouter" and only series alertrouter exports."""
    rules = [r for g in load_yaml(MIXIN_RULES)["groups"] for r in g["rules"]]
    assert {r["alert"] for r in rules} >= {
        "AlertmanagerFailedToSendAlerts",
        "AlertmanagerClusterFailedToSendAlerts",
    }
    exported = exported_sample_names()
    for rule in rules:
        assert 'job="alertrouter"' in rule["expr"], rule["alert"]
        assert metric_names(rule["expr"]) <= exported, rule["alert"]


# -- Alertmanager ---------------------------------------------------------------------------------


@pytest.mark.amtool
def test_alertmanager_config_is_valid() -> None:
    """amtool accepts the Alertmanager config."""
    result = run(tool("amtool"), "check-config", str(ALERTMANAGER_CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.amtool
def test_alerts_about_alertrouter_bypass_it() -> None:
    """Every rule's alert routes to the fallback receiver; any other alert goes to alertrouter."""
    amtool = tool("amtool")
    config = f"--config.file={ALERTMANAGER_CONFIG}"
    for rule in alerting_rules():
        labels = [f"alertname={rule['alert']}", *(f"{k}={v}" for k, v in rule["labels"].items())]
        result = run(amtool, "config", "routes", "test", config, *labels)
        assert result.stdout.strip() == "alertrouter-fallback", (rule["alert"], result.stderr)
    result = run(amtool, "config", "routes", "test", config, "alertname=HighErrorRate",
                 "severity=critical")  # fmt: skip
    assert result.stdout.strip() == "alertrouter"


def test_alertmanager_posts_to_alertrouter_with_a_token_and_resolves() -> None:
    """The webhook is alertrouter's, with a bearer token from a file, resolves, all alerts."""
    config = load_yaml(ALERTMANAGER_CONFIG)
    receivers = {r["name"]: r for r in config["receivers"]}
    (webhook,) = receivers["alertrouter"]["webhook_configs"]
    assert webhook["url"] == "http://alertrouter:8080/api/v1/alerts"
    assert webhook["send_resolved"] is True
    authorization = webhook["http_config"]["authorization"]
    assert authorization["type"] == "Bearer"
    assert authorization["credentials_file"].startswith("/run/secrets/")
    assert "credentials" not in authorization
    fallback = receivers["alertrouter-fallback"]
    assert "webhook_configs" not in fallback, "the fallback must not depend on alertrouter"


def test_alertmanager_repeats_no_slower_than_alertrouters_smallest_repeat_interval() -> None:
    """Every route reaching alertrouter repeats within 1h, so our hourly re-notifications happen."""
    root = load_yaml(ALERTMANAGER_CONFIG)["route"]

    def walk(route: dict[str, Any], inherited: str) -> Iterator[tuple[str, str]]:
        interval = route.get("repeat_interval", inherited)
        yield route.get("receiver", ""), interval
        for child in route.get("routes", []):
            yield from walk({"receiver": route.get("receiver"), **child}, interval)

    reaching = [i for receiver, i in walk(root, "4h") if receiver == "alertrouter"]
    assert reaching
    assert all(parse_duration(i) <= timedelta(hours=1) for i in reaching)


# -- Grafana --------------------------------------------------------------------------------------


def test_dashboard_json_is_stably_formatted() -> None:
    """The dashboard is json.dumps(indent=2, sort_keys=True) plus a newline, so diffs stay small."""
    text = DASHBOARD.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"


def test_dashboard_queries_name_only_exported_metrics() -> None:
    """Every panel, annotation and variable query selects only series alertrouter exports (and
    Prometheus' ``up``)."""
    dashboard = load_dashboard()
    exported = exported_sample_names() | {"up"}
    queries = [*dashboard_queries(dashboard), *annotation_queries(dashboard)]
    assert queries
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            found = re.fullmatch(r"label_values\((.+), *\w+\)", variable["definition"])
            assert found, variable["definition"]
            queries.append((f"${variable['name']}", found.group(1)))
    for title, expr in queries:
        used = metric_names(substitute_variables(expr))
        assert used, f"{title}: no metric in {expr}"
        assert used <= exported, f"{title}: not exported: {sorted(used - exported)}"


def family_labels() -> dict[str, set[str]]:
    """The label names of each series alertrouter exposes once a receiver is configured."""
    metrics = Metrics()
    metrics.initialise([("r", "slack")])
    labels: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(generate_latest(metrics.registry).decode()):
        for sample in family.samples:
            labels.setdefault(sample.name, set()).update(set(sample.labels) - {"le"})
    return labels


def test_every_dashboard_query_honours_the_variables_its_series_carry() -> None:
    """Each selector filters on $job, and on $receiver / $integration where its series has them."""
    labels = family_labels()
    dashboard = load_dashboard()
    for title, expr in [*dashboard_queries(dashboard), *annotation_queries(dashboard)]:
        selectors = re.findall(r"([a-z_:]+)\{([^}]*)\}", expr)
        assert {name for name, _ in selectors} == metric_names(substitute_variables(expr)), title
        for name, matchers in selectors:
            assert 'job=~"$job"' in matchers, (title, name)
            for variable in ("receiver", "integration"):
                if variable in labels.get(name, set()):
                    assert f'{variable}=~"${variable}"' in matchers, (title, name, variable)


def test_dashboard_ratios_divide_like_by_like() -> None:
    """Both sides of a panel's division select with the same matchers (the same filters)."""
    for title, expr in dashboard_queries(load_dashboard()):
        if " / " not in expr:
            continue
        numerator, denominator = expr.split(" / ")
        assert re.findall(r"\{[^}]*\}", numerator) == re.findall(r"\{[^}]*\}", denominator), title


def test_dashboard_shows_every_alertrouter_metric() -> None:
    """Each alertrouter_* family that metrics.py registers appears in some panel."""
    used = {
        re.sub(r"_(bucket|sum|count)$", "", name)
        for _, expr in dashboard_queries(load_dashboard())
        for name in metric_names(substitute_variables(expr))
    }
    wanted = {name for name in exported_families() if name.startswith("alertrouter_")}
    assert wanted - used == set()


def test_dashboard_datasource_is_a_variable_and_panels_are_unique() -> None:
    """Every panel reads from ${datasource}, a datasource variable; panel ids and titles differ."""
    dashboard = load_dashboard()
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    ids = []
    for panel in dashboard_panels(dashboard):
        ids.append(panel["id"])
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    titles = [p["title"] for p in dashboard_panels(dashboard)]
    assert len(titles) == len(set(titles)), "the tests find panels by their titles"


def test_grafana_provisioning_matches_compose() -> None:
    """The datasource is compose's Prometheus; the dashboard provider reads the mounted folder."""
    (datasource,) = load_yaml(DATASOURCES)["datasources"]
    assert datasource["type"] == "prometheus"
    assert datasource["url"] == "http://prometheus:9090"
    (provider,) = load_yaml(DASHBOARD_PROVIDERS)["providers"]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
    grafana = load_yaml(COMPOSE)["services"]["grafana"]
    assert "./monitoring/grafana/dashboards:/var/lib/grafana/dashboards:ro" in grafana["volumes"]
    assert "./monitoring/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana["volumes"]


# -- docker-compose and the Dockerfile ------------------------------------------------------------


def test_compose_file_follows_the_compose_specification() -> None:
    """docker-compose.yml validates against the Compose Specification's JSON schema."""
    jsonschema = pytest.importorskip("jsonschema")
    vendor = pytest.importorskip(
        "check_jsonschema.builtin_schemas.vendor",
        reason="check-jsonschema (a dev dependency) vendors the compose-spec schema",
    )
    from importlib.resources import files

    schema = json.loads(files(vendor).joinpath("compose-spec.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(load_yaml(COMPOSE))]
    assert errors == []
    assert list(validator.iter_errors({"services": {"x": {"imagee": "typo"}}})), "schema is live"


def test_compose_stack_is_the_documented_one() -> None:
    """Services, ports, volumes and profiles are those design.md §10 describes."""
    compose = load_yaml(COMPOSE)
    services = compose["services"]
    assert set(services) == {"alertrouter", "prometheus", "alertmanager", "grafana", "redis"}
    ports = {name: [p.rsplit(":", 2)[-2:] for p in s.get("ports", [])] for name, s in
             services.items()}  # fmt: skip
    assert ports["prometheus"] == [["9090", "9090"]]
    assert ports["alertmanager"] == [["9093", "9093"]]
    assert ports["grafana"] == [["3001", "3000"]]
    assert services["redis"]["profiles"] == ["ha"]
    assert all("profiles" not in s for n, s in services.items() if n != "redis")
    alertrouter = services["alertrouter"]
    assert alertrouter["build"] == "."
    assert alertrouter["environment"]["ALERTROUTER_STATE_URL"] == "sqlite:////data/alertrouter.db"
    assert "alertrouter-data:/data" in alertrouter["volumes"]
    assert "alertrouter_webhook_token" in services["alertmanager"]["secrets"]
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (REPO / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in compose["volumes"], f"{name}: undeclared volume {source}"


def test_compose_holds_no_secret() -> None:
    """Every secret-looking variable comes from the environment (${VAR...}) or is passed on."""
    secretish = re.compile(r"TOKEN|PASSWORD|SECRET|KEY|DSN|WEBHOOK_URL")
    for name, service in load_yaml(COMPOSE)["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if secretish.search(key):
                assert value is None or str(value).startswith("${"), f"{name}: {key}={value}"


def test_dockerfile_serves_the_documented_command() -> None:
    """The image runs `alertrouter serve` as the CLI parses it, non-root, with a ready check."""
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")  # join continued lines
    instructions = {
        m.group(1): m.group(2) for m in re.finditer(r"^([A-Z]+)\s+(.*)$", text, re.MULTILINE)
    }
    assert re.match(r"python:3\.11-slim\b", instructions["FROM"])
    assert instructions["USER"] not in ("root", "0")
    assert json.loads(instructions["ENTRYPOINT"]) == ["alertrouter"]
    cmd = json.loads(instructions["CMD"])
    assert cmd == SERVE_ARGS
    args = build_parser().parse_args(cmd)
    assert (args.command, args.listen, args.config) == ("serve", "0.0.0.0:8080", cmd[-1])
    assert "/-/ready" in instructions["HEALTHCHECK"]
    assert "curl" not in instructions["HEALTHCHECK"], "python:3.11-slim has no curl"
    # docker-compose wraps the same command (adding --dry-run when secrets are unset).
    script = load_yaml(COMPOSE)["services"]["alertrouter"]["command"][0]
    assert f"set -- {shlex.join(SERVE_ARGS)}" in script
