"""Go templates end to end: from a posted webhook to the texts the Slack and PagerDuty fakes get.

The routing file loads its own ``templates:`` file (``{{ define }}`` blocks, relative to the
file's folder) and calls it from Slack's ``title``/``text``; PagerDuty's ``description`` is a
template of its own. A template that fails at send time still delivers, with our default
rendering for that field, and is counted in ``alertrouter_template_errors_total``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from fakes.pagerduty import FakePagerDuty
from fakes.slack import FakeSlack
from test_delivery_acceptance import ROUTING_KEY, in_process, wait_until, webhook
from test_notifier_slack import header, sections

TEMPLATES = """\
{{ define "team.title" -}}
[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} × {{ len .Alerts }}
{{- end }}
{{ define "team.text" }}{{ range .Alerts }}• {{ .Labels.instance }}: {{ .Annotations.summary }}
{{ end }}{{ end }}
"""


def routing(slack_url: str, pagerduty_url: str, slack_text: str) -> str:
    """Warnings to Slack with templated title/text; critical to PagerDuty with a description."""
    return textwrap.dedent(
        f"""\
        templates: ['templates/*.tmpl']
        route:
          receiver: slack
          repeat_interval: 1h
          routes:
            - matchers: ['severity="critical"']
              receiver: pagerduty
        receivers:
          - name: slack
            slack_configs:
              - api_url: {slack_url}
                title: '{{{{ template "team.title" . }}}}'
                text: '{slack_text}'
          - name: pagerduty
            pagerduty_configs:
              - routing_key: {ROUTING_KEY}
                url: {pagerduty_url}
                description: '{{{{ .CommonLabels.alertname }}}} on {{{{ .CommonLabels.instance }}}}'
        """
    )


def write_templates(folder: Path) -> None:
    """The routing file's own template file, beside it."""
    (folder / "templates").mkdir()
    (folder / "templates" / "team.tmpl").write_text(TEMPLATES, encoding="utf-8")


async def test_custom_templates_reach_slack_and_pagerduty(tmp_path: Path) -> None:
    """A templates: file's definitions title and fill the Slack message; PagerDuty's summary is
    its description template, rendered for the alert."""
    write_templates(tmp_path)
    async with FakeSlack() as slack, FakePagerDuty() as pagerduty:
        text = routing(slack.webhook_url(), pagerduty.events_url, '{{ template "team.text" . }}')
        async with in_process(tmp_path, text) as app:
            await app.post(webhook(["web-1:8080", "web-2:8080"]))
            await app.post(webhook(["db-1:9100"], severity="critical", alertname="DiskFull"))
            await slack.wait_for(1)

            async def paged() -> bool:
                return len(pagerduty.events) == 1

            await wait_until("the page", paged, 10)
    (message,) = slack.messages
    assert message["text"] == "[FIRING] HighLatency × 2"
    assert header(message) == "🔥 [FIRING] HighLatency × 2"
    summary = webhook(["x"])["alerts"][0]["annotations"]["summary"]
    assert sections(message) == [f"• web-1:8080: {summary}\n• web-2:8080: {summary}"]
    (event,) = pagerduty.events
    assert event["payload"]["summary"] == "DiskFull on db-1:9100"


async def test_a_template_failing_at_send_time_still_delivers_and_is_counted(
    tmp_path: Path,
) -> None:
    """``text`` that fails when executed (index out of range) falls back to our own sections;
    the message is delivered and alertrouter_template_errors_total counts the failure."""
    write_templates(tmp_path)
    async with FakeSlack() as slack, FakePagerDuty() as pagerduty:
        text = routing(slack.webhook_url(), pagerduty.events_url, "{{ index .Alerts 5 }}")
        async with in_process(tmp_path, text) as app:
            result = await app.post(webhook(["web-1:8080"]))
            await slack.wait_for(1)

            async def done() -> bool:
                return await app.state_of(result["jobs"][0]) == "done"

            await wait_until("the delivery", done, 10)
            metrics = await (await app.client.get("/metrics")).text()
    (message,) = slack.messages
    assert header(message) == "🔥 [FIRING] HighLatency × 1"  # the title template still applies
    (section,) = sections(message)
    assert "*HighLatency*" in section  # our default rendering of the alert
    assert 'alertrouter_template_errors_total{integration="slack",receiver="slack"} 1.0' in metrics
