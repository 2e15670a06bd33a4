"""A quiz block measured against the course's evidence profile when the course is imported.

The profile's rules on the final test (courses.evidence, docs/course-format.md "Profili di
evidenza") that a quiz file can break: the shape of its questions (ECM: single choice, 4
options, one right), its pass mark, attempts beyond the profile's limit without a bank
able to draw enough new questions, right answers shown before the course is complete.
Each refusal names the line, the numbers and what to change; the attempt rules themselves
are enforced when attempts start (:mod:`quizzes.rules`), this only refuses a file that
promises what they would not give.
"""

from __future__ import annotations

import math
from fractions import Fraction

from flask_babel import format_decimal
from flask_babel import gettext as _

from courses.api import BlockAssessment, EvidenceProfile
from lms.errors import FormatError, FormatIssue
from lms.yamlsafe import LocatedYaml, load_located
from quizzes.records import QuizSpec
from quizzes.rules import drawn_count, fresh_needed
from quizzes.spec import MAX_SOURCE_CHARS, parse_quiz_block


def assess_quiz_block(
    source: str, file: str, first_line: int, profile: EvidenceProfile
) -> BlockAssessment | None:
    """The fenced block's assessment; ``None`` if the block has errors of its own."""
    try:
        spec = parse_quiz_block(source, file=file, first_line=first_line)
    except FormatError:
        return None
    # The settings' lines (a setting left out: the block's first line).
    doc = load_located(source, file=file, first_line=first_line, max_chars=MAX_SOURCE_CHARS)[0]
    lines = doc or LocatedYaml(None, first_line=first_line)
    issues = [
        *_question_shapes(spec, profile, file),
        *_pass_mark(spec, profile, file, lines.line("pass_mark")),
        *_attempts(spec, profile, file, lines.line("attempts")),
        *_answers_shown(spec, profile, file, lines.line("show_answers")),
    ]
    return BlockAssessment(tuple(issues), drawn_count(spec))


def _question_shapes(spec: QuizSpec, profile: EvidenceProfile, file: str) -> list[FormatIssue]:
    """ECM: every question single choice with exactly ``options_per_question`` options."""
    wanted = profile.options_per_question
    if not wanted:
        return []
    issues = []
    for question in spec.questions:
        if question.type != "single":
            message = _(
                "domanda '%(id)s': il profilo di evidenza del corso ammette solo domande a "
                "scelta singola (type: single) con %(n)d opzioni e una sola giusta, non di "
                "tipo '%(type)s': riscrivila come scelta singola",
                id=question.id,
                n=wanted,
                type=question.type,
            )
        elif len(question.options) != wanted:
            message = _(
                "domanda '%(id)s': ha %(found)d opzioni, il profilo di evidenza del corso ne "
                "chiede esattamente %(n)d, una sola giusta: porta le opzioni a %(n)d",
                id=question.id,
                found=len(question.options),
                n=wanted,
            )
        else:
            continue
        issues.append(FormatIssue(file, question.line, message))
    return issues


def _pass_mark(spec: QuizSpec, profile: EvidenceProfile, file: str, line: int) -> list[FormatIssue]:
    if spec.pass_mark >= profile.min_pass_mark:
        return []
    message = _(
        "pass_mark: %(mark)s è sotto la soglia minima del profilo di evidenza del corso "
        "(%(min)s %%): indica almeno pass_mark: %(min)s",
        mark=format_decimal(spec.pass_mark),
        min=format_decimal(profile.min_pass_mark),
    )
    return [FormatIssue(file, line, message)]


def _attempts(spec: QuizSpec, profile: EvidenceProfile, file: str, line: int) -> list[FormatIssue]:
    """More attempts than the profile's limit need fresh draws the bank can give."""
    limit = profile.max_attempts
    if not limit or 0 < spec.attempts <= limit:
        return []
    asked = str(spec.attempts) if spec.attempts else _("0 (illimitati)")
    share = Fraction(str(profile.fresh_draw_share))
    if not share:
        message = _(
            "attempts: %(asked)s supera i %(max)d tentativi ammessi dal profilo di evidenza "
            "del corso: indica attempts: %(max)d o meno",
            asked=asked,
            max=limit,
        )
        return [FormatIssue(file, line, message)]
    drawn = drawn_count(spec)
    eligible = len(spec.eligible())
    needed = fresh_needed(spec, share)
    if eligible - drawn >= needed:
        return []
    largest = _largest_draw(eligible, share)
    if largest:
        advice = _(
            "indica attempts: %(max)d o meno, oppure estrai al massimo %(draw)d domande per "
            "tentativo (draw: %(draw)d)",
            max=limit,
            draw=largest,
        )
    else:
        advice = _(
            "indica attempts: %(max)d o meno, oppure aggiungi domande e usa 'draw'", max=limit
        )
    message = _(
        "attempts: %(asked)s supera i %(max)d tentativi con le stesse domande ammessi dal "
        "profilo di evidenza del corso: oltre, ogni tentativo deve proporre almeno "
        "%(needed)d domande nuove su %(drawn)d, ma delle %(eligible)d domande estraibili ne "
        "restano fuori da un tentativo %(left)d: %(advice)s",
        asked=asked,
        max=limit,
        needed=needed,
        drawn=drawn,
        eligible=eligible,
        left=eligible - drawn,
        advice=advice,
    )
    return [FormatIssue(file, line, message)]


def _largest_draw(eligible: int, share: Fraction) -> int:
    """The most questions an attempt may draw and still leave enough new ones (0: none)."""
    for draw in range(eligible - 1, 0, -1):
        if eligible - draw >= math.ceil(share * draw):
            return draw
    return 0


def _answers_shown(
    spec: QuizSpec, profile: EvidenceProfile, file: str, line: int
) -> list[FormatIssue]:
    if profile.reveal_answers != "after_course" or spec.show_answers != "after_each_attempt":
        return []
    message = _(
        "show_answers: after_each_attempt contraddice il profilo di evidenza del corso, che "
        "mostra le risposte giuste solo a corso completato: indica after_passing o never"
    )
    return [FormatIssue(file, line, message)]
