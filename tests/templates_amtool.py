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
