"""amtool (Alertmanager 0.25) as the oracle for the template tests.

Debian's amtool embeds no default templates; Debian ships Alertmanager's originals next to it,
so a render loads those (or ours) through ``--template.glob``.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

AMTOOL = shutil.which("amtool")
ALERTMANAGER_TEMPLATES = Path("/usr/share/prometheus/alertmanager")
ALERTMANAGER_GLOB = str(ALERTMANAGER_TEMPLATES / "*.tmpl")
OUR_TEMPLATES = Path(__file__).parents[1] / "src" / "alertrouter" / "templates" / "defaults"
OUR_GLOB = str(OUR_TEMPLATES / "*.tmpl")
DATA_DIR = Path(__file__).parent / "data" / "templates"
# Separates the outputs of many templates rendered in one amtool run (one process is ~30 ms).
SEPARATOR = "\x1e"

# Every name Alertmanager 0.25's default.tmpl and email.tmpl define.
ALERTMANAGER_NAMES = (
    "__alertmanager",
    "__alertmanagerURL",
    "__description",
    "__subject",
    "__text_alert_list",
    "discord.default.message",
    "discord.default.title",
    "email.default.html",
    "email.default.subject",
    "opsgenie.default.description",
    "opsgenie.default.message",
    "opsgenie.default.source",
    "pagerduty.default.client",
    "pagerduty.default.clientURL",
    "pagerduty.default.description",
    "pagerduty.default.instances",
    "pushover.default.message",
    "pushover.default.title",
    "pushover.default.url",
    "slack.default.callbackid",
    "slack.default.fallback",
    "slack.default.footer",
    "slack.default.iconemoji",
    "slack.default.iconurl",
    "slack.default.pretext",
    "slack.default.text",
    "slack.default.title",
    "slack.default.titlelink",
    "slack.default.username",
    "sns.default.message",
    "sns.default.subject",
    "telegram.default.message",
    "victorops.default.entity_display_name",
    "victorops.default.monitoring_tool",
    "victorops.default.state_message",
    "webex.default.message",
    "wechat.default.agent_id",
    "wechat.default.message",
    "wechat.default.to_party",
    "wechat.default.to_tag",
    "wechat.default.to_user",
)

needs_amtool = pytest.mark.skipif(
    AMTOOL is None or not (ALERTMANAGER_TEMPLATES / "default.tmpl").is_file(),
    reason="needs amtool and Alertmanager's templates (Debian prometheus-alertmanager)",
)


class AmtoolError(Exception):
    """amtool refused the template or the data; the message is its stderr."""


def amtool_render(
    text: str, *, data: Path | None = None, glob: str = ALERTMANAGER_GLOB, html: bool = False
) -> str:
    """Render ``text`` with amtool and return its output."""
    assert AMTOOL is not None
    cmd = [AMTOOL, "template", "render", f"--template.glob={glob}", f"--template.text={text}"]
    if data is not None:
        cmd.append(f"--template.data={data}")
    cmd.append(f"--template.type={'html' if html else 'text'}")
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise AmtoolError(done.stderr.strip())
    return done.stdout


def amtool_render_many(
    texts: Sequence[str],
    *,
    data: Path | None = None,
    glob: str = ALERTMANAGER_GLOB,
    html: bool = False,
) -> list[str]:
    """Render several templates in one amtool run; one output per template."""
    joined = "".join(text + SEPARATOR for text in texts)
    outputs = amtool_render(joined, data=data, glob=glob, html=html).split(SEPARATOR)
    assert len(outputs) == len(texts) + 1, "a template printed the separator itself"
    return outputs[:-1]
