"""The Jira notifier against a fake Jira that keeps issues and speaks search and transitions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from alertrouter.config.loader import parse_routing_config
from alertrouter.errors import NotifierError, PermanentNotifierError, RetryableNotifierError
from alertrouter.notifiers.base import Notification
from alertrouter.notifiers.default_texts import jira_priority
from alertrouter.notifiers.jira import JiraConfig, JiraNotifier, group_label
from alertrouter.templates import from_globs
from chat_factories import GROUP_KEY, make_alert, make_notification
from fakes.http import ScriptedAnswer
from fakes.jira import FakeJira

USER, API_TOKEN = "bot@example.com", "jIrA-aPi-ToKeN-0123456789"
LABEL = "ALERT{" + hashlib.sha256(GROUP_KEY.encode()).hexdigest() + "}"

Make = Callable[..., JiraNotifier]


def group(status: str, *, count: int = 1, severity: str = "critical") -> Notification:
    """The HighLatency group, firing or resolved, with its webhook status."""
    alerts = [make_alert(status=status, index=i, severity=severity) for i in range(count)]
    notification = make_notification(alerts)
    return Notification(
        notification.receiver,
        notification.integration,
        notification.alerts,
        {**notification.group, "status": status},
    )


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The shared HTTP session."""
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def jira() -> AsyncIterator[FakeJira]:
    """A running fake Jira with basic auth."""
    async with FakeJira(basic=(USER, API_TOKEN)) as fake:
        yield fake


@pytest.fixture
def make(session: aiohttp.ClientSession, jira: FakeJira) -> Make:
    """A JiraNotifier for project OPS, resolving with "Done" and reopening with "Reopen"."""

    def build(**fields: Any) -> JiraNotifier:
        base = {
            "api_url": jira.api_url,
            "project": "OPS",
            "issue_type": "Bug",
            "resolve_transition": "Done",
            "reopen_transition": "Reopen",
            "reopen_duration": "1h",
            "http_config": {"basic_auth": {"username": USER, "password": API_TOKEN}},
        }
        config = JiraConfig.model_validate({**base, **fields})
        return JiraNotifier(config, session, receiver="team-chat", integration="jira[0]")

    return build


async def test_firing_group_creates_one_labelled_issue(jira: FakeJira, make: Make) -> None:
    """A firing group searches for its label, then creates the issue Alertmanager would."""
    receipt = await make(labels=["alertmanager", "{{ .CommonLabels.severity }}"]).send(
        group("firing", count=2)
    )

    assert (receipt.provider_status, receipt.message_id) == ("created", "OPS-1")
    (issue,) = jira.issues.values()
    fields = issue["fields"]
    assert fields["summary"] == "[FIRING:2] HighLatency (critical)"
    assert fields["labels"] == sorted(["alertmanager", "critical", LABEL])
    assert fields["priority"] == {"name": "High"}  # Alertmanager's default from severity
    assert fields["issuetype"] == {"name": "Bug"}
    assert fields["description"].startswith("\n\n# Alerts Firing:\n")
    assert jira.searches == [
        '(resolutiondate is EMPTY OR resolutiondate >= -60m) and project="OPS" and '
        f'labels="{LABEL}" order by status ASC,resolutiondate DESC'
    ]
    search = jira.requests[0]
    assert search.path == "/rest/api/2/search"
    assert json.loads(search.body)["fields"] == ["status"]
    assert search.headers["Authorization"].startswith("Basic ")


async def test_refire_updates_the_same_issue(jira: FakeJira, make: Make) -> None:
    """Firing again while the issue is open updates it instead of opening another."""
    notifier = make()
    await notifier.send(group("firing", count=1))
    receipt = await notifier.send(group("firing", count=3))

    assert (receipt.provider_status, receipt.message_id) == ("updated", "OPS-1")
    assert list(jira.issues) == ["OPS-1"]
    assert jira.issues["OPS-1"]["fields"]["summary"].startswith("[FIRING:3]")


