"""A fake Jira REST API that keeps issues: search (v2 and Cloud's v3 ``search/jql``), create,
update, and workflow transitions, behind basic auth (user + API token) or a bearer token.

    async with FakeJira(basic=("bot@example.com", "api-token")) as jira:
        config = {"api_url": jira.api_url, "project": "OPS", "issue_type": "Bug", ...}
        ...
        jira.issues["OPS-1"]["fields"]["status"]["name"]     # "To Do", "In Progress", "Done"
        jira.resolve("OPS-1", minutes_ago=90)               # as if closed 90 minutes ago

Search understands the JQL Alertmanager writes: ``project="X"``, ``labels="L"``,
``statusCategory != Done``, ``(resolutiondate is EMPTY OR resolutiondate >= -Nm)``,
``(resolution is EMPTY or resolution != "R")``, ordered by status then resolutiondate.
Errors are Jira's ``{"errorMessages": [...], "errors": {...}}`` with 400/401/404.
"""

from __future__ import annotations

import base64
import json
import re
import time
from typing import Any

from aiohttp import web

from fakes.http import FakeHTTPServer, RecordedRequest, ScriptedAnswer

__all__ = ["FakeJira"]

PROJECTS = ("OPS",)
ISSUE_TYPES = ("Bug", "Task", "Incident")
PRIORITIES = ("Highest", "High", "Medium", "Low", "Lowest")
# The workflow: name -> (status it leads to, resolution it sets), and from where it is offered.
TRANSITIONS = {
    "11": ("Start Progress", "In Progress", None),
    "21": ("Done", "Done", "Done"),
    "31": ("Won't Do", "Done", "Won't Fix"),
    "41": ("Reopen", "To Do", None),
}
_CATEGORY = {"To Do": "new", "In Progress": "indeterminate", "Done": "done"}
_STATUS_ORDER = {"To Do": 0, "In Progress": 1, "Done": 2}


def _error(status: int, *messages: str, **errors: str) -> web.Response:
    return web.json_response({"errorMessages": list(messages), "errors": errors}, status=status)


