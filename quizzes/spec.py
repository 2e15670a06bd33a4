"""Parsing the ```quiz block of a module into a :class:`QuizSpec` (see docs/course-format.md).

Every problem is collected, with the line in the module file, before raising
:class:`FormatError`: a trainer fixes the whole block in one go instead of one error per
import. Uniqueness of question ids across the course is the caller's job
(:attr:`QuizSpec.question_ids`).
"""

from __future__ import annotations

import re

import yaml
from flask_babel import gettext as _

from lms import markdown_limits
from lms.errors import FormatError, FormatIssue
from lms.yamlnodes import Field, Node, Reader, describe, suggestion
from lms.yamlsafe import syntax_hint
from quizzes.question_types import question_types
from quizzes.records import (
    FEEDBACK_WHEN,
    GRADING,
    ItemSpec,
    OptionSpec,
    PairSpec,
    QuestionSpec,
    QuizSpec,
)
from quizzes.types import TYPE_HINTS

__all__ = [
    "ItemSpec",
    "OptionSpec",
    "PairSpec",
    "QuestionSpec",
    "QuizSpec",
    "parse_quiz_block",
    "validate_quiz_block",
]

MAX_SOURCE_CHARS = 1_000_000
MAX_QUESTIONS = 200
MAX_TEXT_CHARS = 5000
MAX_TAGS = 20
MAX_POINTS = 1000
ID_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,79}\Z")

TOP_KEYS = (
    "pass_mark",
    "attempts",
    "cooldown_minutes",
    "time_limit_minutes",
    "draw",
    "draw_tags",
    "shuffle_options",
    "show_feedback",
    "show_answers",
    "grading",
    "questions",
)
COMMON_KEYS = ("id", "type", "text", "points", "tags", "feedback")

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


class QuizReader(Reader):
    """The core's node reader, speaking of "the quiz block" and knowing the keys' hints."""

    def __init__(self, file: str, first_line: int) -> None:
        super().__init__(file, first_line, hints=KEY_HINTS)

    def too_long_message(self, length: int, max_chars: int) -> str:
        return _("il blocco quiz è troppo lungo (massimo %(max)d caratteri)", max=max_chars)

    def syntax_message(self, problem: str, context: str = "") -> str:
        hint = syntax_hint(problem, context)
        if hint:
            return _("errore di scrittura nel blocco quiz: %(hint)s", hint=hint)
        return _(
            "errore di scrittura nel blocco quiz (%(problem)s): controlla rientri, ':' e "
            "virgolette",
            problem=problem,
        )

    def character_message(self, code: str) -> str:
        return _("il blocco quiz contiene un carattere non ammesso (codice %(code)s)", code=code)

    def empty_message(self) -> str | None:
        return _("il blocco quiz è vuoto: servono almeno le domande")


def parse_quiz_block(source: str, *, file: str, first_line: int) -> QuizSpec:
    """Parse the YAML inside a ```quiz fence whose first line is ``first_line`` of ``file``.

    Raises :class:`FormatError` listing every problem found, each with its line.
    """
    reader = QuizReader(file, first_line)
    root = reader.compose(source, max_chars=MAX_SOURCE_CHARS)
    spec = None if root is None else _read_quiz(reader, root)
    if reader.issues or spec is None:
        raise FormatError(sorted(reader.issues, key=lambda issue: issue.line or 0))
    return spec


def validate_quiz_block(source: str, file: str, first_line: int) -> list[FormatIssue]:
    """The problems of a quiz block (empty if none): the fenced block's validator."""
    try:
        parse_quiz_block(source, file=file, first_line=first_line)
    except FormatError as error:
        return error.issues
    return []


# -- the quiz ------------------------------------------------------------------------------


def _read_quiz(reader: Reader, root: Node) -> QuizSpec | None:
    fields = reader.mapping(root, TOP_KEYS, context="", what=_("il blocco quiz"))
    if fields is None:
        return None
    settings = {k: _read_setting(reader, k, fields[k][1]) for k in fields if k != "questions"}
    node = reader.require(fields, "questions", root, context="")
    if node is None:
        return None
    items = reader.sequence(node, key="questions", context="", min_items=1, max_items=MAX_QUESTIONS)
    if items is None:
        return None
    questions, tag_sets = _read_questions(reader, items)
    _check_draw(reader, fields, settings, tag_sets)
    if reader.issues:
        return None
    return QuizSpec(questions=tuple(questions), **settings)