async def test_resolve_transitions_the_issue(jira: FakeJira, make: Make) -> None:
    """The group's resolve updates the issue and applies resolve_transition."""
    notifier = make()
    await notifier.send(group("firing"))
    receipt = await notifier.send(group("resolved"))

    assert (receipt.provider_status, receipt.message_id) == ("Done", "OPS-1")
    assert jira.status_of("OPS-1") == "Done"
    assert jira.issues["OPS-1"]["fields"]["summary"].startswith("[RESOLVED]")


async def test_refire_within_reopen_duration_reopens(jira: FakeJira, make: Make) -> None:
    """A done issue firing again within reopen_duration is reopened, not duplicated."""
    notifier = make()
    await notifier.send(group("firing"))
    jira.resolve("OPS-1", minutes_ago=30)
    receipt = await notifier.send(group("firing"))

    assert (receipt.provider_status, receipt.message_id) == ("Reopen", "OPS-1")
    assert jira.status_of("OPS-1") == "To Do"
    assert len(jira.issues) == 1


async def test_refire_after_reopen_duration_opens_a_new_issue(jira: FakeJira, make: Make) -> None:
    """An issue closed longer ago than reopen_duration stays closed; a new one is opened."""
    notifier = make()
    await notifier.send(group("firing"))
    jira.resolve("OPS-1", minutes_ago=90)
    receipt = await notifier.send(group("firing"))

    assert receipt.message_id == "OPS-2"
    assert jira.status_of("OPS-1") == "Done"


async def test_without_reopen_transition_done_issues_stay_done(jira: FakeJira, make: Make) -> None:
    """Without reopen_transition only open issues are searched, as Alertmanager does."""
    notifier = make(reopen_transition="")
    await notifier.send(group("firing"))
    jira.resolve("OPS-1", minutes_ago=1)
    await notifier.send(group("firing"))

    assert sorted(jira.issues) == ["OPS-1", "OPS-2"]
    assert jira.searches[-1].startswith("statusCategory != Done and ")


async def test_wont_fix_issues_are_not_reopened(jira: FakeJira, make: Make) -> None:
    """An issue closed as wont_fix_resolution is left alone; open ones are still found."""
    notifier = make(wont_fix_resolution="Won't Fix")
    await notifier.send(group("firing"))
    await notifier.send(group("firing"))  # still open: found despite the resolution clause
    assert len(jira.issues) == 1
    jira.resolve("OPS-1", minutes_ago=5, resolution="Won't Fix")
    await notifier.send(group("firing"))

    assert sorted(jira.issues) == ["OPS-1", "OPS-2"]
    assert jira.status_of("OPS-1") == "Done"
    assert jira.searches[-1].startswith('(resolution is EMPTY or resolution != "Won\'t Fix")')


async def test_resolved_without_issue_creates_nothing(jira: FakeJira, make: Make) -> None:
    """A resolve for a group that has no open issue is delivered without creating one."""
    receipt = await make().send(group("resolved"))

    assert receipt.provider_status == "no open issue"
    assert jira.issues == {}


async def test_resolve_without_transition_only_updates(jira: FakeJira, make: Make) -> None:
    """With no resolve_transition the issue is updated and left open (Alertmanager #4821)."""
    notifier = make(resolve_transition="")
    await notifier.send(group("firing"))
    await notifier.send(group("resolved"))

    assert jira.status_of("OPS-1") == "To Do"


async def test_disabled_updates_keep_summary_and_description(jira: FakeJira, make: Make) -> None:
    """``enable_update: false`` keeps the summary and description an issue was created with."""
    notifier = make(
        summary={"template": "{{ .Status }} {{ len .Alerts }}", "enable_update": False},
        description={"template": "first {{ len .Alerts }}", "enable_update": False},
    )
    await notifier.send(group("firing", count=1))
    await notifier.send(group("firing", count=2))

    fields = jira.issues["OPS-1"]["fields"]
    assert (fields["summary"], fields["description"]) == ("firing 1", "first 1")


