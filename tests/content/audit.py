"""The editorial rules of the shipped courses (issue 15), checked on the files.

The importer already refuses what the platform cannot run (format, quiz rules of the
course's evidence profile). These are the rules of *this* curriculum on top: every module
names its sources, no contact that is not in the allow-list kept beside the content
(``content/contacts.yaml``: an invented phone number fails the build), no two questions
with the same text, one renewal rule, a practical last module for audience courses. The
figures (words, computed minutes, questions) are what the closing note and
``tools/check_content.py`` report.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from courses import packaging
from courses.format import lesson_of, parse_bundle, split_front_matter
from courses.rendering import render_markdown
from lms.errors import FormatError
from quizzes.spec import parse_quiz_block

CONTENT = Path(__file__).resolve().parents[2] / "content"
RENEWAL_MONTHS = 36  # one rule for every course that counts toward a commitment
QUIZ_FENCE = re.compile(r"^```quiz[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
FONTI = re.compile(r"^##\s+Fonti\s*$", re.M)
URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s)<>\]\"'»,;]+")
DOMAIN = re.compile(r"(?i)(?<![@\w.-])(?:[a-z0-9-]+\.)+(?:it|eu|org|com|net|int|gov|info)\b")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Six digits or more, in groups separated by spaces or dots: how phone numbers are written.
LONG_NUMBER = re.compile(r"(?<![\w/,-])(?:\+\d{2}[ .]?)?\d{2,4}(?:[ .]?\d{2,4}){1,3}(?![\w/,-])")
# A short number next to a word that announces a contact ("chiamare il 1522").
CALL_NUMBER = re.compile(
    r"(?i)\b(?:numer\w*|tel\w*|chiam\w*|contatt\w*|verde)\b[^.\n]{0,40}?(?<![\w./-])(\d{3,5})\b"
)
# National short numbers of public services, wherever they appear (not as an article).
SERVICE_NUMBER = re.compile(r"(?<![\w./-])(11[2-8]|15\d\d|800\d+)\b")
ARTICLE_BEFORE = re.compile(r"(?i)(?:\bart(?:t)?\.|\bn\.|\bcomma|\bco\.|\bl\.|/)\s*[\d\s,e-]*$")


@dataclass
class ModuleFigures:
    file: str
    title: str
    words: int
    minutes: int
    tables: int
    questions: int
    draw: int | None
    has_sources: bool


@dataclass
class CourseFigures:
    folder: str
    slug: str
    title: str
    audiences: list[str]
    evidence: object
    renewal_months: int | None
    public: bool
    modules: list[ModuleFigures] = field(default_factory=list)

    @property
    def words(self) -> int:
        return sum(m.words for m in self.modules)

    @property
    def minutes(self) -> int:
        return sum(m.minutes for m in self.modules)

    @property
    def questions(self) -> int:
        return sum(m.questions for m in self.modules)


@dataclass(frozen=True)
class Allowed:
    phones: frozenset[str]
    urls: frozenset[str]
    emails: frozenset[str]


def load_allowed(path: Path = CONTENT / "contacts.yaml") -> Allowed:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return Allowed(
        phones=frozenset(_digits(str(e["number"])) for e in data.get("phones") or []),
        urls=frozenset(_host(str(e["url"])) for e in data.get("urls") or []),
        emails=frozenset(str(e["email"]).lower() for e in data.get("emails") or []),
    )


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _host(url: str) -> str:
    host = re.sub(r"(?i)^https?://", "", url).split("/")[0].lower()
    return host.removeprefix("www.")


def contact_problems(text: str, allowed: Allowed) -> list[tuple[int, str]]:
    """(line, message) for every phone number, address or e-mail not in the allow-list."""
    problems: list[tuple[int, str]] = []

    def line_of(offset: int) -> int:
        return text.count("\n", 0, offset) + 1

    for match in EMAIL.finditer(text):
        if match.group(0).lower() not in allowed.emails:
            problems.append((line_of(match.start()), f"e-mail non ammessa: {match.group(0)}"))
    without_emails = EMAIL.sub(lambda m: " " * len(m.group(0)), text)
    for pattern in (URL, DOMAIN):
        for match in pattern.finditer(without_emails):
            if _host(match.group(0).rstrip(".")) not in allowed.urls:
                problems.append(
                    (line_of(match.start()), f"indirizzo web non ammesso: {match.group(0)}")
                )
    numbers: dict[int, str] = {}
    for match in LONG_NUMBER.finditer(text):
        if len(_digits(match.group(0))) >= 6:
            numbers[match.start()] = match.group(0)
    for pattern in (CALL_NUMBER, SERVICE_NUMBER):
        for match in pattern.finditer(text):
            start = match.start(1)
            if not ARTICLE_BEFORE.search(text[max(0, start - 12) : start]):
                numbers.setdefault(start, match.group(1))
    for start, number in sorted(numbers.items()):
        if _digits(number) not in allowed.phones:
            problems.append((line_of(start), f"numero non ammesso: {number.strip()}"))
    return sorted(set(problems))


def normalised(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def lesson_words(body: str) -> int:
    """Words of the lesson as rendered (the text the duration is measured on, tables too)."""
    html = render_markdown(lesson_of(body))
    return len(re.sub(r"<[^>]+>", " ", html).split())


def front_matter(folder: Path) -> dict:
    """The front matter of a folder's course.md ({} when it cannot be read)."""
    try:
        text = (folder / "course.md").read_text(encoding="utf-8")
        data = yaml.safe_load(split_front_matter(text, "course.md")[0])
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def course_figures(folder: Path, known_audiences: Iterable[str]) -> CourseFigures:
    """Parse one course folder (raises FormatError as the importer would)."""
    files = packaging.read_folder(folder)
    bundle = parse_bundle(files, known_audiences)
    front = front_matter(folder)
    figures = CourseFigures(
        folder=folder.name,
        slug=bundle.slug,
        title=bundle.title,
        audiences=["all"] if bundle.all_audiences else list(bundle.audiences),
        evidence=bundle.evidence,
        renewal_months=bundle.renewal_months,
        public=bool(front.get("public")),
    )
    for module in bundle.modules:
        quiz = QUIZ_FENCE.search(module.body)
        questions, draw = 0, None
        if quiz:
            first = module.body_first_line + module.body.count("\n", 0, quiz.start(1))
            spec = parse_quiz_block(quiz.group(1), file=module.filename, first_line=first)
            questions, draw = len(spec.questions), spec.draw
        figures.modules.append(
            ModuleFigures(
                file=module.filename,
                title=module.title,
                words=lesson_words(module.body),
                minutes=module.duration.minutes,
                tables=module.duration.tables,
                questions=questions,
                draw=draw,
                has_sources=bool(FONTI.search(lesson_of(module.body))),
            )
        )
    return figures


