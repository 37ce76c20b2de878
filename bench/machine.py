"""What every benchmark prints about where and how it ran: CPU, load, the exact command."""

from __future__ import annotations

import os
import platform
import shlex
import sys
from pathlib import Path

__all__ = ["command_line", "cpu_model", "load_average"]


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> str:
    """The 1/5/15-minute load averages: other work on the machine skews the numbers."""
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def command_line() -> str:
    """The command that ran this benchmark, with the interpreter relative to here."""
    python = sys.executable
    relative = os.path.relpath(python)
    if not relative.startswith(".."):
        python = relative
    return shlex.join([python, *sys.argv])