async def test_custom_fields_and_structured_values(jira: FakeJira, make: Make) -> None:
    """Custom fields are templated; a value rendering to YAML structure is sent structured."""
    await make(
        priority='{{ if eq .CommonLabels.severity "critical" }}Highest{{ end }}',
        fields={
            "customfield_10001": "{{ .CommonLabels.alertname }}",
            "customfield_10002": {"value": "{{ .Status }}"},
            "customfield_10003": '{{ "[a, b]" }}',
            "customfield_10004": 7,
        },
    ).send(group("firing"))

    fields = jira.issues["OPS-1"]["fields"]
    assert fields["priority"] == {"name": "Highest"}
    assert fields["customfield_10001"] == "HighLatency"
    assert fields["customfield_10002"] == {"value": "firing"}
    assert fields["customfield_10003"] == ["a", "b"]
    assert fields["customfield_10004"] == 7


async def test_summary_is_cut_to_255(jira: FakeJira, make: Make) -> None:
    """A summary over 255 characters is cut with "…" and Jira accepts it."""
    await make(summary="s" * 400).send(group("firing"))

    summary = jira.issues["OPS-1"]["fields"]["summary"]
    assert len(summary) == 255
    assert summary.endswith("…")


async def test_cloud_api_searches_v3_with_adf_description(
    jira: FakeJira, session: aiohttp.ClientSession
) -> None:
    """api_type cloud on a v3 URL searches /rest/api/3/search/jql and sends an ADF document."""
    config = JiraConfig.model_validate(
        {
            "api_url": f"{jira.url}/rest/api/3",
            "api_type": "cloud",
            "project": "OPS",
            "issue_type": "Task",
            "http_config": {"basic_auth": {"username": USER, "password": API_TOKEN}},
        }
    )
    await JiraNotifier(config, session, receiver="r", integration="jira[0]").send(group("firing"))

    assert jira.requests[0].path == "/rest/api/3/search/jql"
    description = jira.issues["OPS-1"]["fields"]["description"]
    assert description["type"] == "doc"
    assert "# Alerts Firing:" in description["content"][0]["content"][0]["text"]


async def test_bearer_token_auth(session: aiohttp.ClientSession) -> None:
    """A Data Center personal access token goes as a bearer token from http_config."""
    async with FakeJira(bearer="pAt-0123456789") as jira:
        config = JiraConfig.model_validate(
            {
                "api_url": jira.api_url,
                "api_type": "datacenter",
                "project": "OPS",
                "issue_type": "Bug",
                "http_config": {"authorization": {"credentials": "pAt-0123456789"}},
            }
        )
        notifier = JiraNotifier(config, session, receiver="r", integration="jira[0]")
        await notifier.send(group("firing"))

        assert list(jira.issues) == ["OPS-1"]


async def test_missing_transition_is_permanent(jira: FakeJira, make: Make) -> None:
    """A resolve_transition the workflow does not offer is a permanent clientError."""
    notifier = make(resolve_transition="Close Issue")
    await notifier.send(group("firing"))
    with pytest.raises(PermanentNotifierError, match="Close Issue"):
        await notifier.send(group("resolved"))


@pytest.mark.parametrize(
    ("answer", "error", "reason", "retry_after"),
    [
        (FakeJira.error(400, "Field 'priority' is required"), PermanentNotifierError,
         "clientError", None),
        (FakeJira.error(403, "Forbidden"), PermanentNotifierError, "authError", None),
        (ScriptedAnswer(429, "", {"Retry-After": "5"}), RetryableNotifierError, "rateLimited",
         5.0),
        (ScriptedAnswer(503), RetryableNotifierError, "serverError", None),
    ],
)  # fmt: skip
async def test_answers_are_classified(
    jira: FakeJira,
    make: Make,
    answer: ScriptedAnswer,
    error: type[NotifierError],
    reason: str,
    retry_after: float | None,
) -> None:
    """4xx permanent (403 authError), 429 waits Retry-After (Alertmanager retries it), 5xx."""
    jira.fail_next(answer)
    with pytest.raises(NotifierError) as caught:
        await make().send(group("firing"))

    assert type(caught.value) is error
    assert caught.value.reason == reason
    assert getattr(caught.value, "retry_after", None) == retry_after