def question_texts(folder: Path) -> list[tuple[str, str]]:
    """(file:line, text) of every question of every quiz block in a course folder."""
    found: list[tuple[str, str]] = []
    for path in sorted(folder.glob("*.md")):
        body = path.read_text(encoding="utf-8")
        for quiz in QUIZ_FENCE.finditer(body):
            first = body.count("\n", 0, quiz.start(1)) + 1
            try:
                spec = parse_quiz_block(quiz.group(1), file=path.name, first_line=first)
            except FormatError:
                continue  # reported by the import
            found += [(f"{folder.name}/{path.name}:{q.line}", q.text) for q in spec.questions]
    return found


def audit(
    folders: list[Path], known_audiences: Iterable[str]
) -> tuple[list[str], list[CourseFigures]]:
    """Every editorial problem of the given course folders, and their figures."""
    allowed = load_allowed()
    problems: list[str] = []
    courses: list[CourseFigures] = []
    for folder in folders:
        for path in sorted(folder.glob("*.md")):
            text = path.read_text(encoding="utf-8")
            for line, message in contact_problems(text, allowed):
                problems.append(f"{folder.name}/{path.name}:{line}: {message}")
        try:
            figures = course_figures(folder, known_audiences)
        except FormatError as error:
            problems += [f"{folder.name}/{issue}" for issue in error.issues]
            continue
        courses.append(figures)
        problems += _course_problems(figures, folder)
    return problems, courses


def _course_problems(course: CourseFigures, folder: Path) -> list[str]:
    problems: list[str] = []
    where = f"{folder.name}/course.md"
    intro = (folder / "course.md").read_text(encoding="utf-8")
    if course.evidence is None:
        problems.append(f"{where}: manca evidence: (il profilo di evidenza va dichiarato)")
    awareness = course.evidence == "awareness"
    if not awareness:
        if course.renewal_months != RENEWAL_MONTHS:
            problems.append(f"{where}: renewal_months deve essere {RENEWAL_MONTHS}")
        if f"{RENEWAL_MONTHS} mesi" not in intro:
            problems.append(f"{where}: l'introduzione non dice la regola di rinnovo")
    for module in course.modules:
        if not module.has_sources:
            problems.append(f"{folder.name}/{module.file}: manca la sezione '## Fonti'")
        if not module.questions:
            problems.append(f"{folder.name}/{module.file}: il modulo non ha un quiz")
    if course.audiences != ["all"] and course.modules:
        last = course.modules[-1]
        if "cosa fare" not in last.title.casefold():
            problems.append(
                f"{folder.name}/{last.file}: l'ultimo modulo di un corso per un pubblico "
                "deve essere pratico («Cosa fare e chi chiamare»)"
            )
    return problems


def duplicate_questions(folders: list[Path]) -> list[str]:
    seen: dict[str, str] = {}
    problems: list[str] = []
    for folder in folders:
        for where, text in question_texts(folder):
            key = normalised(text)
            if key in seen:
                problems.append(f"{where}: stessa domanda di {seen[key]}")
            else:
                seen[key] = where
    return problems
