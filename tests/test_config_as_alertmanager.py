"""The routing file read as Alertmanager (Go's yaml.v2) reads it: scalars, nulls, globals."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from alertrouter.config.loader import RoutingConfig, parse_routing_config
from alertrouter.errors import ConfigError
from alertrouter.notifiers.email import EmailConfig
from alertrouter.notifiers.pagerduty import PagerDutyConfig
from alertrouter.router.tree import Router


def load(text: str, environ: dict[str, str] | None = None) -> RoutingConfig:
    return parse_routing_config(textwrap.dedent(text), "am.yml", environ or {})


def receivers_for(config: RoutingConfig, **labels: str) -> list[str]:
    return [route.receiver for route in Router(config.root).match(labels)]


def only_config(config: RoutingConfig, receiver: str) -> Any:
    (spec,) = config.receivers[receiver].integrations
    return spec.config


def test_unquoted_clock_time_is_text_not_sexagesimal() -> None:
    """``start_time: 10:00`` is the time "10:00", not YAML 1.1's base-60 integer 600."""
    config = load(
        """\
        route: {receiver: r}
        receivers: [{name: r}]
        time_intervals:
          - name: office
            time_intervals:
              - times: [{start_time: 10:00, end_time: 17:30}]
        """
    )
    (interval,) = config.time_intervals["office"]
    (times,) = interval.times
    assert (times.start_minute, times.end_minute) == (10 * 60, 17 * 60 + 30)


def test_scalars_of_other_yaml_types_are_the_text_written() -> None:
    """``match_re: {x: true}`` is the regex "true" and ``match: {n: 2}`` the value "2"."""
    config = load(
        """\
        route:
          receiver: r
          routes:
            - {match_re: {x: true}, receiver: regex}
            - {match: {n: 2}, receiver: number}
        receivers: [{name: r}, {name: regex}, {name: number}]
        """
    )
    assert receivers_for(config, x="true") == ["regex"]
    assert receivers_for(config, n="2") == ["number"]
    assert receivers_for(config, x="True", n="2.0") == ["r"]


def test_anchors_aliases_and_merge_keys_work() -> None:
    """An anchored mapping is reused by alias and by ``<<`` merge, as Go's decoder does."""
    config = load(
        """\
        route:
          receiver: r
          routes:
            - &paging {matchers: ['severity="critical"'], receiver: pager, continue: true}
            - <<: *paging
              receiver: r
        receivers:
          - name: r
          - name: pager
            pagerduty_configs: [&pd {routing_key: abc, client: x}, *pd]
        """
    )
    assert receivers_for(config, severity="critical") == ["pager", "r"]
    assert len(config.receivers["pager"].integrations) == 2


def test_empty_routes_and_comment_only_global_are_empty() -> None:
    """``routes:`` with only comments under it and a ``global:`` of comments load as empty."""
    config = load(
        """\
        global:
          # smtp_smarthost: localhost:25
        route:
          receiver: r
          routes:
          # - receiver: gone
        receivers: [{name: r}]
        """
    )
    assert receivers_for(config, a="b") == ["r"]
    assert config.root.routes == ()


@pytest.mark.parametrize("value", ["false", "no", "off"])
def test_continue_false_on_the_root_is_accepted(value: str) -> None:
    """The root may say ``continue: false``; only a true ``continue`` is refused there."""
    config = load(f"route: {{receiver: r, continue: {value}}}\nreceivers: [{{name: r}}]\n")
    assert receivers_for(config) == ["r"]


def test_continue_true_on_the_root_is_refused() -> None:
    """``continue: true`` on the root is Alertmanager's "cannot have continue in root route"."""
    with pytest.raises(ConfigError) as caught:
        load("route: {receiver: r, continue: true}\nreceivers: [{name: r}]\n")
    assert [p.message for p in caught.value.problems] == ["cannot have continue in root route"]


