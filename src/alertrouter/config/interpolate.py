"""``${VAR}`` and ``${VAR:-default}`` from the environment; ``$$`` is a literal ``$``."""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["interpolate"]

_REFERENCE_RE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def interpolate(
    text: str, environ: Mapping[str, str], *, keep_missing: bool = False
) -> tuple[str, list[str]]:
    """Return ``text`` with references replaced, and the names of unset variables it used.

    ``${VAR:-default}`` takes the default when VAR is unset or empty, as in the shell.
    Unset variables without a default become "" (or stay as written with ``keep_missing``).
    """
    if "$" not in text:
        return text, []
    missing: list[str] = []

    def substitute(found: re.Match[str]) -> str:
        name, default = found.group(1), found.group(2)
        if name is None:
            return "$"
        value = environ.get(name)
        if default is not None:
            return value if value else default
        if value is None:
            missing.append(name)
            return found.group(0) if keep_missing else ""
        return value

    return _REFERENCE_RE.sub(substitute, text), missing
