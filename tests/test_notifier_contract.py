"""The notifier contract (notifiers/base.py), run against every built-in over its loopback fake.

A notifier joins the suite by adding a Target to ``TARGETS`` and its provider's answers to
``OUTCOMES``: each row is (notifier, scripted failure, error class, reason, retry_after). Then
secrets, and third-party plugins found through the entry-point group.
"""

from __future__ import annotations

import contextlib
import enum
import json
import logging
import textwrap
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import BaseModel, SecretStr

from alertrouter.config.loader import parse_routing_config
from alertrouter.config.plugins import BUILTIN_NOTIFIERS, notifier_types
from alertrouter.errors import (
    ConfigError,
    NotifierError,
    PermanentNotifierError,
    RetryableNotifierError,
)
from alertrouter.notifiers.base import Notification, Notifier, Receipt
from alertrouter.notifiers.discord import DiscordNotifier
from alertrouter.notifiers.email import EmailNotifier
from alertrouter.notifiers.incidentio import IncidentioNotifier
from alertrouter.notifiers.jira import JiraNotifier
from alertrouter.notifiers.log import LogNotifier
from alertrouter.notifiers.mattermost import MattermostNotifier
from alertrouter.notifiers.msteams import MSTeamsNotifier
from alertrouter.notifiers.msteamsv2 import MSTeamsV2Notifier
from alertrouter.notifiers.opsgenie import OpsGenieNotifier
from alertrouter.notifiers.pagerduty import PagerDutyNotifier
from alertrouter.notifiers.pushover import PushoverNotifier
from alertrouter.notifiers.registry import notifier_class
from alertrouter.notifiers.rocketchat import RocketchatNotifier
from alertrouter.notifiers.slack import SlackNotifier
from alertrouter.notifiers.sns import SNSNotifier
from alertrouter.notifiers.telegram import TelegramNotifier
from alertrouter.notifiers.victorops import VictorOpsNotifier
from alertrouter.notifiers.webex import WebexNotifier
from alertrouter.notifiers.webhook import WebhookNotifier
from alertrouter.notifiers.wechat import WeChatNotifier
from factories import make_alert
from fakes.discord import FakeDiscord
from fakes.http import ScriptedAnswer
from fakes.incidentio import FakeIncidentio
from fakes.jira import FakeJira
from fakes.mattermost import FakeMattermost
from fakes.msteams import FakeTeamsConnector
from fakes.msteamsv2 import FakeTeamsWorkflow
from fakes.opsgenie import FakeOpsgenie
from fakes.pagerduty import FakePagerDuty
from fakes.pushover import FakePushover
from fakes.rocketchat import FakeRocketChat
from fakes.slack import FakeSlack
from fakes.smtp import FakeSMTP
from fakes.sns import FakeSNS, sns_error
from fakes.telegram import FakeTelegram
from fakes.victorops import FakeVictorOps
from fakes.webex import FakeWebex
from fakes.webhook import FakeWebhookReceiver
from fakes.wechat import FakeWeChat
from plugins.echo_plugin import installed_echo_plugin

INCIDENTIO_TOKEN = "inc_alert_source_0123456789abcdef"
PD_KEY = "R0uT1nGkEy0123456789abcdefABCDEF"
PUSHOVER_TOKEN = "azGDORePK8gMaC0QOYAMyEEuzJnyUi"
PUSHOVER_USER = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"
SNS_ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SNS_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
VICTOROPS_KEY = "0b1e2c3d-4f5a-6b7c-8d9e-a0b1c2d3e4f5"
WEBEX_TOKEN = "NjY4YjQ2ZmYtZjE5Ni00bot-token-0123456789"
WECHAT_CORP = "ww0000000000000000"
WECHAT_SECRET = "wXsEcReT-0123456789abcdefghijklmnopqrstuvw"
DISCORD_TOKEN = "dIsCoRd-wEbHoOk-ToKeN-0123456789"
JIRA_USER, JIRA_TOKEN = "bot@example.com", "jIrA-aPi-ToKeN-0123456789abcdef"
MATTERMOST_HOOK = "mAtTeRmOsT-hOoK-0123456789abcdef"
MSTEAMS_SECRET = "tEaMsCoNnEcToR-sEcReT-0123456789"
MSTEAMSV2_SIG = "tEaMsWoRkFlOw-SiG-0123456789abcdef"
ROCKETCHAT_USER = "rOcKeTcHaT-uSeR-0123"
ROCKETCHAT_TOKEN = "rOcKeTcHaT-pErSoNaL-tOkEn-0123456789"
OPSGENIE_KEY = "0e1f2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7"
PD_SERVICE_KEY = "5eRv1cEkEy0123456789abcdefABCDEF"
SLACK_TOKEN = "xoxb-1234-5678-sEcReTtOkEn"
SLACK_SEGMENT = "hUnTeR2sEcReTpAtH"
SLACK_PATH = f"T0SECRET/B0SECRET/{SLACK_SEGMENT}"
WEBHOOK_TOKEN = "wh-bearer-9f8e7d6c5b4a"
WEBHOOK_PATH = "T0SECRET/hUnTeR2-webhook-path"
TELEGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
TELEGRAM_CHAT = -1001234567890
SMTP_USER = "alertrouter"
SMTP_PASSWORD = "smtp-pAsSwOrD-8c1f0e"
WRONG = "wrong-credentials-0000"

