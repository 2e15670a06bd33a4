"""Question types whose answer is a structure or a text: matching, ordering, short."""

from __future__ import annotations

import random
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from flask_babel import gettext as _

from lms.yamlnodes import Field, Node, Reader
from quizzes.records import ItemSpec, PairSpec, QuestionSpec
from quizzes.textmatch import normalise_answer, same_text
from quizzes.types import (
    MAX_OPTION_CHARS,
    MAX_OPTIONS,
    MAX_SHORT_RESPONSE_CHARS,
    MAX_VARIANT_CHARS,
    MAX_VARIANTS,
    InvalidResponse,
    QuestionType,
    mismatch,
    not_solved,
    strings,
    tokens,
    unknown_choice,
)


class Matching(QuestionType):
    """Pairs ``left`` -> ``right``; several lefts may share a right, shown once."""

    name = "matching"
    label = "Abbinamento"
    keys = ("pairs",)

    @classmethod
    def parse(
        cls, reader: Reader, fields: dict[str, Field], owner: Node, context: str
    ) -> dict[str, Any] | None:
        node = reader.require(fields, "pairs", owner, context=context)
        if node is None:
            return None
        before = len(reader.issues)
        items = reader.sequence(
            node, key="pairs", context=context, min_items=2, max_items=MAX_OPTIONS
        )
        pairs: list[PairSpec] = []
        for n, item in enumerate(items or (), 1):
            where = _("%(context)s, coppia %(n)d", context=context, n=n)
            found = reader.mapping(item, ("left", "right"), context=where, what=_("ogni coppia"))
            if found is None:
                continue
            texts = []
            for key in ("left", "right"):
                value = reader.require(found, key, item, context=where)
                texts.append(
                    value and reader.text(value, key=key, context=where, max_chars=MAX_OPTION_CHARS)
                )
            left, right = texts
            if not left or not right:
                continue
            twin = next((p for p in pairs if same_text(p.left, left)), None)
            if twin:
                reader.report(
                    found["left"][1],
                    _("'left' uguale a quello della coppia %(n)s", n=twin.id[1:]),
                    context=where,
                )
                continue
            pairs.append(PairSpec(f"p{n}", left, right))
        if len(reader.issues) > before:
            return None
        if len(_rights(pairs)) < 2:
            reader.report(
                fields["pairs"][0],
                _("servono almeno due testi 'right' diversi, altrimenti non c'è nulla da abbinare"),
                context=context,
            )
            return None
        return {"pairs": tuple(pairs)}

    @classmethod
    def present(
        cls, question: QuestionSpec, rng: random.Random, *, shuffle: bool = True
    ) -> dict[str, Any]:
        pairs = list(question.pairs)
        if shuffle:
            rng.shuffle(pairs)
        rights = list(_rights(question.pairs).values())
        rng.shuffle(rights)
        rights = not_solved(rights, list(_rights(pairs).values()))
        ids = tokens(rng, len(pairs) + len(rights))  # one draw: left and right never collide
        return {
            **super().present(question, rng),
            "left": [{"id": t, "text": p.left} for t, p in zip(ids, pairs, strict=False)],
            "right": [{"id": t, "text": r} for t, r in zip(ids[len(pairs) :], rights, strict=True)],
        }

    @classmethod
    def spec_ids(cls, question: QuestionSpec, presented: Mapping[str, Any]) -> dict[str, str]:
        lefts, rights = cls._sides(question, presented)
        return {**lefts, **rights}

    @classmethod
    def _sides(
        cls, question: QuestionSpec, presented: Mapping[str, Any]
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Left tokens -> pair ids, right tokens -> id of the first pair with that right."""
        left_ids = {p.left: p.id for p in question.pairs}
        right_ids = {text: pair_id for pair_id, text in _rights(question.pairs).items()}
        try:
            lefts = {e["id"]: left_ids[e["text"]] for e in presented["left"]}
            rights = {e["id"]: right_ids[e["text"]] for e in presented["right"]}
        except KeyError:
            raise mismatch(question) from None
        return lefts, rights

    @classmethod
    def parse_response(
        cls, question: QuestionSpec, presented: Mapping[str, Any], values: Any
    ) -> dict[str, str]:
        """``{left token: right token}`` -> ``{left pair id: pair id of the chosen right}``."""
        if not isinstance(values, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in values.items()
        ):
            raise InvalidResponse(_("la risposta non è nel formato previsto"))
        lefts, rights = cls._sides(question, presented)
        response = {}
        for left, right in values.items():
            if left not in lefts or (right and right not in rights):
                raise unknown_choice()
            if right:
                response[lefts[left]] = rights[right]
        return response

    @classmethod
    def score(cls, question: QuestionSpec, response: Any) -> Fraction:
        """Right pairs / pairs."""
        chosen = response if isinstance(response, Mapping) else {}
        canonical = _canonical(question.pairs)
        right = sum(1 for p in question.pairs if chosen.get(p.id) == canonical[p.id])
        return Fraction(right, len(question.pairs))

    @classmethod
    def correct_answer(cls, question: QuestionSpec) -> dict[str, Any]:
        return {"pairs": [{"left": p.left, "right": p.right} for p in question.pairs]}


def _rights(pairs: list[PairSpec] | tuple[PairSpec, ...]) -> dict[str, str]:
    """Distinct right texts, keyed by the id of the first pair that has each."""
    found: dict[str, str] = {}
    for pair in pairs:
        if not any(same_text(pair.right, text) for text in found.values()):
            found[pair.id] = pair.right
    return found


def _canonical(pairs: tuple[PairSpec, ...]) -> dict[str, str]:
    """Pair id -> id of the right text it expects, as :func:`_rights` keys them."""
    rights = _rights(pairs)
    return {
        p.id: next(pid for pid, text in rights.items() if same_text(text, p.right)) for p in pairs
    }


class Ordering(QuestionType):
    """Items written in the right order, shown shuffled; all or nothing."""

    name = "ordering"
    label = "Ordinamento"
    keys = ("items",)

    @classmethod
    def parse(
        cls, reader: Reader, fields: dict[str, Field], owner: Node, context: str
    ) -> dict[str, Any] | None:
        node = reader.require(fields, "items", owner, context=context)
        if node is None:
            return None
        nodes = reader.sequence(
            node, key="items", context=context, min_items=2, max_items=MAX_OPTIONS
        )
        if nodes is None:
            return None
        items: list[ItemSpec] = []
        ok = True
        for n, item in enumerate(nodes, 1):
            where = _("%(context)s, elemento %(n)d", context=context, n=n)
            text = reader.text(item, key="items", context=where, max_chars=MAX_OPTION_CHARS)
            twin = text and next((i for i in items if same_text(i.text, text)), None)
            if twin:
                reader.report(
                    item,
                    _("testo uguale a quello dell'elemento %(n)s", n=twin.id[1:]),
                    context=where,
                )
            if not text or twin:
                ok = False
                continue
            items.append(ItemSpec(f"i{n}", text))
        return {"items": tuple(items)} if ok else None

    @classmethod
    def present(
        cls, question: QuestionSpec, rng: random.Random, *, shuffle: bool = True
    ) -> dict[str, Any]:
        items = list(question.items)
        rng.shuffle(items)  # always: showing them in order would give the answer away
        items = not_solved(items, list(question.items))
        shown = [
            {"id": t, "text": i.text} for t, i in zip(tokens(rng, len(items)), items, strict=True)
        ]
        return {**super().present(question, rng), "items": shown}

    @classmethod
    def spec_ids(cls, question: QuestionSpec, presented: Mapping[str, Any]) -> dict[str, str]:
        by_text = {i.text: i.id for i in question.items}
        try:
            return {e["id"]: by_text[e["text"]] for e in presented["items"]}
        except KeyError:
            raise mismatch(question) from None

    @classmethod
    def parse_response(
        cls, question: QuestionSpec, presented: Mapping[str, Any], values: Any
    ) -> list[str] | None:
        """Tokens in the learner's order, or ``{token: position}`` from position selects."""
        ids = cls.spec_ids(question, presented)
        if isinstance(values, Mapping):
            values = _from_positions(values, len(ids))
        order = strings(values)
        if not order:
            return None
        if any(token not in ids for token in order):
            raise unknown_choice()
        if len(order) != len(ids) or len(set(order)) != len(order):
            raise InvalidResponse(_("l'ordine deve comprendere ogni elemento una volta sola"))
        return [ids[token] for token in order]

    @classmethod
    def score(cls, question: QuestionSpec, response: Any) -> Fraction:
        right = [i.id for i in question.items]
        return Fraction(1) if list(response or ()) == right else Fraction(0)

    @classmethod
    def correct_answer(cls, question: QuestionSpec) -> dict[str, Any]:
        return {"items": [i.text for i in question.items]}


def _from_positions(values: Mapping[Any, Any], count: int) -> list[str]:
    """``{token: "2", ...}`` -> tokens sorted by position; every position 1..count once."""
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in values.items()):
        raise InvalidResponse(_("la risposta non è nel formato previsto"))
    filled = {k: v.strip() for k, v in values.items() if v.strip()}
    if not filled:
        return []
    expected = {str(n) for n in range(1, count + 1)}
    if len(filled) != count or set(filled.values()) != expected:
        raise InvalidResponse(
            _("indica una posizione diversa, da 1 a %(count)d, per ogni elemento", count=count)
        )
    return sorted(filled, key=lambda token: int(filled[token]))


