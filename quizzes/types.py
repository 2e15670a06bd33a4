"""Question types as a base class and a registry, as CTFd does for challenge types.

Each type reads its own keys from the quiz block, shows a question without anything that
gives the answer away, turns what the browser sent into a normalised answer (refusing
anything that was not on the page) and scores it exactly with :class:`Fraction`.

What the page sees uses per-attempt random tokens, never the option ids of the file: with
"o1"/"o2" a learner could read the file order in the HTML (trainers often write the right
option first), and ordering/matching ids would give the solution away. A token is mapped
back to its option through the text shown next to it, which the parser keeps unique.
The normalised answers use the stable ids of the file ("o2", "p1", "i3").
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from fractions import Fraction
from typing import Any, ClassVar

from flask_babel import gettext as _

from lms.errors import ServiceError
from lms.yamlnodes import Field, Node, Reader
from quizzes.records import OptionSpec, QuestionSpec
from quizzes.textmatch import same_text

MAX_OPTIONS = 20
MAX_OPTION_CHARS = 1000
MAX_VARIANTS = 50
MAX_VARIANT_CHARS = 200
MAX_SHORT_RESPONSE_CHARS = 500


class InvalidResponse(ServiceError):
    """A submitted answer that the page could not have produced (tampering or a stale form)."""


class QuestionType:
    """Strategy for one ``type:`` of question; subclasses are registered per app in
    ``quizzes.question_types.QUESTION_TYPES``.

    Methods are class methods: a type has no state, the question spec carries the data.
    """

    name: ClassVar[str]
    label: ClassVar[str]  # Italian name for trainers' pages
    keys: ClassVar[tuple[str, ...]] = ()  # keys of the quiz block specific to this type

    @classmethod
    def parse(
        cls, reader: Reader, fields: dict[str, Field], owner: Node, context: str
    ) -> dict[str, Any] | None:
        """Read this type's keys; return :class:`QuestionSpec` fields, or ``None`` if wrong."""
        raise NotImplementedError

    @classmethod
    def present(
        cls, question: QuestionSpec, rng: random.Random, *, shuffle: bool = True
    ) -> dict[str, Any]:
        """What the learner's page may show (JSON-compatible, frozen with the attempt)."""
        return {
            "id": question.id,
            "type": question.type,
            "text": question.text,
            "points": question.points,
        }

    @classmethod
    def spec_ids(cls, question: QuestionSpec, presented: Mapping[str, Any]) -> dict[str, str]:
        """Page token -> stable id ("o2", "p1", "i3"), e.g. to show feedback on result pages.

        Raises ``ValueError`` if ``presented`` was not made from this question.
        """
        return {}

    @classmethod
    def parse_response(
        cls, question: QuestionSpec, presented: Mapping[str, Any], values: Any
    ) -> Any:
        """The normalised answer (JSON-compatible; ``None`` or empty when unanswered).

        Raises :class:`InvalidResponse` for anything the presented page could not send.
        """
        raise NotImplementedError

    @classmethod
    def score(cls, question: QuestionSpec, response: Any) -> Fraction:
        """Fraction of the question's points earned, between 0 and 1."""
        raise NotImplementedError

    @classmethod
    def correct_answer(cls, question: QuestionSpec) -> dict[str, Any]:
        """The solution, for result pages when the quiz allows showing it."""
        raise NotImplementedError


TYPE_HINTS = {
    "singola": "single",
    "scelta_singola": "single",
    "multipla": "multiple",
    "scelta_multipla": "multiple",
    "vero_falso": "true_false",
    "vero-falso": "true_false",
    "truefalse": "true_false",
    "abbinamento": "matching",
    "abbinamenti": "matching",
    "ordinamento": "ordering",
    "ordine": "ordering",
    "breve": "short",
    "risposta_breve": "short",
    "aperta": "short",
}


# -- helpers -------------------------------------------------------------------------------


def tokens(rng: random.Random, count: int) -> list[str]:
    """Distinct opaque ids for what the page shows; they carry no information."""
    found: list[str] = []
    while len(found) < count:
        token = f"{rng.getrandbits(32):08x}"
        if token not in found:
            found.append(token)
    return found


