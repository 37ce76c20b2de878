"""``alertrouter test-alert --direct``: a synthetic alert straight through one receiver."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from alertrouter.cli.main import main
from fakes.slack import FakeSlack


def routing_file(tmp_path: Path, api_url: str) -> Path:
    path = tmp_path / "routing.yml"
    path.write_text(
        "route: {receiver: chat}\n"
        "receivers:\n"
        "  - name: chat\n"
        "    slack_configs:\n"
        f"      - api_url: {api_url}\n"
        "        send_resolved: true\n"
        "  - name: void\n"
    )
    return path


async def test_direct_sends_alert_and_resolve_and_prints_receipts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Both steps reach the provider and the table shows them delivered; exit 0."""
    async with FakeSlack() as slack:
        config = routing_file(tmp_path, slack.webhook_url())
        argv = ["test-alert", "--direct", "--config", str(config), "--receiver", "chat",
                "--resolve", "--severity", "critical"]  # fmt: skip
        code = await asyncio.to_thread(main, argv)
        assert code == 0
        assert len(slack.messages) == 2
    out = capsys.readouterr().out
    assert out.count("delivered") == 2
    assert "slack[0]" in out
    assert "/services/" not in out


async def test_direct_reports_a_permanent_failure_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 404 no_service is shown classified, without the webhook URL; exit 1."""
    async with FakeSlack() as slack:
        slack.fail_next(FakeSlack.webhook_error(404, "no_service"))
        config = routing_file(tmp_path, slack.webhook_url())
        argv = ["test-alert", "--direct", "--config", str(config), "--receiver", "chat"]
        code = await asyncio.to_thread(main, argv)
    assert code == 1
    out = capsys.readouterr().out
    assert "FAILED (permanent)" in out
    assert "clientError" in out
    assert "/services/" not in out


def test_direct_names_known_receivers_for_a_typo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown receiver is an error listing the known ones."""
    config = routing_file(tmp_path, "https://hooks.example/x")
    code = main(["test-alert", "--direct", "--config", str(config), "--receiver", "chta"])
    assert code == 1
    assert 'no receiver "chta" (known: chat, void)' in capsys.readouterr().err


def test_direct_on_a_blackhole_sends_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A receiver without integrations says so and succeeds."""
    config = routing_file(tmp_path, "https://hooks.example/x")
    assert main(["test-alert", "--direct", "--config", str(config), "--receiver", "void"]) == 0
    assert "blackhole" in capsys.readouterr().out
