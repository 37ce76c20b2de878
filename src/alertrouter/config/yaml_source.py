"""Read a YAML file into plain data, remembering the line of every key and item.

Environment references are expanded in string scalars here, so that an unset variable is
reported at the line that uses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from alertrouter.config.interpolate import interpolate
from alertrouter.errors import format_path

__all__ = ["Path", "SourceDocument", "parse_yaml"]

Path = tuple[str | int, ...]
_NULL_TAG = "tag:yaml.org,2002:null"
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(slots=True)
class SourceDocument:
    """A parsed YAML document: its data, the line of each path, and what went wrong reading it."""

    file: str
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    syntax_errors: list[tuple[int | None, str, str]] = field(default_factory=list)
    missing_variables: dict[Path, list[str]] = field(default_factory=dict)

    def unset_variable_names(self) -> tuple[str, ...]:
        """Every unset ``${VAR}`` name the file uses, sorted, each once."""
        return tuple(sorted({name for names in self.missing_variables.values() for name in names}))

    def line_of(self, path: Path) -> int | None:
        """The line of ``path``, or of its nearest ancestor that the file spells out."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None


def parse_yaml(
    text: str, file: str, environ: Mapping[str, str], *, keep_missing: bool = False
) -> SourceDocument:
    """Parse one YAML document; syntax errors and duplicate keys are recorded, not raised.

    With ``keep_missing`` an unset variable stays as written (``${NAME}``) instead of "".
    """
    document = SourceDocument(file=file, data=None)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            document.data = _Walker(loader, document, environ, keep_missing).value(node, ())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        document.syntax_errors.append((line, "", f"invalid YAML: {exc.problem or exc}"))
    except yaml.YAMLError as exc:
        document.syntax_errors.append((None, "", f"invalid YAML: {exc}"))
    finally:
        loader.dispose()
    return document


class _Walker:
    def __init__(
        self,
        loader: yaml.SafeLoader,
        document: SourceDocument,
        environ: Mapping[str, str],
        keep_missing: bool,
    ) -> None:
        self._keep_missing = keep_missing
        self._loader = loader
        self._document = document
        self._environ = environ

    def value(self, node: yaml.Node, path: Path) -> Any:
        self._document.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.value(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        if node.tag == _NULL_TAG:
            return None
        # Scalars stay the text the file wrote, as Go's YAML decoder gives a string field:
        # `010`, `yes`, `17:00`, `2001-12-14` are not 8, True, 1020 and a date here. Typed
        # fields (bools, numbers) are converted from that text by their pydantic model.
        text, missing = interpolate(str(node.value), self._environ, keep_missing=self._keep_missing)
        if missing:
            self._document.missing_variables[path] = missing
        return text

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                line = key_node.start_mark.line + 1
                self._document.syntax_errors.append((line, format_path(path), "invalid key"))
                continue
            key = str(key_node.value)
            key_path = (*path, str(key))
            if key in result:
                line = key_node.start_mark.line + 1
                message = f'key "{key}" is defined more than once'
                self._document.syntax_errors.append((line, format_path(path), message))
                continue
            self._document.lines[key_path] = key_node.start_mark.line + 1
            result[key] = self.value(value_node, key_path)
        # `<<` merges as Go's decoder does (not left to PyYAML, whose order varies by
        # release): the mapping's own keys win, then the first source that has the key.
        for merge in merges:
            sources = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    line = source.start_mark.line + 1
                    message = "a merge key (<<) takes a mapping or a list of mappings"
                    self._document.syntax_errors.append((line, format_path(path), message))
                    continue
                own_lines = {
                    k: v for k, v in self._document.lines.items() if k[: len(path)] == path
                }
                for key, value in self._mapping(source, path).items():
                    result.setdefault(key, value)
                self._document.lines.update(own_lines)
        return result
