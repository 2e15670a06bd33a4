"""YAML with line numbers, so that errors can name the line an author must fix.

The text is read by :mod:`lms.yamlsafe`, within its limits of size, depth and aliases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from flask_babel import gettext as _

from lms import yamlsafe
from lms.errors import FormatError, FormatIssue


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

    Returns the data or the issues (syntax errors, the limits of :mod:`lms.yamlsafe`,
    duplicate keys).
    """
    located = LocatedYaml(data=None, first_line=first_line)
    issues: list[FormatIssue] = []
    try:
        node = yamlsafe.parse(text, file=file, first_line=first_line)
        if node is not None:  # depth and expanded size are bounded: the walk is too
            _walk(node, (), located, issues, file, first_line)
        located.data = yamlsafe.construct(node, file=file, first_line=first_line)
    except FormatError as error:
        return None, error.issues
    return located, issues


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
