"""``alertrouter template render``: amtool's ``template render``, flags and output alike."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from alertrouter.constants import EXIT_FAILED, EXIT_OK
from alertrouter.templates import TemplateError, render
from alertrouter.templates.data import WebhookDataError

__all__ = ["add_template_parser", "template_render_command"]


def add_template_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``template render`` with amtool's flags (``--template.glob`` may repeat)."""
    template = commands.add_parser("template", help="render Alertmanager templates")
    template_commands = template.add_subparsers(dest="template_command", metavar="COMMAND")
    template_commands.required = True
    rendering = template_commands.add_parser(
        "render",
        help="render a template as a notification would (as `amtool template render`)",
        description="Render --template.text with Alertmanager's data and functions, after "
        "the default templates and every file --template.glob matches. The output is "
        "amtool's: the rendered text, no newline added.",
    )
    rendering.add_argument(
        "--template.glob",
        dest="globs",
        action="append",
        default=[],
        metavar="GLOB",
        help="template files to load (repeatable; the defaults are built in)",
    )
    rendering.add_argument(
        "--template.text", dest="text", required=True, metavar="TEXT", help="what to render"
    )
    rendering.add_argument(
        "--template.data",
        dest="data",
        metavar="FILE",
        help="a webhook payload (JSON) as the data; default: amtool's example data",
    )
    rendering.add_argument("--template.type", dest="kind", choices=["text", "html"], default="text")
    rendering.set_defaults(handler=template_render_command)


def template_render_command(args: argparse.Namespace) -> int:
    """Print the rendered template, or ``alertrouter: error: …`` and exit 1 (as amtool)."""
    try:
        payload = json.loads(Path(args.data).read_bytes()) if args.data else None
        output = render(args.globs, args.text, payload, args.kind)
    except OSError as exc:
        return _fail(f"{exc.filename}: {exc.strerror or exc}")
    except (ValueError, WebhookDataError, TemplateError) as exc:
        return _fail(str(exc))
    sys.stdout.write(output)
    return EXIT_OK


def _fail(message: str) -> int:
    print(f"alertrouter: error: {message}", file=sys.stderr)
    return EXIT_FAILED
