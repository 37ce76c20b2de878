"""Loading the routing file: the shipped policy, interpolation, secrets, and every error's place."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from alertrouter.config.loader import load_routing_config, parse_routing_config
from alertrouter.errors import ConfigError
from alertrouter.notifiers.email import EmailConfig
from alertrouter.notifiers.pagerduty import PagerDutyConfig
from alertrouter.notifiers.slack import SlackConfig

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "config" / "alertrouter.yml"
SECRETS = {"PAGERDUTY_SERVICE_KEY": "pd-key-0123456789", "SLACK_WEBHOOK_URL": "https://hooks/x"}

BASE_RECEIVERS = """\
receivers:
  - name: default
  - name: pager
    pagerduty_configs:
      - routing_key: abc
"""
# Indented like the dedented test texts it is appended to.
RECEIVERS = textwrap.indent(BASE_RECEIVERS, " " * 8).lstrip(" ")


def load(text: str, environ: dict[str, str] | None = None, **kwargs: object) -> object:
    return parse_routing_config(textwrap.dedent(text), "test.yml", environ or {}, **kwargs)  # type: ignore[arg-type]


def problems_of(text: str, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(text, environ)
    return [str(p) for p in caught.value.problems]


def test_shipped_policy_loads_with_its_secrets() -> None:
    """The shipped file validates, with the receivers and repeat intervals design.md gives."""
    config = load_routing_config(SHIPPED, SECRETS)
    assert list(config.receivers) == [
        "pagerduty-critical",
        "slack-warnings",
        "email-infrastructure",
    ]
    routes = {r.receiver: r.repeat_interval for r in config.root.routes}
    assert routes == {
        "pagerduty-critical": timedelta(hours=1),
        "email-infrastructure": timedelta(hours=4),
        "slack-warnings": timedelta(hours=12),
    }
    pagerduty = config.receivers["pagerduty-critical"].integrations[0].config
    assert isinstance(pagerduty, PagerDutyConfig)
    assert pagerduty.routing_key is not None
    assert pagerduty.routing_key.get_secret_value() == "pd-key-0123456789"
    email = config.receivers["email-infrastructure"].integrations[0].config
    assert isinstance(email, EmailConfig)
    assert (email.to, email.from_, email.smarthost) == (
        "infrastructure@example.com",
        "alertrouter@example.com",
        "localhost:25",
    )
    assert email.resolved_wanted


def test_shipped_policy_without_secrets_names_each_variable_and_line() -> None:
    """An unset variable is an error naming the variable and the file:line that uses it."""
    with pytest.raises(ConfigError) as caught:
        load_routing_config(SHIPPED, {})
    messages = [str(p) for p in caught.value.problems]
    assert any(
        m.endswith(
            "receivers[0].pagerduty_configs[0].routing_key: "
            "environment variable PAGERDUTY_SERVICE_KEY is not set"
        )
        and ":21:" in m
        for m in messages
    ), messages
    assert any("SLACK_WEBHOOK_URL is not set" in m and ":24:" in m for m in messages), messages


def test_missing_variables_allowed_for_routing_only_use() -> None:
    """With allow_missing_env the file loads and lists the unset variables."""
    config = load_routing_config(SHIPPED, {}, allow_missing_env=True)
    assert config.missing_variables == ("PAGERDUTY_SERVICE_KEY", "SLACK_WEBHOOK_URL")


def test_interpolation_defaults_and_dollar_escape() -> None:
    """${VAR:-default} falls back when unset or empty; $$ is a literal dollar."""
    config = load(
        """\
        route: {receiver: mail}
        receivers:
          - name: mail
            email_configs:
              - to: ${TO:-ops@example.com}
                from: ${FROM:-x@example.com}
                smarthost: ${HOST}:25
                headers: {X-Cost: "$$5"}
        """,
        {"HOST": "smtp.internal", "FROM": ""},
    )
    email = config.receivers["mail"].integrations[0].config  # type: ignore[attr-defined]
    assert (email.to, email.from_, email.smarthost) == (
        "ops@example.com",
        "x@example.com",
        "smtp.internal:25",
    )
    assert email.headers == {"X-Cost": "$5"}


def test_secret_file_is_read_relative_to_the_config(tmp_path: Path) -> None:
    """routing_key_file is read from the config file's folder and kept as a SecretStr."""
    (tmp_path / "pd.key").write_text("from-file-key\n")
    routing = tmp_path / "routing.yml"
    routing.write_text(
        "route: {receiver: p}\n"
        "receivers:\n"
        "  - name: p\n"
        "    pagerduty_configs:\n"
        "      - routing_key_file: pd.key\n"
    )
    config = load_routing_config(routing, {})
    pagerduty = config.receivers["p"].integrations[0].config
    assert isinstance(pagerduty, PagerDutyConfig)
    assert pagerduty.routing_key is not None
    assert pagerduty.routing_key.get_secret_value() == "from-file-key"
    assert "from-file-key" not in repr(config)


