"""YAML from outside, read within limits of size, nesting depth and alias expansion.

Every YAML the platform reads from a person goes through here: the front matter of a
course and of its modules (``courses/yamlsource.py``), quiz blocks (``quizzes/yamlsyntax.py``)
and commitments files (``commitments/definitions.py``). The limits are in
``docs/limits.md`` ("YAML").

Two attacks need more than PyYAML's ``SafeLoader``:

* **Alias expansion.** An alias (``*a``) is the anchored node again, not a copy; but a
  reader that walks the nodes as a tree (ours do, for line numbers and for messages) visits
  the anchored subtree once per alias. Nine lines of nine aliases each ("billion laughs",
  about 400 bytes) stand for 9**9 nodes. So the composer counts nodes *as a tree walker
  sees them*: 1 for each node, and for each alias the whole count of the subtree it names.
  It stops at :data:`MAX_NODES`, when the count crosses it, whatever the parse had left.
* **Nesting.** PyYAML's composer recurses once per level, so ``[[[...]]]`` a thousand deep
  raises ``RecursionError``. The depth is checked before each node is composed, and the
  composer refuses at :data:`MAX_DEPTH` before recursing any further.

An alias of a node that contains it (``&a [*a]``, a cycle) is refused too.

The parser is libyaml's when it is installed (its events, our composer: the limits apply
either way), PyYAML's own otherwise and whenever libyaml refuses the text, so that syntax
errors always read as PyYAML words them.
"""

from __future__ import annotations

from typing import Any

import yaml
from flask_babel import gettext as _

from lms.errors import FormatError, FormatIssue

#: Characters of YAML text (quiz blocks, front matter, a commitments file).
MAX_CHARS = 1_000_000
#: Levels of nesting: the starter courses and the default commitments use at most 6.
MAX_DEPTH = 20
#: Nodes counted as a tree walker visits them, every alias expanded: the largest quiz block
#: of the starter courses has 128, the default commitments 143.
MAX_NODES = 100_000


class _Refused(Exception):
    """A limit was reached at ``mark`` (internal: :func:`compose` turns it into a FormatError)."""

    def __init__(self, message: str, mark: Any) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


class BoundedComposer(yaml.composer.Composer):
    """PyYAML's composer, counting depth and expanded nodes as it goes."""

    max_depth = MAX_DEPTH
    max_nodes = MAX_NODES

    def compose_document(self) -> yaml.Node:
        self._depth = 0
        self._nodes = 0
        self._aliases = 0
        self._weights: dict[str, int] = {}  # anchor -> nodes of its subtree, aliases expanded
        return super().compose_document()

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            weight = self._weights.get(event.anchor)
            if weight is None and event.anchor in self.anchors:
                raise _Refused(
                    _(
                        "YAML non valido: l'alias '*%(name)s' è dentro il valore a cui rimanda",
                        name=event.anchor,
                    ),
                    event.start_mark,
                )
            if weight is not None:  # an undefined alias is PyYAML's error, worded as usual
                self._aliases += 1
                self._count(weight, event.start_mark)
            return super().compose_node(parent, index)
        if self._depth >= self.max_depth:
            raise _Refused(
                _("YAML con troppi livelli annidati (al massimo %(max)d)", max=self.max_depth),
                event.start_mark,
            )
        self._count(1, event.start_mark)
        before = self._nodes - 1
        self._depth += 1
        node = super().compose_node(parent, index)
        self._depth -= 1
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._weights[anchor] = self._nodes - before
        return node

    def _count(self, nodes: int, mark: Any) -> None:
        self._nodes += nodes
        if self._nodes <= self.max_nodes:
            return
        if self._aliases:
            message = _(
                "YAML troppo grande una volta espansi gli alias ('*'): più di %(max)d elementi",
                max=self.max_nodes,
            )
        else:
            message = _("YAML con troppi elementi (al massimo %(max)d)", max=self.max_nodes)
        raise _Refused(message, mark)


class _PureLoader(BoundedComposer, yaml.SafeLoader):
    """PyYAML's own parser: the reference for messages."""


try:
    from yaml.cyaml import CParser as _CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _CParser = None