class FakeJira(FakeHTTPServer):
    """Jira's REST API v2 and v3 under ``/rest/api/{2,3}``."""

    def __init__(self, *, basic: tuple[str, str] | None = None, bearer: str | None = None) -> None:
        self.basic = basic
        self.bearer = bearer
        self.issues: dict[str, dict[str, Any]] = {}
        self.searches: list[str] = []
        self._next = 1
        super().__init__()

    def setup(self, app: web.Application) -> None:
        """Routes of both API versions."""
        for version in ("2", "3"):
            base = f"/rest/api/{version}"
            app.router.add_post(f"{base}/search", self.route(self._search))
            app.router.add_post(f"{base}/search/jql", self.route(self._search))
            app.router.add_post(f"{base}/issue", self.route(self._create))
            app.router.add_put(f"{base}/issue/{{key}}", self.route(self._update))
            app.router.add_get(f"{base}/issue/{{key}}/transitions", self.route(self._transitions))
            app.router.add_post(f"{base}/issue/{{key}}/transitions", self.route(self._transition))

    @property
    def api_url(self) -> str:
        """The v2 API base, for ``api_url``."""
        return f"{self.url}/rest/api/2"

    @staticmethod
    def error(status: int, message: str) -> ScriptedAnswer:
        """A Jira error answer."""
        return ScriptedAnswer(status, json.dumps({"errorMessages": [message], "errors": {}}))

    def status_of(self, key: str) -> str:
        """The issue's status name."""
        return str(self.issues[key]["fields"]["status"]["name"])

    def resolve(self, key: str, minutes_ago: float = 0, resolution: str = "Done") -> None:
        """Close ``key`` directly, as if a person did ``minutes_ago``."""
        self._move(self.issues[key], "Done", resolution, time.time() - minutes_ago * 60)

    # -- handlers ----------------------------------------------------------------------------

    def _authorized(self, request: RecordedRequest) -> bool:
        given = request.headers.get("Authorization", "")
        if self.bearer is not None and given == f"Bearer {self.bearer}":
            return True
        if self.basic is not None:
            pair = base64.b64encode(":".join(self.basic).encode()).decode()
            return given == f"Basic {pair}"
        return self.bearer is None

    def _v3(self, request: RecordedRequest) -> bool:
        return request.path.startswith("/rest/api/3/")

    async def _search(self, request: RecordedRequest) -> web.StreamResponse:
        if not self._authorized(request):
            return _error(401, "You are not authenticated.")
        body = json.loads(request.body)
        jql = str(body.get("jql", ""))
        self.searches.append(jql)
        try:
            found = [i for i in self.issues.values() if _matches(i, jql)]
        except ValueError as exc:
            return _error(400, f"Error in the JQL Query: {exc}")
        found.sort(
            key=lambda i: (
                _STATUS_ORDER[i["fields"]["status"]["name"]],
                -(i["fields"].get("resolutiondate") or 0),
            )
        )
        limit = int(body.get("maxResults", 50))
        shown = [{"id": i["id"], "key": i["key"], "fields": {"status": i["fields"]["status"]}}
                 for i in found[:limit]]  # fmt: skip
        return web.json_response({"issues": shown, "total": len(found)})

    async def _create(self, request: RecordedRequest) -> web.StreamResponse:
        if not self._authorized(request):
            return _error(401, "You are not authenticated.")
        fields = json.loads(request.body).get("fields") or {}
        problems = self._field_problems(fields, self._v3(request), creating=True)
        if problems:
            return _error(400, **problems)
        key = f"{fields['project']['key']}-{self._next}"
        issue = {"id": str(10000 + self._next), "key": key, "fields": dict(fields)}
        self._next += 1
        self._move(issue, "To Do", None, None)
        self.issues[key] = issue
        return web.json_response(
            {"id": issue["id"], "key": key, "self": f"{self.url}/x"}, status=201
        )

    async def _update(self, request: RecordedRequest) -> web.StreamResponse:
        if not self._authorized(request):
            return _error(401, "You are not authenticated.")
        issue = self.issues.get(request.path.rsplit("/", 1)[-1])
        if issue is None:
            return _error(404, "Issue does not exist or you do not have permission to see it.")
        fields = json.loads(request.body).get("fields") or {}
        problems = self._field_problems(fields, self._v3(request), creating=False)
        if problems:
            return _error(400, **problems)
        issue["fields"].update(fields)
        return web.Response(status=204)

    async def _transitions(self, request: RecordedRequest) -> web.StreamResponse:
        if not self._authorized(request):
            return _error(401, "You are not authenticated.")
        issue = self.issues.get(request.path.split("/")[-2])
        if issue is None:
            return _error(404, "Issue does not exist or you do not have permission to see it.")
        offered = [{"id": tid, "name": name} for tid, (name, _, _) in self._offered(issue).items()]
        return web.json_response({"transitions": offered})

    async def _transition(self, request: RecordedRequest) -> web.StreamResponse:
        if not self._authorized(request):
            return _error(401, "You are not authenticated.")
        issue = self.issues.get(request.path.split("/")[-2])
        if issue is None:
            return _error(404, "Issue does not exist or you do not have permission to see it.")
        wanted = str((json.loads(request.body).get("transition") or {}).get("id"))
        offered = self._offered(issue)
        if wanted not in offered:
            return _error(400, f"Transition id '{wanted}' is not valid for this issue.")
        _, status, resolution = offered[wanted]
        self._move(issue, status, resolution, time.time() if resolution else None)
        return web.Response(status=204)

    # -- state -------------------------------------------------------------------------------

    def _offered(self, issue: dict[str, Any]) -> dict[str, tuple[str, str, str | None]]:
        done = issue["fields"]["status"]["name"] == "Done"
        return {tid: t for tid, t in TRANSITIONS.items() if (t[1] == "To Do") == done}

    @staticmethod
    def _move(
        issue: dict[str, Any], status: str, resolution: str | None, when: float | None
    ) -> None:
        issue["fields"]["status"] = {"name": status, "statusCategory": {"key": _CATEGORY[status]}}
        issue["fields"]["resolution"] = {"name": resolution} if resolution else None
        issue["fields"]["resolutiondate"] = when

    @staticmethod
    def _field_problems(fields: dict[str, Any], v3: bool, *, creating: bool) -> dict[str, str]:
        problems = {}
        if creating and (fields.get("project") or {}).get("key") not in PROJECTS:
            problems["project"] = "valid project is required"
        if creating and (fields.get("issuetype") or {}).get("name") not in ISSUE_TYPES:
            problems["issuetype"] = "valid issue type is required"
        if creating and not fields.get("summary"):
            problems["summary"] = "You must specify a summary of the issue."
        if len(str(fields.get("summary") or "")) > 255:
            problems["summary"] = "Summary must be less than 255 characters."
        if "priority" in fields and (fields["priority"] or {}).get("name") not in PRIORITIES:
            problems["priority"] = "Specify a valid priority."
        if "description" in fields:
            description = fields["description"]
            if v3 and not (isinstance(description, dict) and description.get("type") == "doc"):
                problems["description"] = "Operation value must be an Atlassian Document."
            if not v3 and not isinstance(description, str):
                problems["description"] = "Operation value must be a string"
        for label in fields.get("labels") or []:
            if " " in label:
                problems["labels"] = "The label must not contain spaces."
        return problems


_CLAUSES = (
    (re.compile(r'project="([^"]*)"'), lambda i, m: i["fields"]["project"]["key"] == m[1]),
    (re.compile(r'labels="([^"]*)"'), lambda i, m: m[1] in (i["fields"].get("labels") or [])),
    (
        re.compile(r"statusCategory != Done"),
        lambda i, m: i["fields"]["status"]["statusCategory"]["key"] != "done",
    ),
    (
        re.compile(r"\(resolutiondate is EMPTY OR resolutiondate >= -(\d+)m\)"),
        lambda i, m: (
            i["fields"]["resolutiondate"] is None
            or i["fields"]["resolutiondate"] >= time.time() - int(m[1]) * 60
        ),
    ),
    (
        re.compile(r'\(resolution is EMPTY or resolution != "([^"]*)"\)'),
        lambda i, m: i["fields"]["resolution"] is None or i["fields"]["resolution"]["name"] != m[1],
    ),
)


def _matches(issue: dict[str, Any], jql: str) -> bool:
    """Whether ``issue`` satisfies every clause of ``jql`` (ValueError on an unknown clause)."""
    where = jql.split(" order by ")[0]
    rest = where
    for pattern, test in _CLAUSES:
        for found in pattern.finditer(where):
            if not test(issue, found):
                return False
            rest = rest.replace(found[0], "")
    if rest.replace("and", "").strip():
        raise ValueError(f"unsupported clause in {rest.strip()!r}")
    return True
