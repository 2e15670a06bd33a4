"""What a course's evidence profile asks of quiz attempts, combined with the quiz's own settings.

Pure functions on plain values: ``quizzes.attempts`` reads the attempts and the tracked
time, these decide (and say why not, in Italian). The profile can only make a quiz
stricter (fewer attempts with the same questions, random order, answers shown later); a
quiz that asks for fewer attempts or shows less keeps its own settings.
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection
from dataclasses import dataclass
from fractions import Fraction

from flask_babel import gettext as _
from flask_babel import ngettext

from courses.api import EvidenceProfile
from quizzes.records import QuestionSpec, QuizSpec


@dataclass(frozen=True)
class AttemptRules:
    """The rules for one quiz in one course version."""

    #: Attempts allowed with the same questions (the stricter of the profile's and the
    #: quiz's limits); 0 = unlimited.
    same_questions: int
    #: The quiz's own limit on every attempt; 0 = unlimited.
    quiz_attempts: int
    #: Beyond ``same_questions``: the share of each attempt's questions that must be new
    #: (not in the previous attempt); 0 = no attempts beyond the limit.
    fresh_share: Fraction
    #: Questions and options in random order whatever the quiz says.
    shuffle: bool
    #: Right answers, feedback and per-question verdicts only once the course is complete.
    reveal_after_course: bool
    #: Tracked seconds on the module before an attempt.
    minimum_seconds: int
    #: Tracked seconds on the module again after a failed attempt.
    reread_seconds: int

    @property
    def fresh_percent(self) -> int:
        """The fresh-draw share in whole percent, for pages."""
        return math.ceil(self.fresh_share * 100)


def stricter(first: int, second: int) -> int:
    """The stricter of two limits where 0 means unlimited."""
    if not first or not second:
        return first or second
    return min(first, second)


def rules_for(profile: EvidenceProfile, spec: QuizSpec, computed_minutes: int) -> AttemptRules:
    return AttemptRules(
        same_questions=stricter(profile.max_attempts, spec.attempts),
        quiz_attempts=spec.attempts,
        fresh_share=Fraction(str(profile.fresh_draw_share)),
        shuffle=profile.shuffle,
        reveal_after_course=profile.reveal_answers == "after_course",
        minimum_seconds=profile.minimum_seconds(computed_minutes),
        reread_seconds=profile.reread_seconds(computed_minutes),
    )


def drawn_count(spec: QuizSpec) -> int:
    """How many questions an attempt shows."""
    eligible = len(spec.eligible())
    return eligible if spec.draw is None else min(spec.draw, eligible)


def fresh_needed(spec: QuizSpec, share: Fraction) -> int:
    """New questions each attempt beyond the limit must hold: ``ceil(share × drawn)``."""
    return math.ceil(share * drawn_count(spec))


def may_go_beyond(rules: AttemptRules, spec: QuizSpec) -> bool:
    """Whether attempts beyond ``same_questions`` can ever be offered for this quiz.

    The quiz must ask for more attempts than the limit, the profile must allow fresh
    draws, and the bank must hold enough questions besides one attempt's draw.
    """
    if not rules.same_questions or not rules.fresh_share:
        return False
    if rules.quiz_attempts and rules.quiz_attempts <= rules.same_questions:
        return False
    needed = fresh_needed(spec, rules.fresh_share)
    return needed > 0 and len(spec.eligible()) - drawn_count(spec) >= needed


def can_draw_fresh(spec: QuizSpec, previous: Collection[str], share: Fraction) -> bool:
    """Whether the eligible questions hold ``ceil(share × drawn)`` not in ``previous``."""
    needed = fresh_needed(spec, share)
    return needed > 0 and sum(q.id not in previous for q in spec.eligible()) >= needed


def fresh_draw(
    spec: QuizSpec, previous: Collection[str], share: Fraction, rng: random.Random
) -> list[QuestionSpec]:
    """An attempt's questions with at least ``ceil(share × drawn)`` not in ``previous``.

    Call it only when :func:`can_draw_fresh`. The rest of the draw is random among the
    other eligible questions (``draw_tags``); file order, as
    :func:`quizzes.scoring.draw_questions` returns.
    """
    eligible = list(spec.eligible())
    needed = fresh_needed(spec, share)
    new = [q for q in eligible if q.id not in previous]
    if needed <= 0 or len(new) < needed:
        raise ValueError("the bank cannot give a fresh draw")
    chosen = {q.id for q in rng.sample(new, needed)}
    others = [q for q in eligible if q.id not in chosen]
    chosen.update(q.id for q in rng.sample(others, drawn_count(spec) - needed))
    return [q for q in eligible if q.id in chosen]


def refusal(
    rules: AttemptRules,
    spec: QuizSpec,
    left: int | None,
    beyond: bool,
    failed_at: int | None,
    studied: int,
    fresh_from: frozenset[str] | None,
) -> tuple[str | None, bool]:
    """Why a new attempt may not start (the limit, then study time), and whether the
    reason is study time; ``(None, False)`` if it may.

    ``left``: attempts left (None: unlimited); ``beyond``: :func:`may_go_beyond`;
    ``failed_at``: the tracked time recorded with the last attempt if it failed;
    ``studied``: the tracked time now; ``fresh_from``: the previous attempt's questions
    when the next one must be a fresh draw.
    """
    no_fresh_draw = fresh_from is not None and not can_draw_fresh(
        spec, fresh_from, rules.fresh_share
    )
    if left == 0 or no_fresh_draw:
        # The profile's limit stopped a quiz that asks for more: say why.
        profile_limit = not beyond and rules.same_questions != spec.attempts
        if no_fresh_draw or (profile_limit and rules.fresh_share):
            message = ngettext(
                "Hai esaurito l'unico tentativo con le stesse domande e il quiz non ha "
                "abbastanza domande per un tentativo con domande nuove. Chiedi a chi fa da "
                "referente della tua organizzazione di riaprire il quiz.",
                "Hai esaurito i %(num)d tentativi con le stesse domande e il quiz non ha "
                "abbastanza domande per un tentativo con domande nuove. Chiedi a chi fa da "
                "referente della tua organizzazione di riaprire il quiz.",
                rules.same_questions,
            )
        else:
            message = _(
                "Hai esaurito i tentativi disponibili. Chiedi a chi fa da referente della tua "
                "organizzazione di riaprire il quiz."
            )
        return message, False
    if studied < rules.minimum_seconds:
        return (
            ngettext(
                "Prima del quiz serve ancora %(num)d minuto di studio del modulo.",
                "Prima del quiz servono ancora %(num)d minuti di studio del modulo.",
                minutes_left(rules.minimum_seconds - studied),
            ),
            True,
        )
    if failed_at is not None and rules.reread_seconds:
        missing = failed_at + rules.reread_seconds - studied
        if missing > 0:
            return (
                ngettext(
                    "Prima di un nuovo tentativo ripassa il contenuto del modulo: serve "
                    "ancora %(num)d minuto di studio.",
                    "Prima di un nuovo tentativo ripassa il contenuto del modulo: servono "
                    "ancora %(num)d minuti di studio.",
                    minutes_left(missing),
                ),
                True,
            )
    return None, False


def minutes_left(seconds: int) -> int:
    """Whole minutes, rounded up, at least 1: "servono ancora N minuti"."""
    return max(1, math.ceil(seconds / 60))
