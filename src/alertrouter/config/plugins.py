"""Which integration types exist: built-ins by dotted path, third-party ones by entry point.

Plugins are imported lazily, only when a config uses their type. The config layer needs only
each plugin's config model (``config_model``); ``notifiers.registry`` hands out the classes.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from alertrouter.config.integrations import IntegrationConfig
from alertrouter.errors import UnknownNotifierError

__all__ = [
    "BUILTIN_NOTIFIERS",
    "ENTRY_POINT_GROUP",
    "config_model",
    "load_plugin",
    "notifier_types",
]

ENTRY_POINT_GROUP = "alertrouter.notifiers"

BUILTIN_NOTIFIERS: dict[str, str] = {
    "discord": "alertrouter.notifiers.discord:DiscordNotifier",
    "email": "alertrouter.notifiers.email:EmailNotifier",
    "incidentio": "alertrouter.notifiers.incidentio:IncidentioNotifier",
    "jira": "alertrouter.notifiers.jira:JiraNotifier",
    "log": "alertrouter.notifiers.log:LogNotifier",
    "mattermost": "alertrouter.notifiers.mattermost:MattermostNotifier",
    "msteams": "alertrouter.notifiers.msteams:MSTeamsNotifier",
    "msteamsv2": "alertrouter.notifiers.msteamsv2:MSTeamsV2Notifier",
    "opsgenie": "alertrouter.notifiers.opsgenie:OpsGenieNotifier",
    "pagerduty": "alertrouter.notifiers.pagerduty:PagerDutyNotifier",
    "pushover": "alertrouter.notifiers.pushover:PushoverNotifier",
    "rocketchat": "alertrouter.notifiers.rocketchat:RocketchatNotifier",
    "slack": "alertrouter.notifiers.slack:SlackNotifier",
    "sns": "alertrouter.notifiers.sns:SNSNotifier",
    "telegram": "alertrouter.notifiers.telegram:TelegramNotifier",
    "victorops": "alertrouter.notifiers.victorops:VictorOpsNotifier",
    "webex": "alertrouter.notifiers.webex:WebexNotifier",
    "webhook": "alertrouter.notifiers.webhook:WebhookNotifier",
    "wechat": "alertrouter.notifiers.wechat:WeChatNotifier",
}


def notifier_types() -> list[str]:
    """Every known type name, built-in and installed, sorted."""
    names = set(BUILTIN_NOTIFIERS)
    names.update(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    return sorted(names)


def load_plugin(type_name: str) -> object:
    """The plugin object (a Notifier subclass) registered as ``type_name``, imported now.

    UnknownNotifierError when no plugin has that name; ImportError (a missing optional
    dependency) propagates, so start-up fails loudly with it.
    """
    dotted = BUILTIN_NOTIFIERS.get(type_name)
    if dotted is not None:
        module_name, _, attr = dotted.partition(":")
        loaded: object = getattr(importlib.import_module(module_name), attr)
        return loaded
    found = list(entry_points(group=ENTRY_POINT_GROUP, name=type_name))
    if not found:
        raise UnknownNotifierError(type_name)
    plugin: object = found[0].load()
    return plugin


def config_model(type_name: str) -> type[IntegrationConfig]:
    """The config model ``type_name``'s plugin declares (its ``config_model`` attribute)."""
    model = getattr(load_plugin(type_name), "config_model", None)
    if not (isinstance(model, type) and issubclass(model, IntegrationConfig)):
        raise UnknownNotifierError(f"{type_name}: its plugin declares no IntegrationConfig model")
    return model