NOTIFICATION = Notification(
    receiver="contract",
    integration="any[0]",
    alerts=(make_alert("c0ffee01", severity="critical"), make_alert("c0ffee02")),
    group={
        "groupLabels": {},
        "commonLabels": {},
        "externalURL": "http://alertmanager.example:9093",
        "groupKey": "{}:{}",
    },
)


class Setup(enum.Enum):
    """Failures made by the set-up rather than by a scripted answer."""

    REFUSED = "refused"  # the fake stops listening before the send
    WRONG_SECRET = "wrong-secret"  # the config carries a credential the fake refuses


@dataclass(frozen=True, slots=True)
class SMTPReply:
    """The fake SMTP server's reply to the next ``on`` command."""

    reply: str
    on: str = "DATA"


Failure = ScriptedAnswer | SMTPReply | Setup
Fields = Callable[[Any, str | None], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Target:
    """A built-in notifier, the fake it talks to and the config fields that aim it there.

    ``fields(fake, credential)`` uses ``credential`` instead of the right secret when given;
    ``secrets`` are strings beyond the config's SecretStr values that must never show (URL
    parts); ``echo`` is the provider answer quoting a text back, for the masking check.
    """

    notifier: type[Notifier[Any]]
    serve: Callable[[], AbstractAsyncContextManager[Any]]
    fields: Fields
    delivered: Callable[[Any], int] | None = None
    secrets: tuple[str, ...] = ()
    echo: Callable[[str], Failure] | None = None
    rate_limited: bool = True  # the provider answers 429 with Retry-After


def _email_fields(smtp: FakeSMTP, credential: str | None) -> dict[str, Any]:
    return {
        "to": "oncall@example.com",
        "from": "alertrouter@example.com",
        "smarthost": smtp.smarthost,
        "auth_username": SMTP_USER,
        "auth_password": credential or SMTP_PASSWORD,
        "tls_config": {"ca_file": smtp.ca_file},
    }


def _sns_answer(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> ScriptedAnswer:
    """SNS's XML error answer."""
    body = sns_error(status, code, message)
    return ScriptedAnswer(status, body, headers or {}, content_type="text/xml")


def _wechat(code: int, message: str) -> ScriptedAnswer:
    """WeChat's answer: 200, the outcome in ``errcode``."""
    return ScriptedAnswer(200, json.dumps({"errcode": code, "errmsg": message}))


TARGETS: dict[str, Target] = {
    "discord": Target(
        DiscordNotifier,
        lambda: FakeDiscord(token=DISCORD_TOKEN),
        lambda fake, credential: {"webhook_url": fake.webhook_url(credential)},
        delivered=lambda fake: len(fake.messages),
        secrets=(DISCORD_TOKEN,),
        echo=lambda text: FakeDiscord.error(500, text),
    ),
    "jira": Target(
        JiraNotifier,
        lambda: FakeJira(basic=(JIRA_USER, JIRA_TOKEN)),
        lambda fake, credential: {
            "api_url": fake.api_url,
            "project": "OPS",
            "issue_type": "Bug",
            "http_config": {
                "basic_auth": {"username": JIRA_USER, "password": credential or JIRA_TOKEN}
            },
        },
        delivered=lambda fake: len(fake.issues),
        echo=lambda text: FakeJira.error(500, text),
    ),
    "mattermost": Target(
        MattermostNotifier,
        lambda: FakeMattermost(hook_id=MATTERMOST_HOOK),
        lambda fake, credential: {"webhook_url": fake.webhook_url(credential)},
        delivered=lambda fake: len(fake.posts),
        secrets=(MATTERMOST_HOOK,),
        echo=lambda text: FakeMattermost.app_error(500, "app_error", text),
    ),
    "msteams": Target(
        MSTeamsNotifier,
        lambda: FakeTeamsConnector(secret=MSTEAMS_SECRET),
        lambda fake, credential: {"webhook_url": fake.webhook_url(credential)},
        delivered=lambda fake: len(fake.cards),
        secrets=(MSTEAMS_SECRET,),
        echo=lambda text: ScriptedAnswer(500, text, content_type="text/plain"),
    ),
    "msteamsv2": Target(
        MSTeamsV2Notifier,
        lambda: FakeTeamsWorkflow(sig=MSTEAMSV2_SIG),
        lambda fake, credential: {"webhook_url": fake.webhook_url(credential)},
        delivered=lambda fake: len(fake.messages),
        secrets=(MSTEAMSV2_SIG,),
        echo=lambda text: FakeTeamsWorkflow.error(500, "InternalServerError", text),
    ),
    "opsgenie": Target(
        OpsGenieNotifier,
        lambda: FakeOpsgenie(api_key=OPSGENIE_KEY),
        lambda og, credential: {"api_key": credential or OPSGENIE_KEY, "api_url": og.api_url},
        delivered=lambda og: len(og.actions),
        echo=lambda text: ScriptedAnswer(500, json.dumps({"message": text})),
    ),
    "pagerduty": Target(
        PagerDutyNotifier,
        FakePagerDuty,
        lambda pd, credential: {"routing_key": PD_KEY, "url": pd.events_url},
        delivered=lambda pd: len(pd.events),
        echo=lambda text: ScriptedAnswer(500, json.dumps({"message": text, "errors": [text]})),
    ),
    "incidentio": Target(
        IncidentioNotifier,
        lambda: FakeIncidentio(token=INCIDENTIO_TOKEN),
        lambda inc, credential: {
            "url": inc.source_url,
            "alert_source_token": credential or INCIDENTIO_TOKEN,
        },
        delivered=lambda inc: len(inc.events),
        echo=lambda text: ScriptedAnswer(500, json.dumps({"message": text, "errors": [text]})),
    ),
    "pushover": Target(
        PushoverNotifier,
        lambda: FakePushover(token=PUSHOVER_TOKEN, user=PUSHOVER_USER),
        lambda po, credential: {
            "token": credential or PUSHOVER_TOKEN,
            "user_key": PUSHOVER_USER,
            "api_url": po.messages_url,
        },
        delivered=lambda po: len(po.messages),
        echo=lambda text: ScriptedAnswer(500, json.dumps({"errors": [text], "status": 0})),
    ),
    "rocketchat": Target(
        RocketchatNotifier,
        lambda: FakeRocketChat(user_id=ROCKETCHAT_USER, token=ROCKETCHAT_TOKEN),
        lambda fake, credential: {
            "api_url": fake.url,
            "token_id": ROCKETCHAT_USER,
            "token": credential or ROCKETCHAT_TOKEN,
            "channel": "#alerts",
        },
        delivered=lambda fake: len(fake.messages),
        echo=lambda text: FakeRocketChat.soft_error(text),
    ),
    "pagerduty_v1": Target(
        PagerDutyNotifier,
        FakePagerDuty,
        lambda pd, credential: {"service_key": PD_SERVICE_KEY, "url": pd.events_url},
        delivered=lambda pd: len(pd.v1_events),
        echo=lambda text: ScriptedAnswer(500, json.dumps({"message": text, "errors": [text]})),
    ),
    "slack_webhook": Target(
        SlackNotifier,
        FakeSlack,
        lambda slack, credential: {"api_url": slack.webhook_url(SLACK_PATH)},
        delivered=lambda slack: len(slack.messages),
        secrets=(SLACK_PATH, SLACK_SEGMENT),
        echo=lambda text: FakeSlack.webhook_error(500, text),
    ),
    "slack_web_api": Target(
        SlackNotifier,
        lambda: FakeSlack(token=SLACK_TOKEN),
        lambda slack, credential: {
            "token": credential or SLACK_TOKEN,
            "channel": "#alerts",
            "api_base_url": slack.api_base_url,
        },
        delivered=lambda slack: len(slack.messages),
        echo=lambda text: FakeSlack.api_error(f"invalid_auth {text}"),
    ),
    "sns": Target(
        SNSNotifier,
        lambda: FakeSNS(access_key=SNS_ACCESS_KEY, secret_key=SNS_SECRET_KEY),
        lambda sns, credential: {
            "api_url": f"{sns.url}/",
            "topic_arn": "arn:aws:sns:us-east-1:123456789012:alerts",
            "sigv4": {
                "region": "us-east-1",
                "access_key": SNS_ACCESS_KEY,
                "secret_key": credential or SNS_SECRET_KEY,
            },
        },
        delivered=lambda sns: len(sns.published),
        echo=lambda text: _sns_answer(500, "InternalError", text),
    ),
    "victorops": Target(
        VictorOpsNotifier,
        lambda: FakeVictorOps(api_key=VICTOROPS_KEY),
        lambda vo, credential: {
            "api_key": credential or VICTOROPS_KEY,
            "routing_key": "ops",
            "api_url": vo.api_url,
        },
        delivered=lambda vo: len(vo.events),
        echo=lambda text: ScriptedAnswer(500, json.dumps({"result": "failure", "message": text})),
    ),
    "email": Target(
        EmailNotifier,
        lambda: FakeSMTP(auth=(SMTP_USER, SMTP_PASSWORD), starttls=True),
        _email_fields,
        delivered=lambda smtp: len(smtp.received),
        echo=lambda text: SMTPReply(f"451 4.3.0 try later {text}"),  # a server quoting back
        rate_limited=False,
    ),
    "telegram": Target(
        TelegramNotifier,
        lambda: FakeTelegram(token=TELEGRAM_TOKEN, chats={TELEGRAM_CHAT}),
        lambda tg, credential: {
            "bot_token": credential or TELEGRAM_TOKEN,
            "chat_id": TELEGRAM_CHAT,
            "api_url": tg.url,
        },
        delivered=lambda tg: len(tg.messages),
        echo=lambda text: ScriptedAnswer(
            500, json.dumps({"ok": False, "error_code": 500, "description": text})
        ),
    ),
    "webhook": Target(
        WebhookNotifier,
        lambda: FakeWebhookReceiver(bearer=WEBHOOK_TOKEN),
        lambda hook, credential: {
            "url": f"{hook.url}/{WEBHOOK_PATH}",
            "http_config": {"bearer_token": credential or WEBHOOK_TOKEN},
        },
        delivered=lambda hook: len(hook.payloads),
        # the URL's whole path, and its token segment alone (a receiver may echo either)
        secrets=(f"/hook/{WEBHOOK_PATH}", WEBHOOK_PATH.rsplit("/", 1)[-1]),
        echo=lambda text: ScriptedAnswer(500, f"cannot handle {text}", content_type="text/plain"),
    ),
    "webex": Target(
        WebexNotifier,
        lambda: FakeWebex(token=WEBEX_TOKEN),
        lambda webex, credential: {
            "api_url": webex.messages_url,
            "room_id": webex.room_id,
            "http_config": {"authorization": {"credentials": credential or WEBEX_TOKEN}},
        },
        delivered=lambda webex: len(webex.messages),
        echo=lambda text: ScriptedAnswer(500, json.dumps({"message": text, "trackingId": "T"})),
    ),
    "wechat": Target(
        WeChatNotifier,
        lambda: FakeWeChat(corp_id=WECHAT_CORP, secret=WECHAT_SECRET),
        lambda wx, credential: {
            "corp_id": WECHAT_CORP,
            "api_secret": credential or WECHAT_SECRET,
            "api_url": wx.api_url,
            "to_party": "2",
            "agent_id": "1000002",
        },
        delivered=lambda wx: len(wx.messages),
        echo=lambda text: ScriptedAnswer(500, json.dumps({"errcode": -1, "errmsg": text})),
    ),
    "log": Target(LogNotifier, contextlib.nullcontext, lambda _, credential: {}),
}

P, R = PermanentNotifierError, RetryableNotifierError
RETRY_IN_3 = {"Retry-After": "3"}
PUSHOVER_INVALID = json.dumps({"message": "cannot be blank", "errors": ["bad"], "status": 0})
VO_FAILURE = json.dumps({"result": "failure", "message": "bad event"})
PD_INVALID = json.dumps(
    {"status": "invalid event", "message": "Event object is invalid", "errors": ["bad"]}
)
FLOW_SCHEMA_MISMATCH = FakeTeamsWorkflow.error(400, "TriggerInputSchemaMismatch")
FLOW_THROTTLED = FakeTeamsWorkflow.error(429, "WorkflowTriggeredTooFrequently", retry_after=3)
TG_NO_CHAT = json.dumps(
    {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
)
TG_BLOCKED = json.dumps(
    {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
)

# (notifier, scripted failure, error class, reason, retry_after): what each provider's answers
# must become. Success (a Receipt) is every target's first row, in test_success_is_a_receipt.
OUTCOMES: list[tuple[str, Failure, type[NotifierError], str, float | None]] = [
    ("discord", FakeDiscord.error(400, "Invalid Form Body", 50035), P, "clientError", None),
    ("discord", Setup.WRONG_SECRET, P, "authError", None),  # 401 Invalid Webhook Token
    ("discord", FakeDiscord.error(404, "Unknown Webhook", 10015), P, "clientError", None),
    ("discord", FakeDiscord.rate_limited(3.0), R, "rateLimited", 3.0),
    ("discord", ScriptedAnswer(500), R, "serverError", None),
    ("discord", ScriptedAnswer(502), R, "serverError", None),
    ("discord", Setup.REFUSED, R, "other", None),
    ("jira", FakeJira.error(400, "Field 'summary' is required"), P, "clientError", None),
    ("jira", Setup.WRONG_SECRET, P, "authError", None),  # 401 not authenticated
    ("jira", FakeJira.error(404, "Issue does not exist"), P, "clientError", None),
    ("jira", ScriptedAnswer(429, headers=RETRY_IN_3), R, "rateLimited", 3.0),
    ("jira", ScriptedAnswer(500), R, "serverError", None),
    ("jira", ScriptedAnswer(503), R, "serverError", None),
    ("jira", Setup.REFUSED, R, "other", None),
    ("mattermost", Setup.WRONG_SECRET, P, "clientError", None),  # 400 invalid webhook
    ("mattermost", FakeMattermost.app_error(403, "channel_locked"), P, "authError", None),
    ("mattermost", ScriptedAnswer(429, headers=RETRY_IN_3), R, "rateLimited", 3.0),
    ("mattermost", ScriptedAnswer(500), R, "serverError", None),
    ("mattermost", ScriptedAnswer(503), R, "serverError", None),
    ("mattermost", Setup.REFUSED, R, "other", None),
    ("msteams", ScriptedAnswer(400, "Summary or Text is required."), P, "clientError", None),
    ("msteams", FakeTeamsConnector.quoted_error(400), P, "clientError", None),
    ("msteams", ScriptedAnswer(403), P, "authError", None),
    ("msteams", ScriptedAnswer(429, headers=RETRY_IN_3), R, "rateLimited", 3.0),
    ("msteams", FakeTeamsConnector.quoted_error(429), R, "rateLimited", None),
    ("msteams", ScriptedAnswer(500), R, "serverError", None),
    ("msteams", ScriptedAnswer(502), R, "serverError", None),
    ("msteams", Setup.REFUSED, R, "other", None),
    ("msteamsv2", FLOW_SCHEMA_MISMATCH, P, "clientError", None),
    ("msteamsv2", Setup.WRONG_SECRET, P, "authError", None),  # 401 invalid signature
    ("msteamsv2", FLOW_THROTTLED, R, "rateLimited", 3.0),
    ("msteamsv2", ScriptedAnswer(500), R, "serverError", None),
    ("msteamsv2", ScriptedAnswer(503), R, "serverError", None),
    ("msteamsv2", Setup.REFUSED, R, "other", None),
    (
        "opsgenie",
        ScriptedAnswer(422, '{"message": "Request body is not processable"}'),
        P,
        "clientError",
        None,
    ),
    ("opsgenie", Setup.WRONG_SECRET, P, "authError", None),  # the API's 401
    ("opsgenie", ScriptedAnswer(403), P, "authError", None),
    ("opsgenie", ScriptedAnswer(429, headers=RETRY_IN_3), R, "rateLimited", 3.0),
    ("opsgenie", ScriptedAnswer(500), R, "serverError", None),
    ("opsgenie", Setup.REFUSED, R, "other", None),
    ("pagerduty", ScriptedAnswer(400, PD_INVALID), P, "clientError", None),
    ("pagerduty", ScriptedAnswer(401), P, "authError", None),
    ("pagerduty", ScriptedAnswer(403), P, "authError", None),
    ("pagerduty", ScriptedAnswer(429, headers=RETRY_IN_3), R, "rateLimited", 3.0),
    ("pagerduty", ScriptedAnswer(500), R, "serverError", None),
    ("pagerduty", ScriptedAnswer(503), R, "serverError", None),
    ("pagerduty", Setup.REFUSED, R, "other", None),
    ("incidentio", ScriptedAnswer(422, json.dumps({"errors": ["bad"]})), P, "clientError", None),
    ("incidentio", Setup.WRONG_SECRET, P, "authError", None),  # incident.io's 401
    ("incidentio", ScriptedAnswer(403), P, "authError", None),
    ("incidentio", ScriptedAnswer(429, headers=RETRY_IN_3), R, "rateLimited", 3.0),
    ("incidentio", ScriptedAnswer(500), R, "serverError", None),
    ("incidentio", Setup.REFUSED, R, "other", None),
    ("pushover", ScriptedAnswer(400, PUSHOVER_INVALID), P, "clientError", None),
    ("pushover", Setup.WRONG_SECRET, P, "authError", None),  # 400 {"token": "invalid"}
    ("pushover", ScriptedAnswer(401), P, "authError", None),
    ("pushover", ScriptedAnswer(429, headers=RETRY_IN_3), R, "rateLimited", 3.0),
    ("pushover", ScriptedAnswer(500), R, "serverError", None),
    ("pushover", Setup.REFUSED, R, "other", None),
    ("rocketchat", FakeRocketChat.soft_error("[invalid-channel]"), P, "clientError", None),
    ("rocketchat", ScriptedAnswer(400, '{"success": false}'), P, "clientError", None),
    ("rocketchat", Setup.WRONG_SECRET, P, "authError", None),  # 401 not logged in
    ("rocketchat", FakeRocketChat.rate_limited(3, reset_in_ms=False), R, "rateLimited", 3.0),
    ("rocketchat", ScriptedAnswer(500), R, "serverError", None),
    ("rocketchat", ScriptedAnswer(503), R, "serverError", None),
    ("rocketchat", Setup.REFUSED, R, "other", None),
    ("pagerduty_v1", ScriptedAnswer(400, PD_INVALID), P, "clientError", None),
    ("pagerduty_v1", ScriptedAnswer(401), P, "authError", None),
    ("pagerduty_v1", ScriptedAnswer(403), R, "rateLimited", None),  # v1's "too many requests"
    ("pagerduty_v1", ScriptedAnswer(429, headers=RETRY_IN_3), R, "rateLimited", 3.0),
    ("pagerduty_v1", ScriptedAnswer(500), R, "serverError", None),
    ("pagerduty_v1", Setup.REFUSED, R, "other", None),
    ("slack_webhook", FakeSlack.webhook_error(400, "invalid_payload"), P, "clientError", None),
    ("slack_webhook", FakeSlack.webhook_error(404, "no_service"), P, "clientError", None),
    ("slack_webhook", FakeSlack.webhook_error(403, "action_prohibited"), P, "authError", None),
    ("slack_webhook", FakeSlack.webhook_error(429, "rate_limited", 3), R, "rateLimited", 3.0),
    ("slack_webhook", FakeSlack.webhook_error(500, "rollup_error"), R, "serverError", None),
    ("slack_webhook", FakeSlack.webhook_error(503, "unavailable"), R, "serverError", None),
    ("slack_webhook", Setup.REFUSED, R, "other", None),
    ("slack_web_api", FakeSlack.api_error("invalid_blocks"), P, "clientError", None),
    ("slack_web_api", Setup.WRONG_SECRET, P, "authError", None),
    ("slack_web_api", FakeSlack.api_error("missing_scope"), P, "authError", None),
    ("slack_web_api", FakeSlack.api_error("ratelimited", 429, 3), R, "rateLimited", 3.0),
    ("slack_web_api", FakeSlack.api_error("internal_error"), R, "serverError", None),
    ("slack_web_api", ScriptedAnswer(503, content_type="text/plain"), R, "serverError", None),
    ("slack_web_api", Setup.REFUSED, R, "other", None),
    ("sns", _sns_answer(400, "InvalidParameter", "bad"), P, "clientError", None),
    ("sns", Setup.WRONG_SECRET, P, "authError", None),  # 403 SignatureDoesNotMatch
    ("sns", _sns_answer(403, "AuthorizationError", "no"), P, "authError", None),
    ("sns", _sns_answer(429, "ThrottledException", "slow", RETRY_IN_3), R, "rateLimited", 3.0),
    ("sns", _sns_answer(500, "InternalError", "oops"), R, "serverError", None),
    ("sns", Setup.REFUSED, R, "other", None),
    ("victorops", ScriptedAnswer(400, VO_FAILURE), P, "clientError", None),
    ("victorops", Setup.WRONG_SECRET, P, "clientError", None),  # 404: no such organization
    ("victorops", ScriptedAnswer(401), P, "authError", None),
    ("victorops", ScriptedAnswer(403), P, "authError", None),
    ("victorops", ScriptedAnswer(429, headers=RETRY_IN_3), R, "rateLimited", 3.0),
    ("victorops", ScriptedAnswer(500), R, "serverError", None),
    ("victorops", Setup.REFUSED, R, "other", None),
    ("webex", ScriptedAnswer(400, json.dumps({"message": "bad"})), P, "clientError", None),
    ("webex", Setup.WRONG_SECRET, P, "authError", None),  # Webex's 401
    ("webex", ScriptedAnswer(403), P, "authError", None),
    ("webex", ScriptedAnswer(429, headers=RETRY_IN_3), R, "rateLimited", 3.0),
    ("webex", ScriptedAnswer(502), R, "serverError", None),
    ("webex", Setup.REFUSED, R, "other", None),
    ("wechat", _wechat(40003, "invalid userid"), P, "clientError", None),
    ("wechat", Setup.WRONG_SECRET, P, "authError", None),  # gettoken's 40001
    ("wechat", ScriptedAnswer(403), P, "authError", None),
    ("wechat", ScriptedAnswer(429, headers=RETRY_IN_3), R, "rateLimited", 3.0),
    ("wechat", _wechat(-1, "system busy"), R, "serverError", None),
    ("wechat", ScriptedAnswer(502), R, "serverError", None),
    ("wechat", Setup.REFUSED, R, "other", None),
    ("email", SMTPReply("550 5.1.1 no such user", on="RCPT"), P, "clientError", None),
    ("email", SMTPReply("554 5.7.1 message rejected"), P, "clientError", None),
    ("email", Setup.WRONG_SECRET, P, "authError", None),  # 535 from the server's AUTH
    ("email", SMTPReply("451 4.3.0 try later"), R, "serverError", None),
    ("email", SMTPReply("452 4.5.3 too many recipients", on="RCPT"), R, "serverError", None),
    ("email", Setup.REFUSED, R, "other", None),
    ("telegram", ScriptedAnswer(400, TG_NO_CHAT), P, "clientError", None),
    ("telegram", Setup.WRONG_SECRET, P, "authError", None),  # the Bot API's 401
    ("telegram", ScriptedAnswer(403, TG_BLOCKED), P, "authError", None),
    ("telegram", ScriptedAnswer(429, headers=RETRY_IN_3), R, "rateLimited", 3.0),
    ("telegram", ScriptedAnswer(500), R, "serverError", None),
    ("telegram", Setup.REFUSED, R, "other", None),
    ("webhook", ScriptedAnswer(400), P, "clientError", None),
    ("webhook", Setup.WRONG_SECRET, P, "authError", None),  # the receiver's own 401
    ("webhook", ScriptedAnswer(403), P, "authError", None),
    ("webhook", ScriptedAnswer(429, headers=RETRY_IN_3), R, "rateLimited", 3.0),
    ("webhook", ScriptedAnswer(500), R, "serverError", None),
    ("webhook", ScriptedAnswer(503), R, "serverError", None),
    ("webhook", Setup.REFUSED, R, "other", None),
]


def describe(failure: Failure) -> str:
    """A short test id for a failure: ``refused``, ``smtp550-RCPT``, ``429-rate_limited``."""
    if isinstance(failure, Setup):
        return failure.value
    if isinstance(failure, SMTPReply):
        return f"smtp{failure.reply.split()[0]}-{failure.on}"
    try:
        code = json.loads(failure.body).get("error", "")
    except (ValueError, AttributeError):
        code = failure.body
    return f"{failure.status}-{code}" if code and " " not in code else str(failure.status)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The shared HTTP session the service gives every notifier."""
    async with aiohttp.ClientSession() as client:
        yield client


def build(
    name: str, fake: Any, session: aiohttp.ClientSession, credential: str | None = None
) -> Notifier[Any]:
    """The target's notifier, configured through its config model, aimed at ``fake``."""
    target = TARGETS[name]
    config = target.notifier.config_model.model_validate(target.fields(fake, credential))
    return target.notifier(config, session, receiver="contract", integration=f"{name}[0]")


async def provoke(fake: Any, failure: Failure) -> None:
    """Make the fake answer the next send with ``failure``."""
    if failure is Setup.REFUSED:
        await fake.stop()
    elif isinstance(failure, SMTPReply):
        fake.fail_next(failure.reply, on=failure.on)
    elif isinstance(failure, ScriptedAnswer):
        fake.fail_next(failure)


@pytest.mark.parametrize("name", list(TARGETS))
async def test_success_is_a_receipt(name: str, session: aiohttp.ClientSession) -> None:
    """A provider that accepts the notification yields a Receipt, and the fake got it once."""
    target = TARGETS[name]
    async with target.serve() as fake:
        receipt = await build(name, fake, session).send(NOTIFICATION)
        assert isinstance(receipt, Receipt)
        assert receipt.provider_status
        assert receipt.duration >= 0
        if target.delivered is not None:
            per_alert = name.startswith("pagerduty")  # an event per alert
            assert target.delivered(fake) == (2 if per_alert else 1)


@pytest.mark.parametrize(
    ("name", "failure", "error", "reason", "retry_after"),
    [pytest.param(*row, id=f"{row[0]}-{describe(row[1])}") for row in OUTCOMES],
)
async def test_failure_is_classified(
    session: aiohttp.ClientSession,
    name: str,
    failure: Failure,
    error: type[NotifierError],
    reason: str,
    retry_after: float | None,
) -> None:
    """Each provider answer raises the table's error class, Alertmanager reason and retry_after."""
    async with TARGETS[name].serve() as fake:
        credential = WRONG if failure is Setup.WRONG_SECRET else None
        notifier = build(name, fake, session, credential)
        await provoke(fake, failure)
        with pytest.raises(NotifierError) as caught:
            await notifier.send(NOTIFICATION)
    assert type(caught.value) is error
    assert caught.value.reason == reason
    assert getattr(caught.value, "retry_after", None) == retry_after


def test_every_builtin_has_every_outcome() -> None:
    """Every built-in is a target, and each provider has a row for each kind of outcome."""
    assert {t.notifier.type_name for t in TARGETS.values()} == set(BUILTIN_NOTIFIERS)
    for name, target in TARGETS.items():
        if target.delivered is None:
            continue  # log: nothing to fail against
        rows = {(row[2], row[3], row[4]) for row in OUTCOMES if row[0] == name}
        wanted: set[tuple[type[NotifierError], str, float | None]] = {
            (P, "clientError", None),
            (P, "authError", None),
            (R, "serverError", None),
        }
        if target.rate_limited:
            wanted.add((R, "rateLimited", 3.0))
        assert wanted <= rows, name
        assert (name, Setup.REFUSED, R, "other", None) in OUTCOMES


def secret_values(value: Any) -> Iterator[str]:
    """Every SecretStr value inside a config model, however deep."""
    if isinstance(value, SecretStr):
        yield value.get_secret_value()
    elif isinstance(value, BaseModel):
        for field in type(value).model_fields:
            yield from secret_values(getattr(value, field))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from secret_values(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from secret_values(item)


@pytest.mark.parametrize("name", [name for name in TARGETS if TARGETS[name].echo is not None])
async def test_secrets_are_masked(
    name: str, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """No config secret shows in the notifier's or config's repr, a receipt, an error or a log."""
    caplog.set_level(logging.DEBUG)
    target = TARGETS[name]
    assert target.echo is not None
    errors: list[NotifierError] = []
    async with target.serve() as fake:
        notifier = build(name, fake, session)
        secrets = {*secret_values(notifier.config), *target.secrets}
        assert secrets
        receipt = await notifier.send(NOTIFICATION)
        for failure in (target.echo(" ".join(sorted(secrets))), Setup.REFUSED):
            await provoke(fake, failure)
            with pytest.raises(NotifierError) as caught:
                await notifier.send(NOTIFICATION)
            errors.append(caught.value)
    # The fakes' own logs (aiosmtpd's "mail.log" prints what the server sent) are not ours.
    ours = "\n".join(
        f"{r.getMessage()} {getattr(r, 'fields', {})!r}"
        for r in caplog.records
        if not r.name.startswith("mail.")
    )
    texts = [
        repr(notifier), repr(notifier.config), str(notifier.config), repr(receipt), ours,
        *(str(e) for e in errors), *(repr(e) for e in errors),
    ]  # fmt: skip
    for text in texts:
        for secret in secrets:
            assert secret not in text


ECHO_ROUTING = """\
route: {receiver: plugged}
receivers:
  - name: plugged
    echo_configs:
      - prefix: x
"""


async def test_entry_point_plugin_loads_from_a_routing_config(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    """A notifier installed under the entry-point group validates from YAML and sends."""
    with installed_echo_plugin(tmp_path) as echo:
        config = parse_routing_config(ECHO_ROUTING, "plugins.yml", {})
        (spec,) = config.receivers["plugged"].integrations
        assert (spec.type, spec.key) == ("echo", "echo[0]")
        assert "echo" in notifier_types()
        cls = notifier_class("echo")
        assert isinstance(spec.config, cls.config_model)
        notifier = cls(spec.config, session, receiver="plugged", integration=spec.key)
        receipt = await notifier.send(NOTIFICATION)
        assert isinstance(receipt, Receipt)
        (sent,) = echo.SENT
        assert sent == (NOTIFICATION.receiver, NOTIFICATION.integration, "x[FIRING:2]")
    assert "echo" not in notifier_types()


def test_unknown_notifier_type_names_the_known_ones() -> None:
    """A ``foo_configs`` key is a config error at its place that lists the known types."""
    routing = textwrap.dedent(
        """\
        route: {receiver: r}
        receivers:
          - name: r
            foo_configs:
              - url: http://example.com
        """
    )
    with pytest.raises(ConfigError) as caught:
        parse_routing_config(routing, "test.yml", {})
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.path) == ("test.yml", 4, "receivers[0].foo_configs")
    assert problem.message.startswith('unknown notifier type "foo" (known: ')
    for known in BUILTIN_NOTIFIERS:
        assert known in problem.message
