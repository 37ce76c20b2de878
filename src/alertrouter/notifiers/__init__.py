"""Notifier plugins: one module per provider, each owning its config model.

This package's ``__all__`` is the public plugin API: what a third-party notifier (an entry
point in group ``alertrouter.notifiers``, configured as ``<type>_configs``) needs. The README
shows a whole plugin.
"""

from alertrouter.config.integrations import IntegrationConfig
from alertrouter.errors import NotifierError, PermanentNotifierError, RetryableNotifierError
from alertrouter.notifiers.base import (
    Notification,
    Notifier,
    Receipt,
    classify_http_status,
    http_status_error,
)
from alertrouter.notifiers.render import notification_title

__all__ = [
    "IntegrationConfig",
    "Notification",
    "Notifier",
    "NotifierError",
    "PermanentNotifierError",
    "Receipt",
    "RetryableNotifierError",
    "classify_http_status",
    "http_status_error",
    "notification_title",
]
