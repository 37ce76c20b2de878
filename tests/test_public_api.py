"""The public plugin API is exactly what a third-party notifier needs, and nothing more."""

from __future__ import annotations

import ast
from pathlib import Path

import alertrouter.notifiers

PLUGIN_API = [
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
ECHO_PLUGIN = Path(__file__).parent / "plugins" / "alertrouter_echo" / "alertrouter_echo"


def test_the_plugin_api_is_pinned() -> None:
    """alertrouter.notifiers.__all__ is exactly the plugin API, each name importable."""
    assert alertrouter.notifiers.__all__ == PLUGIN_API
    for name in PLUGIN_API:
        assert getattr(alertrouter.notifiers, name) is not None


def test_the_example_plugin_needs_nothing_beyond_the_api() -> None:
    """The test plugin imports only from alertrouter.notifiers (what the README promises)."""
    tree = ast.parse((ECHO_PLUGIN / "__init__.py").read_text(encoding="utf-8"))
    ours = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("alertrouter")
    }
    assert ours == {"alertrouter.notifiers"}
