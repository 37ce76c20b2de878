"""Go templates in the routing file: templated fields checked at load, ``templates:`` loaded.

A receiver field that Alertmanager templates (``GoTemplate``) is parsed with Alertmanager's
function map when the config loads. Alertmanager itself parses such a field only when it sends
(``amtool check-config`` accepts a field that will never parse), so in a routing file a field
that does not parse is a *warning* (the loader passes a ``template_warnings`` list in the
validation context): the file still loads, as Alertmanager's would, and at send time that
field gets our default rendering, counted. Validated alone (no context), it is an error.

The config's ``templates:`` globs (relative to the file's folder) are parsed after the default
templates, as Alertmanager's FromGlobs: a file that does not parse is an error.
"""

from __future__ import annotations

import glob as globmod
import os
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, ValidationInfo
from pydantic_core import PydanticCustomError

from alertrouter.errors import ConfigProblem
from alertrouter.templates import AlertmanagerTemplates, TemplateError, from_globs

__all__ = ["GoTemplate", "check_go_template", "default_templates", "load_templates"]

_WHERE = re.compile(r"^template: (?P<name>[^:]*):(?P<line>\d+):")


@lru_cache(maxsize=1)
def default_templates() -> AlertmanagerTemplates:
    """Alertmanager's default templates alone (parsed once): for checks and for no-config use."""
    return from_globs([])


def check_go_template(value: str, info: ValidationInfo) -> str:
    """``value`` if it parses as a Go template. If not: noted in the context's
    ``template_warnings`` as (field, message) when there is one, else a PydanticCustomError."""
    if "{{" not in value:
        return value
    try:
        default_templates().text.clone().parse_tree(value, "")
    except TemplateError as exc:
        warnings = info.context.get("template_warnings") if info.context else None
        if warnings is None:
            raise PydanticCustomError(
                "template", "invalid template: {error}", {"error": str(exc)}
            ) from None
        warnings.append((info.field_name or "", f"invalid template: {exc}"))
    return value


# A receiver field that Alertmanager templates: checked to parse when the config loads.
GoTemplate = Annotated[str, AfterValidator(check_go_template)]


def load_templates(
    globs: Sequence[str], base_dir: Path, config_file: str
) -> tuple[AlertmanagerTemplates, list[ConfigProblem]]:
    """The defaults plus every file ``globs`` match (relative to ``base_dir``), and the problems.

    A glob matching nothing is fine; a file that does not parse is a problem at its file:line
    (the set then holds every file that did parse).
    """
    templates = from_globs([])
    problems: list[ConfigProblem] = []
    for index, pattern in enumerate(globs):
        full = pattern if os.path.isabs(pattern) else os.path.join(base_dir, pattern)
        for match in sorted(globmod.glob(full, include_hidden=True)):
            path = Path(match)
            if path.is_dir():
                problems.append(
                    ConfigProblem(config_file, None, f"templates[{index}]", f"{match}: is a folder")
                )
                continue
            try:
                templates.parse_file(path)
            except OSError as exc:
                problems.append(
                    ConfigProblem(match, None, "", f"cannot read: {exc.strerror or exc}")
                )
            except TemplateError as exc:
                where = _WHERE.match(str(exc))
                line = int(where["line"]) if where else None
                problems.append(ConfigProblem(match, line, "", str(exc)))
    return templates, problems