def test_unknown_top_level_key_is_ignored_and_globals_still_apply() -> None:
    """``tracing:`` (newer Alertmanager) and a key of nobody's are listed as ignored, and the
    ``global:`` SMTP settings still reach the email integration (no false smarthost error)."""
    config = load(
        """\
        global:
          smtp_smarthost: mail.example:25
          smtp_from: am@example.com
        tracing: {endpoint: 'otel:4317'}
        x-ops-owner: platform
        route: {receiver: r}
        receivers:
          - name: r
            email_configs: [{to: oncall@example.com}]
        """
    )
    email = only_config(config, "r")
    assert isinstance(email, EmailConfig)
    assert email.smarthost == "mail.example:25"
    ignored = {p.path: p.message for p in config.ignored}
    assert ignored["tracing"] == "Alertmanager-only, ignored"
    assert ignored["x-ops-owner"] == "unknown top-level key, ignored"


def test_misspelt_top_level_key_is_an_error_with_a_hint() -> None:
    """``recievers:`` is a typo of ours, not a foreign key: an error naming the right one."""
    with pytest.raises(ConfigError) as caught:
        load("route: {receiver: r}\nreceivers: [{name: r}]\ntemplate: [x.tmpl]\n")
    assert any('did you mean "templates"' in p.message for p in caught.value.problems)


def test_a_broken_route_does_not_hide_the_globals() -> None:
    """Another part of the file failing leaves ``global:`` inheritance intact: only the real
    problem is reported."""
    with pytest.raises(ConfigError) as caught:
        load(
            """\
            global: {smtp_smarthost: 'mail:25', smtp_from: a@example.com}
            route: {receiver: r, repeat_interval: soon}
            receivers: [{name: r, email_configs: [{to: b@example.com}]}]
            """
        )
    assert [p.path for p in caught.value.problems] == ["route.repeat_interval"]


def test_every_alertmanager_global_is_accepted() -> None:
    """Each of Alertmanager's ``global:`` keys loads (resolve_timeout noted as unused)."""
    config = load(
        """\
        global:
          resolve_timeout: 5m
          http_config: {follow_redirects: true, enable_http2: true}
          smtp_hello: localhost
          smtp_require_tls: true
          pagerduty_url: https://events.pagerduty.com/v2/enqueue
          opsgenie_api_url: https://api.opsgenie.com/
          wechat_api_url: https://qyapi.weixin.qq.com/cgi-bin/
          victorops_api_url: https://alert.victorops.com/integrations/generic/20131114/alert/
          telegram_api_url: https://api.telegram.org
          webex_api_url: https://webexapis.com/v1/messages
          rocketchat_api_url: https://open.rocket.chat/
          jira_api_url: https://jira.example/
          slack_app_url: https://slack.com/api/chat.postMessage
        route: {receiver: r}
        receivers: [{name: r}]
        """
    )
    assert [p.path for p in config.ignored] == ["global.resolve_timeout"]


def test_global_http_config_reaches_integrations_without_their_own() -> None:
    """``global.http_config`` is every HTTP integration's unless it sets its own."""
    config = load(
        """\
        global:
          pagerduty_url: http://127.0.0.1:9/v2/enqueue
          http_config: {bearer_token: global-token, proxy_url: 'http://proxy:3128'}
        route: {receiver: r}
        receivers:
          - name: r
            pagerduty_configs:
              - routing_key: a
              - routing_key: b
                http_config: {proxy_url: 'http://other:3128'}
        """
    )
    first, second = (s.config for s in config.receivers["r"].integrations)
    assert isinstance(first, PagerDutyConfig)
    assert isinstance(second, PagerDutyConfig)
    assert first.url == "http://127.0.0.1:9/v2/enqueue"
    assert first.http_config.proxy_url == "http://proxy:3128"
    assert first.http_config.bearer_token is not None
    assert second.http_config.proxy_url == "http://other:3128"
    assert second.http_config.bearer_token is None
    assert "global-token" not in repr(config)


def test_of_two_merged_mappings_the_first_wins() -> None:
    """``<<: [*a, *b]`` takes a key both define from ``a``, as Go's decoder does."""
    config = load(
        """\
        x-a: &a {receiver: first, repeat_interval: 1h}
        x-b: &b {receiver: second, group_wait: 1m}
        route:
          receiver: r
          routes: [{<<: [*a, *b]}]
        receivers: [{name: r}, {name: first}, {name: second}]
        """
    )
    assert receivers_for(config) == ["first"]
