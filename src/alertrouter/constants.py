"""Values shared across modules that are neither settings nor config."""

from __future__ import annotations

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "WEBHOOK_PATH"]

# CLI exit codes: 1 for "the check failed / the service said no", 2 for a usage mistake.
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

# Where Alertmanager posts (design.md §6).
WEBHOOK_PATH = "/api/v1/alerts"
