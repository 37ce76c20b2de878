"""The ceiling for alertrouter's stack: a bare aiohttp server that parses the JSON and answers 200.

Same interpreter, same aiohttp, same ``web.run_app`` options as ``alertrouter serve`` (no
access log), but no validation, routing, store or middleware: ``POST /api/v1/alerts`` reads
the body, ``json.loads`` it, and answers a small JSON object. Used by ``bench_ingest.py``::

    python bench/bare_server.py 127.0.0.1 8080
"""

from __future__ import annotations

import json
import sys

from aiohttp import web


async def receive(request: web.Request) -> web.Response:
    """Parse the webhook and acknowledge it."""
    data = json.loads(await request.read())
    alerts = data.get("alerts", ()) if isinstance(data, dict) else data
    return web.json_response({"accepted": len(alerts)})


async def ready(request: web.Request) -> web.Response:
    """Readiness, like alertrouter's."""
    return web.Response(text="OK\n")


def main(argv: list[str]) -> int:
    host, port = argv[0], int(argv[1])
    app = web.Application(client_max_size=8 * 1024 * 1024)
    app.router.add_post("/api/v1/alerts", receive)
    app.router.add_get("/-/ready", ready)
    web.run_app(app, host=host, port=port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
