"""YAML with line numbers, so that errors can name the line an author must fix."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from flask_babel import gettext as _

from lms.errors import FormatIssue


@dataclass
class LocatedYaml:
    """Parsed data plus the 1-based file line of every mapping key and list item."""

    data: Any
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict)
    first_line: int = 1

    def line(self, *path: Any) -> int:
        """Line of ``path`` (keys/indices), falling back to its closest located parent."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.first_line


def load_located(
    text: str, *, file: str, first_line: int
) -> tuple[LocatedYaml | None, list[FormatIssue]]:
    """Parse ``text`` whose first line is line ``first_line`` of ``file``.

    Returns the data or the issues (syntax errors, duplicate keys).
    """
    fast = _fast_parse(text)
    if fast is not None:  # libyaml accepted it: same nodes and data, ten times faster
        node, data = fast
        located = LocatedYaml(data=None, first_line=first_line)
        issues: list[FormatIssue] = []
        if node is not None:
            _walk(node, (), located, issues, file, first_line)
        located.data = data
        return located, issues
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        # Where the broken construct began (e.g. an unclosed quote) helps more than
        # where the parser gave up (often the end of the text).
        mark = getattr(error, "context_mark", None) or getattr(error, "problem_mark", None)
        line = first_line + mark.line if mark is not None else first_line
        problem = " ".join(
            str(p) for p in (getattr(error, "context", None), getattr(error, "problem", None)) if p
        ) or str(error)
        return None, [FormatIssue(file, line, _("YAML non valido: %(problem)s", problem=problem))]
    located = LocatedYaml(data=None, first_line=first_line)
    issues: list[FormatIssue] = []
    if node is not None:
        _walk(node, (), located, issues, file, first_line)
    try:
        located.data = yaml.safe_load(text)
    except yaml.YAMLError as error:  # constructor errors (e.g. bad tags)
        mark = getattr(error, "problem_mark", None)
        line = first_line + mark.line if mark is not None else first_line
        return None, [
            FormatIssue(file, line, _("YAML non valido: %(problem)s", problem=str(error)))
        ]
    except (ValueError, TypeError, OverflowError) as error:  # e.g. impossible dates
        return None, [
            FormatIssue(file, first_line, _("YAML non valido: %(problem)s", problem=str(error)))
        ]
    return located, issues


_FAST_LOADER = getattr(yaml, "CSafeLoader", None)


def _fast_parse(text: str) -> tuple[yaml.Node | None, Any] | None:
    """Nodes and data from libyaml, or ``None`` (no libyaml, or it refused the text, or the
    text has a character PyYAML's reader refuses): the pure-Python path then parses it and
    reports any problem exactly as before."""
    if _FAST_LOADER is None or yaml.reader.Reader.NON_PRINTABLE.search(text):
        return None
    try:
        return yaml.compose(text, Loader=_FAST_LOADER), yaml.load(text, Loader=_FAST_LOADER)
    except Exception:  # noqa: BLE001 - any refusal: the pure-Python parser reports it
        return None


def _walk(
    node: yaml.Node,
    path: tuple[Any, ...],
    located: LocatedYaml,
    issues: list[FormatIssue],
    file: str,
    first_line: int,
) -> None:
    located.lines[path] = first_line + node.start_mark.line
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            line = first_line + key_node.start_mark.line
            if key in seen:
                issues.append(FormatIssue(file, line, _("chiave ripetuta: %(key)s", key=key)))
            seen.add(key)
            located.lines[path + (key,)] = line
            _walk(value_node, path + (key,), located, issues, file, first_line)
            located.lines[path + (key,)] = line
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, path + (index,), located, issues, file, first_line)
