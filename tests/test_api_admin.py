"""The admin API's delivery listing and ``alertrouter deliveries list``: recent deliveries of
every state by default, newest first, ``--state`` to filter."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from alertrouter.cli.main import main as cli_main
from fakes.slack import FakeSlack
from test_delivery_acceptance import in_process, routing, wait_until, webhook


async def test_all_states_newest_first_in_the_api_and_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Right after two deliveries, the default listing shows both (done), newest first."""
    async with FakeSlack() as slack, in_process(tmp_path, routing(slack.webhook_url())) as app:
        first = (await app.post(webhook(["a-1:80"])))["jobs"][0]
        second = (await app.post(webhook(["b-1:80"])))["jobs"][0]

        async def both_done() -> bool:
            return [await app.state_of(j) for j in (first, second)] == ["done", "done"]

        await wait_until("both delivered", both_done, 10)
        answer = await (await app.client.get("/api/v1/deliveries?state=all")).json()
        oldest = await (await app.client.get("/api/v1/deliveries?state=done")).json()
        code = await asyncio.to_thread(cli_main, ["deliveries", "list", "--url", app.url])
        listed = capsys.readouterr().out
        await asyncio.to_thread(
            cli_main, ["deliveries", "list", "--state", "pending", "--url", app.url]
        )
        pending = capsys.readouterr().out
    assert [d["id"] for d in answer["deliveries"]] == [second, first]
    assert [d["state"] for d in answer["deliveries"]] == ["done", "done"]
    assert [d["id"] for d in oldest["deliveries"]] == [first, second]
    assert code == 0
    rows = [line.split()[0] for line in listed.splitlines()[1:]]
    assert rows == [str(second), str(first)]
    assert pending.strip() == "no pending deliveries"


async def test_an_unknown_state_or_order_is_a_400(tmp_path: Path) -> None:
    """Bad query values are refused naming the field."""
    async with FakeSlack() as slack, in_process(tmp_path, routing(slack.webhook_url())) as app:
        bad_state = await app.client.get("/api/v1/deliveries?state=lost")
        bad_order = await app.client.get("/api/v1/deliveries?state=all&order=sideways")
        assert bad_state.status == 400
        assert (await bad_state.json())["errors"][0]["field"] == "state"
        assert bad_order.status == 400
        assert (await bad_order.json())["errors"][0]["field"] == "order"
