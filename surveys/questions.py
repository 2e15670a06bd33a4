"""The installation's questions: the default file, or the one named in the settings.

Read once per app in ``init_app`` through :mod:`lms.yamlsafe` (bounded), so that a
broken file stops the start with its file and line instead of a questionnaire
failing in front of a learner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_babel import gettext as _

from lms import yamlsafe
from lms.errors import FormatError, FormatIssue

DEFAULT_FILE = Path(__file__).with_name("default_questions.yaml")
MAX_CHARS = 64 * 1024
MAX_QUESTIONS = 30
MAX_TEXT = 500
KINDS = ("scale", "comment")
SCALE = (1, 2, 3, 4, 5)
KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")


@dataclass(frozen=True)
class Question:
    key: str
    kind: str  # "scale" (1-5) or "comment"
    texts: tuple[tuple[str, str], ...]  # (locale, text); the first is the fallback

    def text(self, locale: str) -> str:
        found = dict(self.texts)
        return found.get(locale) or self.texts[0][1]

    @property
    def is_scale(self) -> bool:
        return self.kind == "scale"


def load_questions(path: Path) -> tuple[Question, ...]:
    """The questions of ``path``; every problem as :class:`FormatError` with the file."""
    name = path.name
    text = path.read_text(encoding="utf-8")
    data = yamlsafe.load(text, file=name, max_chars=MAX_CHARS)
    items = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise FormatError([FormatIssue(name, None, _("Manca l'elenco 'questions'."))])
    if len(items) > MAX_QUESTIONS:
        raise FormatError(
            [FormatIssue(name, None, _("Al massimo %(n)d domande.", n=MAX_QUESTIONS))]
        )
    questions: list[Question] = []
    for number, item in enumerate(items, start=1):
        questions.append(_question(item, name, number, {q.key for q in questions}))
    return tuple(questions)


def _question(item: Any, name: str, number: int, seen: set[str]) -> Question:
    def refuse(message: str) -> FormatError:
        return FormatError(
            [FormatIssue(name, None, _("Domanda %(n)d: %(problem)s", n=number, problem=message))]
        )

    if not isinstance(item, dict):
        raise refuse(_("deve avere key, kind e text."))
    key, kind, text = item.get("key"), item.get("kind"), item.get("text")
    if not isinstance(key, str) or not KEY.fullmatch(key):
        raise refuse(_("la chiave deve essere di lettere minuscole, cifre e _."))
    if key in seen:
        raise refuse(_("la chiave '%(key)s' è ripetuta.", key=key))
    if kind not in KINDS:
        raise refuse(_("il tipo deve essere 'scale' o 'comment'."))
    texts = {"it": text} if isinstance(text, str) else text
    if (
        not isinstance(texts, dict)
        or not texts
        or not all(
            isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in texts.items()
        )
    ):
        raise refuse(_("il testo deve essere una frase o una frase per lingua."))
    if any(len(v) > MAX_TEXT for v in texts.values()):
        raise refuse(_("il testo supera %(n)d caratteri.", n=MAX_TEXT))
    return Question(key, kind, tuple((k, v.strip()) for k, v in texts.items()))


def init_questions(app: Flask) -> None:
    """Load the installation's questions into the app's state (once, at start)."""
    configured = app.config.get("LMS_SURVEY_QUESTIONS_FILE")
    path = Path(configured) if configured else DEFAULT_FILE
    app.extensions["surveys"] = load_questions(path)


def questions() -> tuple[Question, ...]:
    """The current app's questions."""
    return current_app.extensions["surveys"]  # type: ignore[no-any-return]
