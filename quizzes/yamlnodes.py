"""Reading composed YAML nodes, so every problem in a quiz block is reported with its line.

We walk composed nodes instead of ``yaml.safe_load`` output because nodes keep their
position (the author needs the line) and let us read text fields verbatim: a trainer's
``text: No`` or ``- 2013`` stays text instead of turning into ``False`` or ``2013``. The
nodes come from :mod:`lms.yamlsafe` (via ``quizzes.yamlsyntax.compose``), whose limits on
depth and aliases bound every walk here.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Collection, Iterable, Mapping
from typing import Any

import yaml
from flask_babel import gettext as _

from lms.errors import FormatIssue

Node = yaml.Node
Field = tuple[yaml.Node, yaml.Node]  # (key node, value node)

NULL_TAG = "tag:yaml.org,2002:null"
STR_TAG = "tag:yaml.org,2002:str"

# Italian (or common) words a trainer may write instead of the English keys.
KEY_HINTS = {
    "testo": "text",
    "domanda": "text",
    "domande": "questions",
    "tipo": "type",
    "punti": "points",
    "punteggio": "points",
    "opzioni": "options",
    "scelte": "options",
    "risposte": "answers",
    "risposta": "answer",
    "corretta": "correct",
    "corretto": "correct",
    "giusta": "correct",
    "coppie": "pairs",
    "elementi": "items",
    "etichette": "tags",
    "tag": "tags",
    "commento": "feedback",
    "tentativi": "attempts",
    "soglia": "pass_mark",
    "answer": "answers",
    "answers": "answer",
    "option": "options",
    "question": "questions",
    "pair": "pairs",
    "item": "items",
}


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
    """Collects :class:`FormatIssue` objects while reading nodes of one quiz block.

    Each reading method returns ``None`` after reporting a problem, so callers can go on
    and report the next one: the author sees every problem of the block at once.
    """

    def __init__(self, file: str, first_line: int) -> None:
        self.file = file
        self.first_line = first_line
        self.issues: list[FormatIssue] = []
        self._constructor = yaml.constructor.SafeConstructor()
        # (mapping node, key) already suggested for a misspelt key: not reported as missing.
        self._suggested: set[tuple[int, str]] = set()

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
        hints: Mapping[str, str] = KEY_HINTS,
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
                guess = suggestion(key, allowed, hints)
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
