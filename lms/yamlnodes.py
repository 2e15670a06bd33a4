"""Reading YAML nodes field by field, so that every problem is reported with its line.

The one reader with lines for YAML that people write (quiz blocks; courses' front matter
and commitments files read their data with :func:`lms.yamlsafe.load_located`). Nodes,
not ``yaml.safe_load`` output: nodes keep their position (the author needs the line) and
let text fields be read verbatim, so a trainer's ``text: No`` or ``- 2013`` stays text
instead of turning into ``False`` or ``2013``. The text is composed by
:mod:`lms.yamlsafe`, whose limits on size, depth and expanded aliases bound every walk here.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Collection, Iterable, Mapping
from typing import Any

import yaml
from flask_babel import gettext as _

from lms import yamlsafe
from lms.errors import FormatError, FormatIssue

Node = yaml.Node
Field = tuple[yaml.Node, yaml.Node]  # (key node, value node)

NULL_TAG = "tag:yaml.org,2002:null"
STR_TAG = "tag:yaml.org,2002:str"


def suggestion(word: str, candidates: Iterable[str], hints: Mapping[str, str]) -> str | None:
    """The candidate the author most likely meant by ``word``, if any."""
    choices = list(candidates)
    hinted = hints.get(word.lower())
    if hinted in choices:
        return hinted
    close = difflib.get_close_matches(word.lower(), choices, n=1, cutoff=0.6)
    return close[0] if close else None


def describe(node: Node) -> str:
    """How a value looks to the author, for "found: ..." in messages."""
    if isinstance(node, yaml.SequenceNode):
        return _("un elenco")
    if isinstance(node, yaml.MappingNode):
        return _("un gruppo di chiavi")
    value = str(node.value)
    if node.tag == NULL_TAG and value in ("", "~", "null", "Null", "NULL"):
        return _("niente")
    if len(value) > 40:
        value = value[:37] + "…"
    return f"'{value}'"


class Reader:
    """Collects :class:`FormatIssue` objects while reading the nodes of one document.

    Each reading method returns ``None`` after reporting a problem, so callers can go on
    and report the next one: the author sees every problem of the document at once.
    ``hints`` maps words an author may write instead of a key (``testo``) to the key
    (``text``). A subclass words the document-level messages for its readers (the
    ``*_message`` methods), e.g. "the quiz block is too long".
    """

    def __init__(
        self, file: str, first_line: int, *, hints: Mapping[str, str] | None = None
    ) -> None:
        self.file = file
        self.first_line = first_line
        self.hints: Mapping[str, str] = hints or {}
        self.issues: list[FormatIssue] = []
        self._constructor = yaml.constructor.SafeConstructor()
        # (mapping node, key) already suggested for a misspelt key: not reported as missing.
        self._suggested: set[tuple[int, str]] = set()

    # -- the document --------------------------------------------------------------------

    def compose(self, source: str, *, max_chars: int) -> Node | None:
        """The root node, or ``None`` after reporting why the text is not usable YAML.

        The limits of :mod:`lms.yamlsafe` apply; a syntax error is reported at the line
        where PyYAML gave up (never past the last line), in the author's words.
        """
        if len(source) > max_chars:
            self.report(self.first_line, self.too_long_message(len(source), max_chars))
            return None
        last = max(0, len(source.rstrip("\n").split("\n")) - 1)
        try:
            root = yamlsafe.compose(
                source, file=self.file, first_line=self.first_line, max_chars=max_chars
            )
        except FormatError as error:  # a limit: already located and worded
            self.issues.extend(error.issues)
            return None
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line = min(mark.line, last) if mark else 0
            self.report(
                self.first_line + line,
                self.syntax_message(str(error.problem or ""), str(error.context or "")),
            )
            return None
        except yaml.reader.ReaderError as error:
            line = min(source.count("\n", 0, max(0, error.position)), last)
            self.report(self.first_line + line, self.character_message(_code_point(error)))
            return None
        except Exception as error:  # a third-party parser: the author still gets a located message
            self.report(self.first_line, self.syntax_message(str(error)))
            return None
        if root is None and (message := self.empty_message()):
            self.report(self.first_line, message)
        return root

    def too_long_message(self, length: int, max_chars: int) -> str:
        return _("YAML troppo lungo: %(n)d caratteri (al massimo %(max)d)", n=length, max=max_chars)

    def syntax_message(self, problem: str, context: str = "") -> str:
        return _(
            "YAML non valido: %(problem)s",
            problem=yamlsafe.syntax_hint(problem, context) or problem,
        )

    def character_message(self, code: str) -> str:
        return _("YAML non valido: %(problem)s", problem=code)

    def empty_message(self) -> str | None:
        """What to say about an empty document (``None``: empty is fine)."""
        return None

    # -- positions and issues ------------------------------------------------------------

    def line(self, node: Node) -> int:
        return self.first_line + node.start_mark.line

    def report(self, where: Node | int, message: str, *, context: str = "") -> None:
        line = where if isinstance(where, int) else self.line(where)
        text = f"{context}: {message}" if context else message
        self.issues.append(FormatIssue(self.file, line, text))

    # -- structure ---------------------------------------------------------------------

    def mapping(
        self,
        node: Node,
        allowed: Collection[str],
        *,
        context: str,
        what: str,
    ) -> dict[str, Field] | None:
        """The fields of a mapping node by key; unknown or repeated keys are reported."""
        if not isinstance(node, yaml.MappingNode):
            self.report(
                node,
                _(
                    "%(what)s deve essere un gruppo di chiavi 'nome: valore' (trovato: %(found)s)",
                    what=what,
                    found=describe(node),
                ),
                context=context,
            )
            return None
        fields: dict[str, Field] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.report(key_node, _("chiave non valida"), context=context)
                continue
            key = str(key_node.value)
            if key in fields:
                self.report(key_node, _("la chiave '%(key)s' è ripetuta", key=key), context=context)
                continue
            if key not in allowed:
                guess = suggestion(key, allowed, self.hints)
                if guess:
                    self.suggested(node, guess)
                self.report(key_node, self._unknown_key(key, guess, allowed), context=context)
                continue
            fields[key] = (key_node, value_node)
        return fields

    def suggested(self, owner: Node, key: str) -> None:
        """A message already told the author to write ``key`` in ``owner``: not "missing" too."""
        self._suggested.add((id(owner), key))

    def _unknown_key(self, key: str, guess: str | None, allowed: Collection[str]) -> str:
        if guess:
            return _(
                "chiave sconosciuta '%(key)s' (forse intendevi '%(guess)s'?)", key=key, guess=guess
            )
        return _(
            "chiave sconosciuta '%(key)s' (chiavi ammesse: %(allowed)s)",
            key=key,
            allowed=", ".join(sorted(allowed)),
        )

    def require(
        self, fields: Mapping[str, Field], key: str, owner: Node, *, context: str
    ) -> Node | None:
        """The value node of a required key, or ``None`` after reporting it missing."""
        if key in fields:
            return fields[key][1]
        if (id(owner), key) in self._suggested:
            return None  # "unknown key 'testo' (did you mean 'text'?)" says it already
        self.report(owner, _("manca la chiave obbligatoria '%(key)s'", key=key), context=context)
        return None

    def sequence(
        self,
        node: Node,
        *,
        key: str,
        context: str,
        min_items: int,
        max_items: int,
    ) -> list[Node] | None:
        if not isinstance(node, yaml.SequenceNode):
            self.report(
                node,
                _(
                    "'%(key)s' deve essere un elenco (righe che iniziano con '- '), "
                    "trovato: %(found)s",
                    key=key,
                    found=describe(node),
                ),
                context=context,
            )
            return None
        items = list(node.value)
        if len(items) < min_items:
            self.report(
                node,
                _(
                    "'%(key)s' deve avere almeno %(min)d elementi (trovati %(count)d)",
                    key=key,
                    min=min_items,
                    count=len(items),
                ),
                context=context,
            )
            return None
        if len(items) > max_items:
            self.report(
                node,
                _(
                    "'%(key)s' può avere al massimo %(max)d elementi (trovati %(count)d)",
                    key=key,
                    max=max_items,
                    count=len(items),
                ),
                context=context,
            )
            return None
        return items

    # -- scalars -----------------------------------------------------------------------

    def _value(self, node: Node) -> tuple[bool, Any]:
        """The scalar's YAML value (``True``, ``3``, ...), or ``(False, None)`` if it has none."""
        if not isinstance(node, yaml.ScalarNode):
            return False, None
        try:
            return True, self._constructor.construct_object(node, deep=True)
        except Exception:  # PyYAML raises many kinds for odd scalars (dates, huge ints...)
            return False, None

    def text(
        self, node: Node, *, key: str, context: str, max_chars: int, required: bool = True
    ) -> str | None:
        """A text field, read verbatim whatever YAML would make of it (``No``, ``2013``)."""
        if not isinstance(node, yaml.ScalarNode):
            self.report(
                node,
                _(
                    "'%(key)s' deve essere un testo (trovato: %(found)s)",
                    key=key,
                    found=describe(node),
                ),
                context=context,
            )
            return None
        is_null = node.tag == NULL_TAG and node.value in ("", "~", "null", "Null", "NULL")
        value = "" if is_null else str(node.value).strip()
        if not value:
            if required:
                self.report(node, _("'%(key)s' non può essere vuoto", key=key), context=context)
                return None
            return ""
        if len(value) > max_chars:
            self.report(
                node,
                _(
                    "'%(key)s' è troppo lungo: %(count)d caratteri (massimo %(max)d)",
                    key=key,
                    count=len(value),
                    max=max_chars,
                ),
                context=context,
            )
            return None
        return value

    def boolean(self, node: Node, *, key: str, context: str) -> bool | None:
        ok, value = self._value(node)
        if ok and isinstance(value, bool):
            return value
        self.report(
            node,
            _(
                "'%(key)s' deve essere true (sì) o false (no), trovato: %(found)s",
                key=key,
                found=describe(node),
            ),
            context=context,
        )
        return None

    def integer(
        self, node: Node, *, key: str, context: str, minimum: int, maximum: int
    ) -> int | None:
        ok, value = self._value(node)
        if not ok or isinstance(value, bool) or not isinstance(value, int):
            self.report(
                node,
                _(
                    "'%(key)s' deve essere un numero intero (trovato: %(found)s)",
                    key=key,
                    found=describe(node),
                ),
                context=context,
            )
            return None
        if not minimum <= value <= maximum:
            self.report(
                node,
                _(
                    "'%(key)s' deve essere tra %(min)d e %(max)d (trovato: %(value)d)",
                    key=key,
                    min=minimum,
                    max=maximum,
                    value=value,
                ),
                context=context,
            )
            return None
        return value

    def number(
        self,
        node: Node,
        *,
        key: str,
        context: str,
        minimum: float,
        maximum: float,
        positive: bool = False,
    ) -> int | float | None:
        """A finite number in ``[minimum, maximum]`` (``> 0`` too when ``positive``)."""
        ok, value = self._value(node)
        if (
            not ok
            or isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            self.report(
                node,
                _(
                    "'%(key)s' deve essere un numero (trovato: %(found)s)",
                    key=key,
                    found=describe(node),
                ),
                context=context,
            )
            return None
        if positive and value <= 0:
            self.report(
                node,
                _(
                    "'%(key)s' deve essere maggiore di zero (trovato: %(found)s)",
                    key=key,
                    found=describe(node),
                ),
                context=context,
            )
            return None
        if not minimum <= value <= maximum:
            self.report(
                node,
                _(
                    "'%(key)s' deve essere tra %(min)s e %(max)s (trovato: %(found)s)",
                    key=key,
                    min=_num(minimum),
                    max=_num(maximum),
                    found=describe(node),
                ),
                context=context,
            )
            return None
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    def choice(self, node: Node, *, key: str, context: str, allowed: Collection[str]) -> str | None:
        value = node.value if isinstance(node, yaml.ScalarNode) else None
        if isinstance(value, str) and value in allowed:
            return value
        self.report(
            node,
            _(
                "'%(key)s' deve essere uno tra %(allowed)s (trovato: %(found)s)",
                key=key,
                allowed=", ".join(allowed),
                found=describe(node),
            ),
            context=context,
        )
        return None


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _code_point(error: yaml.reader.ReaderError) -> str:
    character = error.character
    if isinstance(character, str) and len(character) == 1:
        character = ord(character)
    return f"U+{character:04X}" if isinstance(character, int) else "?"