async def test_wrong_token_is_auth_error_and_masked(
    jira: FakeJira, session: aiohttp.ClientSession
) -> None:
    """A wrong API token is a permanent authError that never shows the token."""
    config = JiraConfig.model_validate(
        {
            "api_url": jira.api_url,
            "project": "OPS",
            "issue_type": "Bug",
            "http_config": {"basic_auth": {"username": USER, "password": "wrong-token-000"}},
        }
    )
    with pytest.raises(PermanentNotifierError) as caught:
        await JiraNotifier(config, session, receiver="r", integration="jira[0]").send(
            group("firing")
        )

    assert caught.value.reason == "authError"
    assert "wrong-token-000" not in str(caught.value)
    assert "wrong-token-000" not in repr(config)


def test_group_label_is_alertmanagers() -> None:
    """The label is ALERT{sha256(groupKey)}, the one Alertmanager's Jira receiver sets."""
    assert group_label(group("firing")) == LABEL


def test_config_follows_alertmanager() -> None:
    """project and issue_type are required, api_type is checked, global jira_api_url fills in."""
    with pytest.raises(ValidationError, match="project"):
        JiraConfig.model_validate(
            {"api_url": "https://x.atlassian.net/rest/api/2", "issue_type": "Bug"}
        )
    with pytest.raises(ValidationError, match="api_type"):
        JiraConfig.model_validate(
            {"api_url": "https://x/rest/api/2", "project": "P", "issue_type": "B", "api_type": "x"}
        )
    with pytest.raises(ValidationError, match="jira_api_url"):
        JiraConfig.model_validate({"project": "P", "issue_type": "B"})
    routing = """\
global: {jira_api_url: "https://example.atlassian.net/rest/api/2"}
route: {receiver: j}
receivers:
  - name: j
    jira_configs:
      - {project: OPS, issue_type: Bug, summary: "{{ .Status }}"}
"""
    (spec,) = parse_routing_config(routing, "j.yml", {}).receivers["j"].integrations
    assert spec.config.search_url == "https://example.atlassian.net/rest/api/3/search/jql"
    assert spec.config.summary.template == "{{ .Status }}"
    assert spec.config.resolved_wanted is True
    assert JiraNotifier.coalesce is False


@pytest.mark.parametrize(
    ("firing", "resolved", "priority"),
    [
        (["warning", "critical"], [], "High"),
        (["info", "warning"], ["critical"], "Medium"),
        (["info"], [], "Low"),
        ([], ["warning"], "Medium"),
        (["none"], ["critical"], "High"),
        ([], [], ""),
    ],
)
def test_default_priority_is_alertmanagers(
    firing: list[str], resolved: list[str], priority: str
) -> None:
    """jira.default.priority: from the firing severities, the resolved ones when none fires."""
    assert jira_priority(firing, resolved) == priority


async def test_routing_file_may_redefine_jira_default_priority(
    jira: FakeJira, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """A ``templates:`` file defining jira.default.priority decides the priority."""
    (tmp_path / "jira.tmpl").write_text('{{ define "jira.default.priority" }}Lowest{{ end }}')
    config = JiraConfig.model_validate(
        {
            "api_url": jira.api_url,
            "project": "OPS",
            "issue_type": "Bug",
            "http_config": {"basic_auth": {"username": USER, "password": API_TOKEN}},
        }
    )
    notifier = JiraNotifier(
        config,
        session,
        receiver="r",
        integration="jira[0]",
        templates=from_globs([str(tmp_path / "*.tmpl")]),
    )
    await notifier.send(group("firing"))

    assert jira.issues["OPS-1"]["fields"]["priority"] == {"name": "Lowest"}