def test_global_defaults_fill_integrations() -> None:
    """Alertmanager's global smtp_* and slack_api_url fill integrations that omit them."""
    config = load(
        """\
        global:
          resolve_timeout: 5m
          smtp_smarthost: mail:587
          smtp_from: am@example.com
          slack_api_url: https://hooks.example/T/B/C
        route: {receiver: r}
        receivers:
          - name: r
            email_configs: [{to: a@example.com}]
            slack_configs: [{channel: '#x'}]
        """
    )
    email, slack = (s.config for s in config.receivers["r"].integrations)  # type: ignore[attr-defined]
    assert isinstance(email, EmailConfig)
    assert isinstance(slack, SlackConfig)
    assert (email.smarthost, email.from_) == ("mail:587", "am@example.com")
    assert slack.api_url is not None
    assert slack.api_url.get_secret_value() == "https://hooks.example/T/B/C"
    assert [p.path for p in config.ignored] == ["global.resolve_timeout"]  # type: ignore[attr-defined]


def test_alertmanager_only_keys_are_accepted_and_listed_as_ignored() -> None:
    """group_by, group_wait, group_interval and inhibit_rules are reported as ignored."""
    config = load(
        """\
        route:
          receiver: default
          group_by: [alertname]
          group_wait: 30s
          group_interval: 5m
          routes:
            - receiver: default
              group_by: ['...']
        inhibit_rules:
          - source_matchers: [severity="critical"]
            target_matchers: [severity="warning"]
        templates: ['/etc/alertmanager/*.tmpl']
        receivers:
          - name: default
            slack_configs:
              - api_url: https://hooks.example/x
                fields: [{title: a, value: b}]
        """
    )
    ignored = {(p.path, p.line) for p in config.ignored}  # type: ignore[attr-defined]
    assert ignored == {
        ("route.group_by", 3),
        ("route.group_wait", 4),
        ("route.group_interval", 5),
        ("route.routes[0].group_by", 8),
        ("inhibit_rules", 9),
    }


def test_receiver_without_integrations_is_a_blackhole() -> None:
    """A receiver with only a name is valid and has no integrations."""
    config = load("route: {receiver: void}\nreceivers: [{name: void}]\n")
    assert config.receivers["void"].integrations == ()  # type: ignore[attr-defined]


