"""Evidence profiles: the rules a course's completion must satisfy to prove learning.

The reference is what Italian accrediting bodies apply to e-learning (FAD). The ECM rules
(Agenas, Manuale nazionale di accreditamento, par. 4.10, and the Commissione nazionale's
2021 decision): a final test of at least 3 questions per credit, 4 options with exactly
one right answer, passed at 75 % or more; questions and options in random order; at most
5 attempts unless every attempt draws at least 33 % new questions; a new attempt only
after going through the content again; right answers revealed only at the end of the
course; time on the content tracked; an anonymous satisfaction questionnaire. Lawyers'
(CNF) and social workers' (CNOAS) bodies ask that attendance of distance courses be
verified, hence ``professional``: tracked time and a final test with limited attempts.

A course names a profile in ``course.md`` (``evidence: ecm_fad``) or adjusts one
(``evidence: {base: professional, min_time_share: 0.5}``); a course that says nothing
gets the installation's ``LMS_EVIDENCE_PROFILE``. The declared value is stored with the
version and resolved when used: built-in profiles are constants of this module.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask_babel import gettext as _

if TYPE_CHECKING:
    from courses.models import CourseVersion, Module

REVEAL_CHOICES = ("after_course", "quiz")  # "quiz": as the quiz's show_answers says
LEGACY = "legacy"  # what completions made before evidence profiles are marked with


@dataclass(frozen=True)
class EvidenceProfile:
    """The rules; each field documented in docs/course-format.md ("Profili di evidenza")."""

    name: str
    #: Share of a module's computed duration that must be spent on it (tracked time)
    #: before its quiz opens or it can be marked complete.
    min_time_share: float = 1.0
    #: Share of that minimum to be spent on the module again before a new attempt.
    reread_share: float = 0.0
    #: Attempts allowed with the same questions; 0 = unlimited.
    max_attempts: int = 0
    #: Beyond ``max_attempts``, further attempts only if each draws at least this share
    #: of questions not in the previous attempt (0: no attempts beyond the limit).
    fresh_draw_share: float = 0.0
    #: Questions and options in random order, whatever the quiz says.
    shuffle: bool = False
    #: When the right answers may be shown: at the end of the course, or as the quiz says.
    reveal_answers: str = "quiz"
    #: The satisfaction questionnaire is required before completion (and certificate).
    survey_required: bool = False
    #: Certificates print the course's hours (and credits).
    certificate_hours: bool = True
    #: The course must hold at least one quiz (the final test).
    requires_test: bool = False
    #: Only single-choice questions with this many options, exactly one right (0: any).
    options_per_question: int = 0
    #: Questions per attempt, per credit of the course's accreditation (0: no rule).
    questions_per_credit: int = 0
    #: The lowest pass mark a quiz may set, in percent (0: no rule).
    min_pass_mark: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def minimum_seconds(self, computed_minutes: int) -> int:
        """The tracked time a module of ``computed_minutes`` needs before completion."""
        return math.ceil(computed_minutes * 60 * self.min_time_share)

    def reread_seconds(self, computed_minutes: int) -> int:
        """The tracked time needed on the module again before a new attempt."""
        return math.ceil(self.minimum_seconds(computed_minutes) * self.reread_share)


BUILT_IN: dict[str, EvidenceProfile] = {
    "ecm_fad": EvidenceProfile(
        name="ecm_fad",
        min_time_share=1.0,
        reread_share=1.0,
        max_attempts=5,
        fresh_draw_share=0.33,
        shuffle=True,
        reveal_answers="after_course",
        survey_required=True,
        certificate_hours=True,
        requires_test=True,
        options_per_question=4,
        questions_per_credit=3,
        min_pass_mark=75.0,
    ),
    "professional": EvidenceProfile(
        name="professional",
        min_time_share=1.0,
        reread_share=0.5,
        max_attempts=5,
        fresh_draw_share=0.33,
        shuffle=True,
        reveal_answers="after_course",
        survey_required=True,
        certificate_hours=True,
        requires_test=True,
    ),
    "awareness": EvidenceProfile(
        name="awareness",
        min_time_share=0.5,
        reread_share=0.0,
        max_attempts=0,
        shuffle=False,
        reveal_answers="quiz",
        survey_required=False,
        certificate_hours=False,
    ),
}
DEFAULT_PROFILE = "professional"
_SHARES = ("min_time_share", "reread_share", "fresh_draw_share")
_COUNTS = {"max_attempts": 100, "options_per_question": 10, "questions_per_credit": 20}
_FLAGS = ("shuffle", "survey_required", "certificate_hours", "requires_test")
ADJUSTABLE = tuple(f.name for f in fields(EvidenceProfile) if f.name != "name")


class ProfileError(ValueError):
    """A declared profile that cannot be used; ``key``: the key at fault, if one."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.key = key


