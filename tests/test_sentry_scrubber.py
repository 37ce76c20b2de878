"""The Sentry ``before_send`` scrubber: every configured secret masked wherever it appears."""

from __future__ import annotations

from alertrouter.config.loader import parse_routing_config
from alertrouter.config.secrets import config_secrets
from alertrouter.config.settings import Settings
from alertrouter.sentry import FILTERED, SecretScrubber

ROUTING = """\
route: {receiver: pager}
receivers:
  - name: pager
    pagerduty_configs:
      - routing_key: pd-key-abcdef0123456789
  - name: chat
    slack_configs:
      - api_url: https://hooks.slack.example/services/T0/B0/sl4ck-s3cret
  - name: hook
    webhook_configs:
      - url: https://hooks.example/path/w3bh00k-s3cret
        http_config:
          basic_auth: {username: u, password: b4sic-p4ss}
"""


def secrets() -> set[str]:
    config = parse_routing_config(ROUTING, "routing.yml", {})
    settings = Settings(webhook_token="ingest-t0ken", admin_token="adm1n-t0ken")
    return config_secrets(config, settings)


def test_config_secrets_collects_every_secret_value() -> None:
    """Routing keys, webhook URLs, passwords and the service tokens are all collected."""
    assert {
        "pd-key-abcdef0123456789",
        "https://hooks.slack.example/services/T0/B0/sl4ck-s3cret",
        "https://hooks.example/path/w3bh00k-s3cret",
        "b4sic-p4ss",
        "ingest-t0ken",
        "adm1n-t0ken",
    } <= secrets()


def test_scrubber_masks_secrets_anywhere_in_an_event() -> None:
    """Messages, exception values, frame locals and breadcrumbs lose every secret."""
    scrubber = SecretScrubber(secrets())
    event = {
        "message": "failed posting to https://hooks.example/path/w3bh00k-s3cret",
        "exception": {"values": [{"value": "bad key pd-key-abcdef0123456789 (401)"}]},
        "frames": [{"vars": {"url": "x", "note": "token ingest-t0ken used", "n": 3}}],
        "breadcrumbs": [{"data": {"auth": "b4sic-p4ss"}}],
        "extra": {"Authorization": "Bearer anything", "api_token": "whatever-it-is"},
    }
    scrubbed = scrubber(event, {})
    text = repr(scrubbed)
    for secret in secrets():
        assert secret not in text
    assert scrubbed["extra"] == {"Authorization": FILTERED, "api_token": FILTERED}
    assert scrubbed["frames"][0]["vars"]["n"] == 3


def test_scrubber_follows_a_reload() -> None:
    """After update(), the new config's secrets are masked too."""
    scrubber = SecretScrubber({"old-secret"})
    scrubber.update({"new-secret-value"})
    assert scrubber.scrub("new-secret-value and old-secret") == f"{FILTERED} and old-secret"
