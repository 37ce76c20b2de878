"""The operator console over HTTP, without a browser: credentials, CSRF, escaping, headers,
the JSON twins, and ``ALERTROUTER_UI=false``. The browser tests are in ``test_ui_browser.py``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request

from alertrouter.app import make_app
from alertrouter.cli.main import main as cli_main
from alertrouter.config.loader import load_routing_config
from alertrouter.config.settings import Settings
from alertrouter.payload import WebhookPayload
from alertrouter.service import SERVICE, Service
from alertrouter.ui.auth import SESSION_COOKIE, ConsoleAuth
from test_delivery_acceptance import webhook

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = REPO / "src" / "alertrouter" / "ui" / "templates"
TOKEN = "admin-" + "t" * 26
ROUTING_KEY = "k" * 32
XSS = "<img src=x onerror=alert(1)>"
PAGES = ("/ui/", "/ui/notifications", "/ui/dead-letters", "/ui/routes", "/ui/templates")
ROUTING = f"""
route:
  receiver: slack
  repeat_interval: 1h
  routes:
    - matchers: ['severity="critical"']
      receiver: pagerduty
      continue: true
    - matchers: ['team="infra"']
      receiver: slack
receivers:
  - name: slack
    slack_configs:
      - api_url: http://127.0.0.1:9/services/T/B/SECRETPATH
        title: '{{{{ .Status | toUpper }}}} {{{{ .CommonLabels.alertname }}}}'
  - name: pagerduty
    pagerduty_configs:
      - routing_key: {ROUTING_KEY}
        url: http://127.0.0.1:9/v2/enqueue
"""


@contextlib.asynccontextmanager
async def console(
    tmp_path: Path, *, token: str | None = TOKEN, ui: bool = True, routing: str = ROUTING
) -> AsyncIterator[tuple[TestClient[Any, Any], Service]]:
    """The app (no delivery: jobs stay where the test puts them) with a memory store."""
    path = tmp_path / "routing.yml"
    path.write_text(textwrap.dedent(routing), encoding="utf-8")
    settings = Settings(config_path=str(path), state_url="memory://", admin_token=token, ui=ui)
    app = make_app(settings, load_routing_config(path))
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client, app[SERVICE]


def csrf_of(page: str) -> str:
    """The CSRF token a page's forms carry."""
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


async def log_in(client: TestClient[Any, Any]) -> None:
    """Log in through the form, as a browser does."""
    form = await (await client.get("/ui/login")).text()
    answer = await client.post(
        "/ui/login",
        data={"token": TOKEN, "csrf": csrf_of(form), "next": "/ui/"},
        allow_redirects=False,
    )
    assert answer.status == 303, await answer.text()


async def bury(service: Service, body: dict[str, Any], error: str) -> int:
    """Ingest ``body`` and dead-letter its first job with ``error``."""
    outcome = await service.accept(WebhookPayload.model_validate(body), service.clock())
    job_id = outcome.job_ids[0]
    await service.store.fetch_due(None, service.clock(), 100, 60)
    await service.store.dead_letter(job_id, error, service.clock())
    return job_id