ERROR_CASES = [
    pytest.param(
        """\
        route:
          receiver: default
          routes:
            - receiver: default
            - receiver: default
              matchers: ['foo=~"("']
        """
        + RECEIVERS,
        ['test.yml:6: route.routes[1].matchers[0]: invalid regex "(": missing )'],
        id="invalid-regex",
    ),
    pytest.param(
        """\
        route:
          receiver: default
          routes:
            - receiver: nobody
        """
        + RECEIVERS,
        ['test.yml:4: route.routes[0].receiver: undefined receiver "nobody" used in route'],
        id="undefined-receiver",
    ),
    pytest.param(
        """\
        route:
          receiver: ghost
        """
        + RECEIVERS,
        ['test.yml:2: route.receiver: undefined receiver "ghost" used in route'],
        id="undefined-root-receiver",
    ),
    pytest.param(
        """\
        route: {receiver: default}
        receivers:
          - name: default
          - name: default
        """,
        ['test.yml:4: receivers[1].name: notification config name "default" is not unique'],
        id="duplicate-receiver",
    ),
    pytest.param(
        """\
        route:
          receiver: default
          recevier: typo
        """
        + RECEIVERS,
        ['test.yml:3: route.recevier: unknown key "recevier" (did you mean "receiver"?)'],
        id="unknown-route-key",
    ),
    pytest.param(
        """\
        route: {receiver: default}
        receivers:
          - name: default
            carrierpigeon_configs:
              - coop: roof
        """,
        ['test.yml:4: receivers[0].carrierpigeon_configs: unknown notifier type "carrierpigeon"'],
        id="unknown-notifier-type",
    ),
    pytest.param(
        """\
        route: {receiver: default}
        receivers:
          - name: default
            slack_configs:
              - channel: '#x'
        """,
        ["test.yml:5: receivers[0].slack_configs[0]: api_url (or api_url_file"],
        id="slack-without-url",
    ),
    pytest.param(
        """\
        route: {receiver: default}
        receivers:
          - name: default
            pagerduty_configs:
              - routing_key: k
                severity: urgent
                unknown_field: 1
        """,
        [
            "test.yml:7: receivers[0].pagerduty_configs[0].unknown_field: "
            'unknown key "unknown_field"'
        ],
        id="unknown-integration-key",
    ),
    pytest.param(
        """\
        route:
          receiver: default
          matchers: ['a="b"']
        """
        + RECEIVERS,
        ["test.yml:1: route: root route must not have any matchers"],
        id="root-matchers",
    ),
    pytest.param(
        """\
        route:
          receiver: default
          continue: true
        """
        + RECEIVERS,
        ["test.yml:3: route.continue: cannot have continue in root route"],
        id="root-continue",
    ),
    pytest.param(
        """\
        route:
          routes: [{receiver: default}]
        """
        + RECEIVERS,
        ["test.yml:1: route: root route must specify a default receiver"],
        id="root-without-receiver",
    ),
    pytest.param(
        BASE_RECEIVERS,
        ["test.yml:1: route: field required"],
        id="no-route",
    ),
    pytest.param(
        """\
        route:
          receiver: default
          repeat_interval: 1 hour
        """
        + RECEIVERS,
        ['test.yml:3: route.repeat_interval: not a valid duration string: "1 hour"'],
        id="bad-duration",
    ),
    pytest.param(
        """\
        route:
          receiver: default
          routes:
            - repeat_interval: 0s
        """
        + RECEIVERS,
        ["test.yml:4: route.routes[0].repeat_interval: repeat_interval cannot be zero"],
        id="zero-repeat-interval",
    ),
    pytest.param(
        """\
        route:
          receiver: default
          routes:
            - match: {"bad-name": x}
        """
        + RECEIVERS,
        ['test.yml:4: route.routes[0].match: invalid label name "bad-name"'],
        id="bad-label-name",
    ),
    pytest.param(
        """\
        route:
          receiver: default
          routes:
            - match_re: {service: "a(b"}
        """
        + RECEIVERS,
        ['test.yml:4: route.routes[0].match_re.service: invalid regex "a(b": missing )'],
        id="bad-match-re",
    ),
    pytest.param(
        """\
        route:
          receiver: default
          routes:
            - mute_time_intervals: [weekends]
        """
        + RECEIVERS,
        ['test.yml:4: route.routes[0].mute_time_intervals[0]: undefined time interval "weekends"'],
        id="undefined-time-interval",
    ),
    pytest.param(
        """\
        route:
          receiver: default
          receiver: other
        """
        + RECEIVERS,
        ['test.yml:3: route: key "receiver" is defined more than once'],
        id="duplicate-key",
    ),
    pytest.param(
        "route: [\n",
        ["test.yml:2: invalid YAML"],
        id="yaml-syntax",
    ),
    pytest.param(
        """\
        route: {receiver: default}
        receivers:
          - name: default
            email_configs:
              - to: a@example.com
                from: b@example.com
                smarthost: no-port
        """,
        ['test.yml:7: receivers[0].email_configs[0].smarthost: address "no-port": want host:port'],
        id="smarthost-without-port",
    ),
    pytest.param(
        """\
        route: {receiver: default}
        receivers:
          - name: default
            slack_configs:
              - api_url: https://x
                rate_limit: fast
        """,
        ['test.yml:6: receivers[0].slack_configs[0].rate_limit: invalid rate "fast"'],
        id="bad-rate-limit",
    ),
]