if _CParser is not None:

    class _FastLoader(
        BoundedComposer, _CParser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver
    ):
        """libyaml's events (about ten times faster than PyYAML's parser), our composer."""

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

else:  # pragma: no cover - libyaml is in the wheels we install
    _FastLoader = None  # type: ignore[assignment,misc]


def _compose_with(loader_class: type, text: str) -> yaml.Node | None:
    loader = loader_class(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def compose(
    text: str, *, file: str, first_line: int = 1, max_chars: int = MAX_CHARS
) -> yaml.Node | None:
    """The root node of ``text`` (``None`` if it is empty), whose first line is line
    ``first_line`` of ``file``.

    A limit raises :class:`FormatError` (file, line, Italian message); bad syntax raises
    PyYAML's own ``yaml.YAMLError``, for callers that word it themselves (see :func:`parse`).
    """
    if len(text) > max_chars:
        raise FormatError(
            [
                FormatIssue(
                    file,
                    first_line,
                    _(
                        "YAML troppo lungo: %(n)d caratteri (al massimo %(max)d)",
                        n=len(text),
                        max=max_chars,
                    ),
                )
            ]
        )
    try:
        # libyaml accepts a few characters PyYAML's reader refuses: those texts skip it.
        if _FastLoader is not None and not yaml.reader.Reader.NON_PRINTABLE.search(text):
            try:
                return _compose_with(_FastLoader, text)
            except _Refused:
                raise
            except Exception:  # noqa: BLE001, S110 - PyYAML's parser below says what is wrong
                pass
        return _compose_with(_PureLoader, text)
    except _Refused as refused:
        line = first_line + refused.mark.line if refused.mark is not None else first_line
        raise FormatError([FormatIssue(file, line, refused.message)]) from None


def syntax_issue(error: yaml.YAMLError, *, file: str, first_line: int = 1) -> FormatIssue:
    """The issue "YAML non valido: ..." at the line where the broken construct began."""
    # Where it began (e.g. an unclosed quote) helps more than where the parser gave up
    # (often the end of the text).
    mark = getattr(error, "context_mark", None) or getattr(error, "problem_mark", None)
    line = first_line + mark.line if mark is not None else first_line
    problem = " ".join(
        str(p) for p in (getattr(error, "context", None), getattr(error, "problem", None)) if p
    ) or str(error)
    return FormatIssue(file, line, _("YAML non valido: %(problem)s", problem=problem))


def parse(
    text: str, *, file: str, first_line: int = 1, max_chars: int = MAX_CHARS
) -> yaml.Node | None:
    """Like :func:`compose`, with syntax errors as :class:`FormatError` too."""
    try:
        return compose(text, file=file, first_line=first_line, max_chars=max_chars)
    except yaml.YAMLError as error:
        raise FormatError([syntax_issue(error, file=file, first_line=first_line)]) from None


def construct(node: yaml.Node | None, *, file: str, first_line: int = 1) -> Any:
    """Python values of a node from :func:`compose` (an alias gives the same object again).

    Values that YAML parses but Python cannot hold (unknown tags, 30 February) raise
    :class:`FormatError`.
    """
    if node is None:
        return None
    try:
        return yaml.constructor.SafeConstructor().construct_document(node)
    except yaml.YAMLError as error:  # e.g. an unknown tag: the line of the value, not its parent
        mark = getattr(error, "problem_mark", None)
        issue = syntax_issue(error, file=file, first_line=first_line)
        if mark is not None:
            issue = FormatIssue(file, first_line + mark.line, issue.message)
        raise FormatError([issue]) from None
    except (ValueError, TypeError, OverflowError) as error:  # e.g. impossible dates
        raise FormatError(
            [FormatIssue(file, first_line, _("YAML non valido: %(problem)s", problem=str(error)))]
        ) from None


def load(text: str, *, file: str, first_line: int = 1, max_chars: int = MAX_CHARS) -> Any:
    """Python values of ``text`` within the limits; every problem as :class:`FormatError`."""
    node = parse(text, file=file, first_line=first_line, max_chars=max_chars)
    return construct(node, file=file, first_line=first_line)