def _markdown_bounds(reader: Reader, node: Node, key: str, text: str, context: str) -> None:
    """Question texts are Markdown, rendered on every attempt page: within its bounds."""
    excess = markdown_limits.first_excess(text)
    if excess is not None:
        reader.report(
            node, _("'%(key)s': %(message)s", key=key, message=excess.message), context=context
        )


def _read_setting(reader: Reader, key: str, node: Node) -> object:
    match key:
        case "pass_mark":
            return reader.number(node, key=key, context="", minimum=0, maximum=100)
        case "attempts":
            return reader.integer(node, key=key, context="", minimum=0, maximum=1000)
        case "cooldown_minutes":
            return reader.integer(node, key=key, context="", minimum=0, maximum=525_600)
        case "time_limit_minutes":
            return reader.integer(node, key=key, context="", minimum=1, maximum=1440)
        case "draw":
            return reader.integer(node, key=key, context="", minimum=1, maximum=MAX_QUESTIONS)
        case "shuffle_options":
            return reader.boolean(node, key=key, context="")
        case "show_feedback" | "show_answers":
            return reader.choice(node, key=key, context="", allowed=FEEDBACK_WHEN)
        case "grading":
            return reader.choice(node, key=key, context="", allowed=GRADING)
        case "draw_tags":
            return _tags(reader, node, key=key, context="")
    return None


def _read_questions(
    reader: Reader, items: list[Node]
) -> tuple[list[QuestionSpec], list[tuple[str, ...] | None]]:
    """The valid questions, and the tags of every question (``None`` if unreadable)."""
    questions: list[QuestionSpec] = []
    tag_sets: list[tuple[str, ...] | None] = []
    first_seen: dict[str, int] = {}
    for n, item in enumerate(items, 1):
        question, question_id, tags = _read_question(reader, item, n)
        if question is not None:
            questions.append(question)
        tag_sets.append(tags)
        if question_id is None:
            continue
        if question_id in first_seen:
            reader.report(
                _peek(item, "id") or item,
                _(
                    "l'id '%(id)s' è già usato dalla domanda alla riga %(line)d",
                    id=question_id,
                    line=first_seen[question_id],
                ),
                context=_("domanda n. %(n)d", n=n),
            )
        else:
            first_seen[question_id] = reader.line(item)
    return questions, tag_sets


def _check_draw(
    reader: Reader,
    fields: dict[str, Field],
    settings: dict[str, object],
    tag_sets: list[tuple[str, ...] | None],
) -> None:
    """``draw_tags`` must name used tags and ``draw`` must fit the eligible questions.

    Skipped when some question's tags could not be read: its problem is already reported
    and counting without it would add a misleading second one.
    """
    if None in tag_sets or ("draw_tags" in fields and settings["draw_tags"] is None):
        return
    known = [tags for tags in tag_sets if tags is not None]
    used = {tag for tags in known for tag in tags}
    if "draw_tags" in fields:
        for node in fields["draw_tags"][1].value:
            if node.value not in used:
                reader.report(
                    node,
                    _("nessuna domanda ha il tag '%(tag)s'", tag=node.value),
                    context="draw_tags",
                )
    wanted = set(settings.get("draw_tags") or ())
    draw = settings.get("draw")
    eligible = sum(1 for tags in known if not wanted or wanted.intersection(tags))
    if not isinstance(draw, int) or draw <= eligible:
        return
    if wanted:
        message = _(
            "'draw' chiede %(draw)d domande per tentativo, ma quelle con i tag di 'draw_tags' "
            "sono %(count)d",
            draw=draw,
            count=eligible,
        )
    else:
        message = _(
            "'draw' chiede %(draw)d domande per tentativo, ma le domande sono %(count)d",
            draw=draw,
            count=eligible,
        )
    reader.report(fields["draw"][1], message)