@pytest.mark.parametrize(("text", "expected"), ERROR_CASES)
def test_each_error_names_file_line_and_path(text: str, expected: list[str]) -> None:
    """Each invalid file yields exactly the expected problems, each as file:line: path: message."""
    messages = problems_of(text)
    for want in expected:
        assert any(m.startswith(want) for m in messages), (want, messages)
    assert len(messages) == len(expected), messages


def test_every_problem_is_reported_at_once() -> None:
    """Problems in the route tree and in receivers come together, in file order."""
    messages = problems_of(
        """\
        route:
          receiver: nobody
          routes:
            - matchers: ['x=~"["']
        receivers:
          - name: a
            slack_configs: [{}]
          - name: a
        """
    )
    assert [m.split(":")[1] for m in messages] == ["2", "4", "7", "8"], messages


def test_secret_values_never_appear_in_errors() -> None:
    """A bad integration's error message does not echo the secret it was given."""
    messages = problems_of(
        """\
        route: {receiver: default}
        receivers:
          - name: default
            pagerduty_configs:
              - routing_key: super-secret-routing-key
                severity: urgent
        """
    )
    assert messages
    assert not any("super-secret-routing-key" in m for m in messages)


def test_unreadable_secret_file_is_an_error(tmp_path: Path) -> None:
    """A *_file that cannot be read is reported with the path it tried."""
    routing = tmp_path / "routing.yml"
    routing.write_text(
        "route: {receiver: p}\nreceivers:\n  - name: p\n    pagerduty_configs:\n"
        "      - routing_key_file: missing.key\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_routing_config(routing, {})
    (problem,) = caught.value.problems
    assert problem.line == 5
    assert problem.path == "receivers[0].pagerduty_configs[0]"
    assert "routing_key_file: cannot read" in problem.message
    assert "missing.key" in problem.message


def test_unreadable_config_file_is_one_problem(tmp_path: Path) -> None:
    """A missing routing file is a ConfigError, not a traceback."""
    with pytest.raises(ConfigError, match="cannot read"):
        load_routing_config(tmp_path / "absent.yml", {})


def test_every_endpoint_url_must_be_http_with_a_host_reported_at_its_line() -> None:
    """A schemeless Slack api_url, a socks proxy and a host-less url: each file:line, unquoted."""
    problems = problems_of(
        """\
        route:
          receiver: s
        receivers:
          - name: s
            slack_configs:
              - api_url: hooks.slack.com/services/T0/B0/hUnTeR2
            webhook_configs:
              - url: http://127.0.0.1:9/x
                http_config:
                  proxy_url: socks://proxy
            pagerduty_configs:
              - routing_key: abc
                url: "https://"
                client_url: "{{ .ExternalURL }}"
        """
    )
    wanted = "must be an http:// or https:// URL with a host"
    assert problems == [
        f"test.yml:6: receivers[0].slack_configs[0].api_url: {wanted}",
        f"test.yml:10: receivers[0].webhook_configs[0].http_config.proxy_url: {wanted}",
        f"test.yml:13: receivers[0].pagerduty_configs[0].url: {wanted}",
    ]
    assert not any("hUnTeR2" in problem for problem in problems)