async def test_pages_need_a_login_and_the_login_sets_a_strict_httponly_cookie(
    tmp_path: Path,
) -> None:
    """Without credentials a page redirects to the login; a wrong token is refused; the right
    one sets an HttpOnly, SameSite=Strict cookie scoped to /ui/ that opens every page."""
    async with console(tmp_path) as (client, _):
        for path in PAGES:
            answer = await client.get(path, allow_redirects=False)
            assert answer.status == 303
            assert answer.headers["Location"] == f"/ui/login?next={path}"
        form = await (await client.get("/ui/login")).text()
        wrong = await client.post(
            "/ui/login", data={"token": "guess", "csrf": csrf_of(form)}, allow_redirects=False
        )
        assert wrong.status == 401
        assert "not the admin token" in await wrong.text()
        right = await client.post(
            "/ui/login",
            data={"token": TOKEN, "csrf": csrf_of(form), "next": "https://evil.example/"},
            allow_redirects=False,
        )
        assert right.status == 303
        assert right.headers["Location"] == "/ui/"  # never off-site after a login
        cookie = right.headers["Set-Cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=Strict" in cookie
        assert "Path=/ui/" in cookie
        assert "Secure" not in cookie  # plain HTTP here; see the TLS case below
        for path in PAGES:
            assert (await client.get(path, allow_redirects=False)).status == 200, path


async def test_the_bearer_header_opens_pages_and_the_json_twins(tmp_path: Path) -> None:
    """The admin API's ``Authorization: Bearer`` works for pages; the twins refuse without."""
    async with console(tmp_path) as (client, _):
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert (await client.get("/ui/routes", headers=bearer)).status == 200
        assert (await client.get("/api/v1/overview")).status == 401
        assert (await client.get("/api/v1/overview", headers=bearer)).status == 200


def test_the_session_cookie_is_secure_over_tls_and_expires() -> None:
    """Served over TLS (or behind a TLS proxy) the cookie is Secure; an expired or forged
    session is refused."""
    auth = ConsoleAuth(TOKEN)
    request = make_mocked_request("POST", "/ui/login").clone(scheme="https")
    response = web.Response()
    auth.set_session(response, request, 1000.0)
    assert response.cookies[SESSION_COOKIE]["secure"] is True
    proxied = make_mocked_request("POST", "/ui/login", headers={"X-Forwarded-Proto": "https"})
    behind_proxy = web.Response()
    auth.set_session(behind_proxy, proxied, 1000.0)
    assert behind_proxy.cookies[SESSION_COOKIE]["secure"] is True
    value = auth.new_session(1000.0)
    assert auth.session_valid(value, 1000.0)
    assert not auth.session_valid(value, 1000.0 + 13 * 3600)
    assert not auth.session_valid(value[:-1] + "0", 1000.0)
    assert not ConsoleAuth("another-token").session_valid(value, 1000.0)


def test_without_a_token_only_loopback_may_look() -> None:
    """With no admin token set, only a loopback peer that asked for a loopback host name."""
    auth = ConsoleAuth(None)

    def request(remote: str, host: str) -> web.Request:
        return make_mocked_request("GET", "/ui/", headers={"Host": host}).clone(remote=remote)

    assert auth.allowed(request("127.0.0.1", "127.0.0.1:8080"), 0.0)
    assert auth.allowed(request("::1", "[::1]:8080"), 0.0)
    assert auth.allowed(request("127.0.0.1", "localhost:8080"), 0.0)
    assert not auth.allowed(request("10.1.2.3", "127.0.0.1:8080"), 0.0)
    # DNS rebinding: another site's name resolved to 127.0.0.1 arrives from loopback.
    assert not auth.allowed(request("127.0.0.1", "evil.example:8080"), 0.0)


async def test_replay_needs_the_csrf_token_and_a_same_origin(tmp_path: Path) -> None:
    """A replay POST without this session's CSRF token, or from another origin, changes
    nothing; with both, the dead letter is pending again."""
    async with console(tmp_path) as (client, service):
        job_id = await bury(service, webhook(["a-1:80"]), "clientError: 400 invalid_payload")
        await log_in(client)
        page = await (await client.get("/ui/dead-letters")).text()
        assert "clientError: 400 invalid_payload" in page
        token = csrf_of(page)
        missing = await client.post("/ui/dead-letters/replay", data={"only": str(job_id)})
        forged = await client.post(
            "/ui/dead-letters/replay", data={"only": str(job_id), "csrf": "0" * 64}
        )
        cross = await client.post(
            "/ui/dead-letters/replay",
            data={"only": str(job_id), "csrf": token},
            headers={"Origin": "https://evil.example"},
        )
        assert [missing.status, forged.status, cross.status] == [403, 403, 403]
        assert (await service.store.get_job(job_id)).state == "dead"  # type: ignore[union-attr]
        done = await client.post(
            "/ui/dead-letters/replay",
            data={"id": [str(job_id)], "csrf": token},
            allow_redirects=False,
        )
        assert done.status == 303
        assert done.headers["Location"] == f"/ui/dead-letters?replayed={job_id}"
        assert (await service.store.get_job(job_id)).state == "pending"  # type: ignore[union-attr]


async def test_alert_data_and_provider_answers_render_as_text(tmp_path: Path) -> None:
    """A label, an annotation and a provider answer holding HTML come out escaped."""
    body = webhook([XSS])
    body["alerts"][0]["annotations"]["summary"] = f"<script>alert(2)</script>{XSS}"
    async with console(tmp_path) as (client, service):
        await bury(service, body, f"clientError: answered {XSS}")
        await log_in(client)
        for path in ("/ui/notifications", "/ui/dead-letters"):
            page = await (await client.get(path)).text()
            assert XSS not in page
            assert "<script>alert" not in page
            assert "&lt;img src=x onerror=alert(1)&gt;" in page
        tested = await client.get("/ui/routes", params={"labels": f'instance="{XSS}"'})
        assert XSS not in await tested.text()


async def test_every_page_sends_a_csp_without_inline_script(tmp_path: Path) -> None:
    """Each answer carries the CSP (``script-src 'self'``, no 'unsafe-inline'), and no template
    holds an inline script, event handler or style attribute the CSP would block."""
    async with console(tmp_path) as (client, _):
        await log_in(client)
        for path in (*PAGES, "/ui/login"):
            answer = await client.get(path)
            csp = answer.headers["Content-Security-Policy"]
            assert "script-src 'self'" in csp
            assert "unsafe-inline" not in csp
            assert answer.headers["X-Frame-Options"] == "DENY"
    for template in TEMPLATES.glob("*.j2"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert not re.search(r"\son[a-z]+=", text), template.name
        assert "style=" not in text, template.name
        assert "|safe" not in text.replace(" ", ""), template.name


async def test_no_secret_reaches_a_page_or_a_twin(tmp_path: Path) -> None:
    """Routing keys and webhook URLs never appear on a page or in a JSON twin."""
    async with console(tmp_path) as (client, _):
        await log_in(client)
        page = await (await client.get("/ui/templates")).text()
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        seen = [await (await client.get(path)).text() for path in PAGES]
        seen.append(
            await (
                await client.post(
                    "/ui/templates", data={"receiver": "slack", "csrf": csrf_of(page)}
                )
            ).text()
        )
        for path in ("/api/v1/overview", "/api/v1/routes", "/api/v1/notifications"):
            seen.append(await (await client.get(path, headers=bearer)).text())
        preview = await client.post(
            "/api/v1/templates/preview", json={"receiver": "pagerduty"}, headers=bearer
        )
        seen.append(await preview.text())
    for text in seen:
        assert ROUTING_KEY not in text
        assert "SECRETPATH" not in text
        assert TOKEN not in text


async def test_the_template_preview_renders_a_receivers_fields(tmp_path: Path) -> None:
    """A Slack title template renders for the sample data and for pasted data."""
    async with console(tmp_path) as (client, _):
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        sample = await (
            await client.post(
                "/api/v1/templates/preview", json={"receiver": "slack"}, headers=bearer
            )
        ).json()
        pasted = await (
            await client.post(
                "/api/v1/templates/preview",
                json={"receiver": "slack", "data": webhook(["x:1"], status="resolved")},
                headers=bearer,
            )
        ).json()
        unknown = await client.post(
            "/api/v1/templates/preview", json={"receiver": "nobody"}, headers=bearer
        )
    (field,) = sample["integrations"][0]["fields"]
    assert (field["field"], field["output"]) == ("title", "FIRING HighErrorRate")
    assert pasted["integrations"][0]["fields"][0]["output"] == "RESOLVED HighLatency"
    assert unknown.status == 400


async def test_the_routing_twin_says_what_routes_test_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``POST /api/v1/routes/test`` gives the CLI's receivers line and ``--explain`` walk."""
    labels = {"severity": "critical", "team": "infra"}
    async with console(tmp_path) as (client, service):
        answer = await client.post(
            "/api/v1/routes/test",
            json={"labels": labels},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        facts = await answer.json()
        config = service.settings.config_path
    code = cli_main(["routes", "test", "--config", config, "--explain", "severity=critical",
                     "team=infra"])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0
    assert printed.splitlines()[0] == facts["receivers"] == "pagerduty,slack"
    assert facts["explain"] in printed
    assert facts["matched"] == ["route.routes[0]", "route.routes[1]"]
    assert [n["integrations"] for n in facts["notifications"]] == [["pagerduty[0]"], ["slack[0]"]]


async def test_notifications_filter_and_link_an_alert_to_its_notifications(
    tmp_path: Path,
) -> None:
    """The history filters by alertname, state and fingerprint; each alert links to it."""
    async with console(tmp_path) as (client, service):
        await bury(service, webhook(["a:1"], alertname="DiskFull"), "serverError: 500")
        await bury(service, webhook(["b:1"], alertname="HighLatency"), "serverError: 500")
        bearer = {"Authorization": f"Bearer {TOKEN}"}

        async def ids(query: str) -> list[int]:
            answer = await client.get(f"/api/v1/notifications?{query}", headers=bearer)
            return [n["id"] for n in (await answer.json())["notifications"]]

        assert await ids("") == [2, 1]
        assert await ids("alertname=DiskFull") == [1]
        assert await ids("state=done") == []
        assert await ids("limit=1") == [2]
        assert await ids("limit=1&before=2") == [1]
        paged = await client.get("/api/v1/notifications?limit=1", headers=bearer)
        assert (await paged.json())["next_before"] == 2
        first = (await (await client.get("/api/v1/notifications", headers=bearer)).json())[
            "notifications"
        ][1]
        fingerprint = first["alerts"][0]["fingerprint"]
        assert await ids(f"fingerprint={fingerprint}") == [1]
        bad = await client.get("/api/v1/notifications?since=yesterday", headers=bearer)
        assert bad.status == 400
        page = await (await client.get("/ui/notifications", headers=bearer)).text()
        assert f'href="/ui/notifications?fingerprint={fingerprint}"' in page


async def test_the_console_can_be_turned_off(tmp_path: Path) -> None:
    """``ALERTROUTER_UI=false`` removes /ui/ entirely; the setting is read from the env."""
    assert Settings.from_env({"ALERTROUTER_UI": "false"}).ui is False
    assert Settings.from_env({}).ui is True
    async with console(tmp_path, ui=False) as (client, _):
        assert (await client.get("/ui/", allow_redirects=False)).status == 404
        assert (await client.get("/ui/login", allow_redirects=False)).status == 404


async def test_the_overview_page_the_twin_and_the_cli_state_the_same_facts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``alertrouter overview`` prints what ``/api/v1/overview`` answers and ``/ui/`` shows:
    each queue's counts, the config hash, the store and the replica."""
    async with console(tmp_path) as (client, service):
        await bury(service, webhook(["a:1"]), "clientError: 400")
        url = str(client.make_url("")).rstrip("/")
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        twin = await (await client.get("/api/v1/overview", headers=bearer)).json()
        page = await (await client.get("/ui/", headers=bearer)).text()
        code = await asyncio.to_thread(cli_main, ["overview", "--url", url, "--token", TOKEN])
        printed = capsys.readouterr().out
        await asyncio.to_thread(cli_main, ["overview", "--json", "--url", url, "--token", TOKEN])
        as_json = json.loads(capsys.readouterr().out)
    assert code == 0
    slack = next(q for q in twin["queues"] if q["queue"] == "slack/slack[0]")
    assert (slack["dead"], slack["failed_last_hour"], slack["pending"]) == (1, 1, 0)
    row = re.search(r'<tr data-queue="slack/slack\[0\]".*?</tr>', page, flags=re.DOTALL)
    assert row is not None
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td.*?</td>", row[0], re.S)]
    assert cells[2:] == ["0", "0", "—", "1", "0", "0.0", "1"]
    assert re.search(r"^slack\s+slack\[0\]\s+0\s+0\s+-\s+1\s+0\s+0\.0\s+1$", printed, re.M)
    assert twin["config"]["sha256"][:16] in page
    assert twin["config"]["sha256"][:16] in printed
    assert twin["replica"] in page
    assert twin["replica"] in printed
    assert {k: v for k, v in as_json.items() if k != "now"} == {
        k: v for k, v in twin.items() if k != "now"
    }


async def test_without_a_token_loopback_sees_the_console_and_still_needs_csrf(
    tmp_path: Path,
) -> None:
    """With no admin token, a loopback browser gets every page with no login, and a replay
    still needs the page's CSRF token."""
    async with console(tmp_path, token=None) as (client, service):
        job_id = await bury(service, webhook(["a:1"]), "clientError: 400")
        for path in PAGES:
            assert (await client.get(path, allow_redirects=False)).status == 200, path
        login = await client.get("/ui/login", allow_redirects=False)
        assert login.headers["Location"] == "/ui/"
        page = await (await client.get("/ui/dead-letters")).text()
        assert 'action="/ui/logout"' not in page
        refused = await client.post("/ui/dead-letters/replay", data={"only": str(job_id)})
        assert refused.status == 403
        done = await client.post(
            "/ui/dead-letters/replay",
            data={"only": str(job_id), "csrf": csrf_of(page)},
            allow_redirects=False,
        )
        assert done.status == 303
        assert (await service.store.get_job(job_id)).state == "pending"  # type: ignore[union-attr]


async def test_the_tree_shows_mute_and_active_intervals(tmp_path: Path) -> None:
    """A route's mute and active time intervals are on its box and in the JSON tree, and the
    tester says when a matched route is muted now."""
    timed = (
        ROUTING.replace(
            "      continue: true\n",
            "      continue: true\n      mute_time_intervals: [always]\n",
        ).replace(
            "      receiver: slack\nreceivers:",
            "      receiver: slack\n      active_time_intervals: [always]\nreceivers:",
        )
        + "time_intervals:\n  - name: always\n    time_intervals: [{}]\n"
    )
    async with console(tmp_path, routing=timed) as (client, _):
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        tree = await (await client.get("/api/v1/routes", headers=bearer)).json()
        page = await (
            await client.get("/ui/routes?labels=severity%3Dcritical", headers=bearer)
        ).text()
    first, second = tree["root"]["routes"]
    assert first["mute_time_intervals"] == ["always"]
    assert second["active_time_intervals"] == ["always"]
    assert "<dt>muted in</dt><dd>always</dd>" in page
    assert "<dt>active in</dt><dd>always</dd>" in page
    assert "<td>muted</td>" in page
