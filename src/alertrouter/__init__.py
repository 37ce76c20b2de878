"""alertrouter: routes Alertmanager webhooks to on-call people, without losing an alert."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
