"""Notifier plugins: one module per provider, each owning its config model."""
