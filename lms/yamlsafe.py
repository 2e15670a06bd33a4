"""YAML from outside, read within limits of size, nesting depth and alias expansion.

Every YAML the platform reads goes through here, and the limits are set only here
(``docs/limits.md``, "YAML"): the front matter of a course and of its modules and the
commitments files (data with lines, :func:`load_located`), quiz blocks (node by node,
:class:`lms.yamlnodes.Reader`) and the organisations registry (:func:`load`).

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

Alias policy, the same for every reader: aliases are *expanded within the node limit*,
not refused. Authors use them (a quiz reuses a list of options with ``*opzioni``), and
counting the expanded nodes bounds the work exactly as if the copies had been written
out, so refusing them would protect nothing more. An alias of a node that contains it
(``&a [*a]``, a cycle) is refused: it has no finite expansion. A repeated key is refused
by every reader too (PyYAML would silently keep the last value).

The parser is libyaml's when it is installed (its events, our composer: the limits apply
either way), PyYAML's own otherwise and whenever libyaml refuses the text, so that syntax
errors always read as PyYAML words them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
        """libyaml's events (faster than PyYAML's parser), our composer."""

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


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is used."""
    return message


# PyYAML's problem -> what an author can do about it.
_SYNTAX_HINTS = (
    (
        "mapping values are not allowed",
        N_(
            "un ':' in un punto non previsto: se il testo contiene "
            "':' mettilo tra virgolette, altrimenti controlla il rientro"
        ),
    ),
    ("'\\t'", N_("c'è una tabulazione: per rientrare usa gli spazi")),
    ("could not find expected ':'", N_("manca ':' dopo il nome di una chiave")),
    ("expected <block end>", N_("rientro non coerente con le righe precedenti")),
    ("did not find expected key", N_("rientro non coerente con le righe precedenti")),
    ("did not find expected '-'", N_("un elenco deve avere ogni elemento su una riga con '- '")),
    ("end of stream", N_("testo aperto e mai chiuso: controlla virgolette e parentesi")),
    ("undefined alias", N_("'*' all'inizio di un valore: mettilo tra virgolette")),
    ("escape character", N_("'\\' non valido dentro le virgolette doppie: usa quelle singole")),
    ("expected ',' or ']'", N_("parentesi quadra non chiusa correttamente")),
    ("expected ',' or '}'", N_("parentesi graffa non chiusa correttamente")),
    (
        "cannot start any token",
        N_("un valore non può iniziare con questo carattere: mettilo tra virgolette"),
    ),
    ("expected a single document", N_("il blocco contiene '---' o '...': toglili")),
    ("found duplicate anchor", N_("'&' ripetuto all'inizio di un valore: mettilo tra virgolette")),
)


def syntax_hint(problem: str, context: str = "") -> str | None:
    """What to check, in the author's words, for one of PyYAML's common problems."""
    for needle, hint in _SYNTAX_HINTS:
        if needle in problem or needle in context:
            return _(hint)
    return None


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
    """Python values of ``text`` within the limits; every problem (a repeated key too, as
    for every other reader) as :class:`FormatError`."""
    located, issues = load_located(text, file=file, first_line=first_line, max_chars=max_chars)
    if located is None or issues:
        raise FormatError(issues)
    return located.data


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
    text: str, *, file: str, first_line: int = 1, max_chars: int = MAX_CHARS
) -> tuple[LocatedYaml | None, list[FormatIssue]]:
    """The data of ``text``, whose first line is line ``first_line`` of ``file``, with lines.

    Returns the data or the issues: syntax errors and the limits (then no data), and
    repeated keys (with the data, the last value of a repeated key kept).
    """
    located = LocatedYaml(data=None, first_line=first_line)
    issues: list[FormatIssue] = []
    try:
        node = parse(text, file=file, first_line=first_line, max_chars=max_chars)
        if node is not None:  # depth and expanded size are bounded: the walk is too
            _locate(node, (), located, issues, file)
        located.data = construct(node, file=file, first_line=first_line)
    except FormatError as error:
        return None, error.issues
    return located, issues


def _locate(
    node: yaml.Node,
    path: tuple[Any, ...],
    located: LocatedYaml,
    issues: list[FormatIssue],
    file: str,
) -> None:
    located.lines[path] = located.first_line + node.start_mark.line
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            line = located.first_line + key_node.start_mark.line
            if key in seen:
                issues.append(FormatIssue(file, line, _("chiave ripetuta: %(key)s", key=key)))
            seen.add(key)
            _locate(value_node, path + (key,), located, issues, file)
            located.lines[path + (key,)] = line  # the key's line, not where its value starts
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _locate(item, path + (index,), located, issues, file)