def _peek(node: Node, key: str) -> Node | None:
    """The value node of ``key`` in a mapping node, before it is read properly."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return value_node
    return None


def _read_question(
    reader: Reader, item: Node, n: int
) -> tuple[QuestionSpec | None, str | None, tuple[str, ...] | None]:
    """One question, its id and its tags (each ``None`` if unusable)."""
    before = len(reader.issues)
    id_node = _peek(item, "id")
    peeked = id_node.value if isinstance(id_node, yaml.ScalarNode) else None
    valid_id = isinstance(peeked, str) and ID_RE.match(peeked)
    context = _("domanda '%(id)s'", id=peeked) if valid_id else _("domanda n. %(n)d", n=n)
    type_node = _peek(item, "type")
    type_name = type_node.value if isinstance(type_node, yaml.ScalarNode) else None
    types = question_types()
    qtype = types.get(type_name) if isinstance(type_name, str) else None
    all_keys = COMMON_KEYS + tuple(k for t in types.values() for k in t.keys)
    fields = reader.mapping(item, all_keys, context=context, what=_("ogni domanda"))
    if fields is None:
        return None, None, None
    question_id = _read_id(reader, fields, item, context)
    _read_type(reader, fields, item, context)
    tags = _tags(reader, fields["tags"][1], key="tags", context=context) if "tags" in fields else ()
    values: dict[str, object] = {}
    node = reader.require(fields, "text", item, context=context)
    values["text"] = node and reader.text(
        node, key="text", context=context, max_chars=MAX_TEXT_CHARS
    )
    if "points" in fields:
        values["points"] = reader.number(
            fields["points"][1],
            key="points",
            context=context,
            minimum=0,
            maximum=MAX_POINTS,
            positive=True,
        )
    if "feedback" in fields:
        values["feedback"] = reader.text(
            fields["feedback"][1],
            key="feedback",
            context=context,
            max_chars=MAX_TEXT_CHARS,
            required=False,
        )
    for key in ("text", "feedback"):
        if isinstance(values.get(key), str):
            _markdown_bounds(reader, fields[key][1], key, str(values[key]), context)
    if qtype is not None:
        for key, (key_node, _value) in fields.items():
            if key not in COMMON_KEYS and key not in qtype.keys:
                _misplaced(reader, item, key_node, qtype.keys, qtype.name, context)
        parsed = qtype.parse(reader, fields, item, context)
        if parsed is not None:
            values.update(parsed)
    if len(reader.issues) > before or qtype is None or question_id is None or tags is None:
        return None, question_id, tags
    question = QuestionSpec(
        id=question_id, type=qtype.name, tags=tags, line=reader.line(item), **values
    )
    return question, question_id, tags


def _misplaced(
    reader: Reader, item: Node, key_node: Node, keys: tuple[str, ...], kind: str, context: str
) -> None:
    """A key of another question type, e.g. ``answers`` (short) in a ``true_false``."""
    key = str(key_node.value)
    message = _("'%(key)s' non si usa nelle domande di tipo '%(type)s'", key=key, type=kind)
    guess = suggestion(key, keys, KEY_HINTS)
    if guess:
        reader.suggested(item, guess)
        message += " " + _("(forse intendevi '%(guess)s'?)", guess=guess)
    reader.report(key_node, message, context=context)


def _read_id(reader: Reader, fields: dict[str, Field], item: Node, context: str) -> str | None:
    node = reader.require(fields, "id", item, context=context)
    value = node and reader.text(node, key="id", context=context, max_chars=80)
    if value and not ID_RE.match(value):
        reader.report(
            node,
            _(
                "'id' può contenere solo lettere minuscole senza accenti, cifre, '-' e '_' "
                "(trovato: %(found)s)",
                found=describe(node),
            ),
            context=context,
        )
        return None
    return value or None


def _read_type(reader: Reader, fields: dict[str, Field], item: Node, context: str) -> None:
    node = reader.require(fields, "type", item, context=context)
    if node is None:
        return
    name = node.value if isinstance(node, yaml.ScalarNode) else None
    types = question_types()
    if isinstance(name, str) and name in types:
        return
    known = ", ".join(types)
    guess = suggestion(str(name), types, TYPE_HINTS) if name else None
    if guess:
        message = _(
            "tipo di domanda sconosciuto %(found)s (forse intendevi '%(guess)s'?)",
            found=describe(node),
            guess=guess,
        )
    else:
        message = _(
            "tipo di domanda sconosciuto %(found)s (tipi ammessi: %(known)s)",
            found=describe(node),
            known=known,
        )
    reader.report(node, message, context=context)


def _tags(reader: Reader, node: Node, *, key: str, context: str) -> tuple[str, ...] | None:
    items = reader.sequence(node, key=key, context=context, min_items=0, max_items=MAX_TAGS)
    if items is None:
        return None
    tags: list[str] = []
    ok = True
    for item in items:
        value = reader.text(item, key=key, context=context, max_chars=80)
        if value and not ID_RE.match(value):
            reader.report(
                item,
                _(
                    "il tag %(found)s può contenere solo lettere minuscole senza accenti, cifre, "
                    "'-' e '_'",
                    found=describe(item),
                ),
                context=context,
            )
            value = None
        if value is None:
            ok = False
        elif value not in tags:
            tags.append(value)
    return tuple(tags) if ok else None