def resolve(declared: object) -> EvidenceProfile:
    """The profile a declaration names: a built-in name, or ``{base: name, field: value}``.

    Raises :class:`ProfileError` with an Italian message (and the key at fault).
    """
    if isinstance(declared, str):
        if declared not in BUILT_IN:
            raise ProfileError(
                _(
                    "profilo di evidenza sconosciuto '%(name)s' (profili: %(known)s)",
                    name=declared,
                    known=", ".join(BUILT_IN),
                )
            )
        return BUILT_IN[declared]
    if not isinstance(declared, dict):
        raise ProfileError(
            _("'evidence' deve essere il nome di un profilo o un elenco di regole con 'base'")
        )
    base_name = declared.get("base")
    if not isinstance(base_name, str) or base_name not in BUILT_IN:
        raise ProfileError(
            _("'base' deve nominare un profilo (%(known)s)", known=", ".join(BUILT_IN)), "base"
        )
    changes: dict[str, Any] = {}
    for key, value in declared.items():
        if key == "base":
            continue
        changes[key] = _rule(key, value)
    return replace(BUILT_IN[base_name], name=f"{base_name}+", **changes)


def _rule(key: object, value: object) -> Any:
    if key in _SHARES:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ProfileError(_("'%(key)s' deve essere un numero da 0 a 1", key=key), str(key))
        return float(value)
    if key in _COUNTS:
        top = _COUNTS[str(key)]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
            raise ProfileError(
                _("'%(key)s' deve essere un numero intero da 0 a %(top)d", key=key, top=top),
                str(key),
            )
        return value
    if key in _FLAGS:
        if not isinstance(value, bool):
            raise ProfileError(_("'%(key)s' deve essere true o false", key=key), str(key))
        return value
    if key == "min_pass_mark":
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
            raise ProfileError(
                _("'min_pass_mark' deve essere un numero da 0 a 100"), "min_pass_mark"
            )
        return float(value)
    if key == "reveal_answers":
        if value not in REVEAL_CHOICES:
            raise ProfileError(
                _(
                    "'reveal_answers' ammette: %(choices)s",
                    choices=", ".join(REVEAL_CHOICES),
                ),
                "reveal_answers",
            )
        return value
    raise ProfileError(
        _(
            "regola sconosciuta '%(key)s' (regole: base, %(known)s)",
            key=key,
            known=", ".join(ADJUSTABLE),
        ),
        str(key),
    )


def installation_profile() -> EvidenceProfile:
    """The profile of courses that declare none (``LMS_EVIDENCE_PROFILE``)."""
    return resolve(current_app.config.get("LMS_EVIDENCE_PROFILE", DEFAULT_PROFILE))


def evidence_of(version: CourseVersion) -> EvidenceProfile:
    """The rules a version's learners follow: declared, or the installation's."""
    if version.evidence is None:
        return installation_profile()
    return resolve(version.evidence)


def minimum_study_seconds(version: CourseVersion, module: Module) -> int:
    """Tracked seconds the module needs before its quiz opens or it completes."""
    return evidence_of(version).minimum_seconds(module.computed_minutes)


def check_setting(value: object) -> None:
    """Refuse a wrong ``LMS_EVIDENCE_PROFILE`` when the app starts, not on a learner's page."""
    try:
        resolve(value)
    except ProfileError as error:
        raise RuntimeError(f"LMS_EVIDENCE_PROFILE: {error.message}") from error