class ShortAnswer(QuestionType):
    """A typed answer compared with the accepted variants, as a person would compare."""

    name = "short"
    label = "Risposta breve"
    keys = ("answers",)

    @classmethod
    def parse(
        cls, reader: Reader, fields: dict[str, Field], owner: Node, context: str
    ) -> dict[str, Any] | None:
        node = reader.require(fields, "answers", owner, context=context)
        if node is None:
            return None
        nodes = reader.sequence(
            node, key="answers", context=context, min_items=1, max_items=MAX_VARIANTS
        )
        if nodes is None:
            return None
        answers: list[str] = []
        for n, item in enumerate(nodes, 1):
            where = _("%(context)s, risposta %(n)d", context=context, n=n)
            text = reader.text(item, key="answers", context=where, max_chars=MAX_VARIANT_CHARS)
            if text is not None and not normalise_answer(text):
                reader.report(
                    item,
                    _("la risposta '%(text)s' non contiene lettere né cifre", text=text),
                    context=where,
                )
                text = None
            answers.append(text or "")
        return {"answers": tuple(answers)} if all(answers) else None

    @classmethod
    def parse_response(
        cls, question: QuestionSpec, presented: Mapping[str, Any], values: Any
    ) -> str | None:
        texts = strings(values)
        if len(texts) > 1:
            raise InvalidResponse(_("la risposta non è nel formato previsto"))
        text = " ".join(texts[0].split()) if texts else ""
        if len(text) > MAX_SHORT_RESPONSE_CHARS:
            raise InvalidResponse(
                _(
                    "la risposta è troppo lunga (massimo %(max)d caratteri)",
                    max=MAX_SHORT_RESPONSE_CHARS,
                )
            )
        return text or None

    @classmethod
    def score(cls, question: QuestionSpec, response: Any) -> Fraction:
        if not isinstance(response, str) or not normalise_answer(response):
            return Fraction(0)
        accepted = {normalise_answer(a) for a in question.answers}
        return Fraction(1) if normalise_answer(response) in accepted else Fraction(0)

    @classmethod
    def correct_answer(cls, question: QuestionSpec) -> dict[str, Any]:
        return {"answers": list(question.answers)}