def not_solved(shown: list[Any], solution: list[Any]) -> list[Any]:
    """A shuffled list must not show the solution as is; rotate it if it does."""
    return shown[1:] + shown[:1] if len(shown) > 1 and shown == solution else shown


def strings(values: Any) -> list[str]:
    """Form values as a list of strings, or refuse their shape."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise InvalidResponse(_("la risposta non è nel formato previsto"))
    return list(values)


def unknown_choice() -> InvalidResponse:
    return InvalidResponse(_("la risposta contiene una scelta che non fa parte di questa domanda"))


def mismatch(question: QuestionSpec) -> ValueError:
    return ValueError(f"presented question does not match spec {question.id!r}")


# -- choice types --------------------------------------------------------------------------


class ChoiceType(QuestionType):
    """Options with ``correct: true`` on the right ones (``single`` and ``multiple``)."""

    keys = ("options",)

    @classmethod
    def parse(
        cls, reader: Reader, fields: dict[str, Field], owner: Node, context: str
    ) -> dict[str, Any] | None:
        node = reader.require(fields, "options", owner, context=context)
        if node is None:
            return None
        before = len(reader.issues)
        items = reader.sequence(
            node, key="options", context=context, min_items=2, max_items=MAX_OPTIONS
        )
        options: list[OptionSpec] = []
        for n, item in enumerate(items or (), 1):
            option = cls._option(reader, item, n, options, context)
            if option is not None:
                options.append(option)
        if len(reader.issues) > before:
            return None
        if not cls._check_correct(reader, fields["options"][0], options, context):
            return None
        return {"options": tuple(options)}

    @classmethod
    def _option(
        cls, reader: Reader, item: Node, n: int, previous: list[OptionSpec], context: str
    ) -> OptionSpec | None:
        where = _("%(context)s, opzione %(n)d", context=context, n=n)
        fields = reader.mapping(
            item, ("text", "correct", "feedback"), context=where, what=_("ogni opzione")
        )
        if fields is None:
            return None
        node = reader.require(fields, "text", item, context=where)
        text = node and reader.text(node, key="text", context=where, max_chars=MAX_OPTION_CHARS)
        correct: bool | None = False
        if "correct" in fields:
            correct = reader.boolean(fields["correct"][1], key="correct", context=where)
        feedback: str | None = ""
        if "feedback" in fields:
            feedback = reader.text(
                fields["feedback"][1],
                key="feedback",
                context=where,
                max_chars=MAX_OPTION_CHARS,
                required=False,
            )
        if not text or correct is None or feedback is None:
            return None
        twin = next((o for o in previous if same_text(o.text, text)), None)
        if twin:
            reader.report(
                node, _("testo uguale a quello dell'opzione %(n)s", n=twin.id[1:]), context=where
            )
            return None
        return OptionSpec(f"o{n}", text, correct, feedback)

    @classmethod
    def _check_correct(
        cls, reader: Reader, key: Node, options: list[OptionSpec], context: str
    ) -> bool:
        raise NotImplementedError

    @classmethod
    def present(
        cls, question: QuestionSpec, rng: random.Random, *, shuffle: bool = True
    ) -> dict[str, Any]:
        options = list(question.options)
        if shuffle:
            rng.shuffle(options)
        ids = tokens(rng, len(options))
        shown = [{"id": t, "text": o.text} for t, o in zip(ids, options, strict=True)]
        return {**super().present(question, rng), "options": shown}

    @classmethod
    def spec_ids(cls, question: QuestionSpec, presented: Mapping[str, Any]) -> dict[str, str]:
        by_text = {o.text: o.id for o in question.options}
        try:
            return {entry["id"]: by_text[entry["text"]] for entry in presented["options"]}
        except KeyError:
            raise mismatch(question) from None

    @classmethod
    def _chosen(
        cls, question: QuestionSpec, presented: Mapping[str, Any], values: Any
    ) -> list[str]:
        ids = cls.spec_ids(question, presented)
        chosen = strings(values)
        if any(token not in ids for token in chosen):
            raise unknown_choice()
        if len(set(chosen)) != len(chosen):
            raise InvalidResponse(_("la stessa risposta è stata scelta più di una volta"))
        return [ids[token] for token in chosen]

    @classmethod
    def correct_answer(cls, question: QuestionSpec) -> dict[str, Any]:
        right = [{"id": o.id, "text": o.text} for o in question.options if o.correct]
        return {"options": right}


class SingleChoice(ChoiceType):
    name = "single"
    label = "Scelta singola"

    @classmethod
    def _check_correct(
        cls, reader: Reader, key: Node, options: list[OptionSpec], context: str
    ) -> bool:
        count = sum(o.correct for o in options)
        if count == 1:
            return True
        reader.report(
            key,
            _(
                "una domanda 'single' deve avere esattamente una risposta corretta "
                "(trovate %(count)d)",
                count=count,
            )
            + ("" if count else _(": segna quella giusta con 'correct: true'")),
            context=context,
        )
        return False

    @classmethod
    def parse_response(
        cls, question: QuestionSpec, presented: Mapping[str, Any], values: Any
    ) -> str | None:
        chosen = cls._chosen(question, presented, values)
        if len(chosen) > 1:
            raise InvalidResponse(_("si può scegliere una sola risposta"))
        return chosen[0] if chosen else None

    @classmethod
    def score(cls, question: QuestionSpec, response: Any) -> Fraction:
        right = next(o.id for o in question.options if o.correct)
        return Fraction(1) if response == right else Fraction(0)


class MultipleChoice(ChoiceType):
    name = "multiple"
    label = "Scelta multipla"

    @classmethod
    def _check_correct(
        cls, reader: Reader, key: Node, options: list[OptionSpec], context: str
    ) -> bool:
        if any(o.correct for o in options):
            return True
        reader.report(
            key,
            _(
                "una domanda 'multiple' deve avere almeno una risposta corretta: "
                "segna quelle giuste con 'correct: true'"
            ),
            context=context,
        )
        return False

    @classmethod
    def parse_response(
        cls, question: QuestionSpec, presented: Mapping[str, Any], values: Any
    ) -> list[str]:
        chosen = set(cls._chosen(question, presented, values))
        return [o.id for o in question.options if o.id in chosen]

    @classmethod
    def score(cls, question: QuestionSpec, response: Any) -> Fraction:
        """(right chosen - wrong chosen) / right options, never below 0."""
        right = {o.id for o in question.options if o.correct}
        wrong = {o.id for o in question.options if not o.correct}
        chosen = set(response or ())
        earned = Fraction(len(chosen & right) - len(chosen & wrong), len(right))
        return max(Fraction(0), earned)


class TrueFalse(QuestionType):
    name = "true_false"
    label = "Vero o falso"
    keys = ("answer",)

    @classmethod
    def parse(
        cls, reader: Reader, fields: dict[str, Field], owner: Node, context: str
    ) -> dict[str, Any] | None:
        node = reader.require(fields, "answer", owner, context=context)
        answer = None if node is None else reader.boolean(node, key="answer", context=context)
        return None if answer is None else {"answer": answer}

    @classmethod
    def present(
        cls, question: QuestionSpec, rng: random.Random, *, shuffle: bool = True
    ) -> dict[str, Any]:
        # Always "Vero" then "Falso": shuffling them would only confuse.
        options = [{"id": "true", "text": _("Vero")}, {"id": "false", "text": _("Falso")}]
        return {**super().present(question, rng), "options": options}

    @classmethod
    def spec_ids(cls, question: QuestionSpec, presented: Mapping[str, Any]) -> dict[str, str]:
        return {"true": "true", "false": "false"}

    @classmethod
    def parse_response(
        cls, question: QuestionSpec, presented: Mapping[str, Any], values: Any
    ) -> bool | None:
        chosen = strings(values)
        if any(v not in ("true", "false") for v in chosen):
            raise unknown_choice()
        if len(chosen) > 1:
            raise InvalidResponse(_("si può scegliere una sola risposta"))
        return chosen[0] == "true" if chosen else None

    @classmethod
    def score(cls, question: QuestionSpec, response: Any) -> Fraction:
        return Fraction(1) if response is question.answer else Fraction(0)

    @classmethod
    def correct_answer(cls, question: QuestionSpec) -> dict[str, Any]:
        return {"answer": question.answer, "text": _("Vero") if question.answer else _("Falso")}

