"""Reading a course folder (or zip) into a validated :class:`CourseBundle`.

The format is documented in ``docs/course-format.md``. Every problem found is
reported with file and line; nothing here touches the database.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from fractions import Fraction

from flask import current_app
from flask_babel import format_decimal
from flask_babel import gettext as _

from courses.accreditation import Accreditation, parse_accreditation
from courses.durations import Duration, max_minutes, measure_html
from courses.evidence import EvidenceProfile, ProfileError, installation_profile, resolve
from courses.extensions import FENCED_BLOCKS, FencedBlock
from lms import markdown_limits
from lms.errors import FormatError, FormatIssue
from lms.plugins import Registry, registry
from lms.rendering import render_markdown
from lms.text import TextError, single_line
from lms.yamlsafe import LocatedYaml, load_located

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,78}[a-z0-9])$")
MODULE_FILE_RE = re.compile(r"^(\d{1,3})-([a-z0-9][a-z0-9-]*[a-z0-9])\.md$")
FENCE_RE = re.compile(r"^(```|~~~)\s*([A-Za-z][\w-]*)\s*$")
# Local files a lesson points to. Each pattern is linear in the line (docs/limits.md,
# "Markdown"): an attempt stops where the next one starts (link text and target at the next
# "[" that does not open an image, a tag at the next "<"), so no two attempts scan the same
# characters; with "[^\]]*" a run of "[" or of "[x](" made every attempt scan the rest of
# the line.
_TARGET = r"\(\s*<?([^)\s>\[]+)>?(?:\s+\"[^\"]*\")?\s*\)"
IMAGE_RE = re.compile(r"!\[[^\[\]]*\]" + _TARGET)
HTML_SRC_RE = re.compile(r"""<(?:img|a)\b[^<>]*?\b(?:src|href)\s*=\s*["']([^"']+)["']""", re.I)
LINK_RE = re.compile(r"(?<!!)\[(?:[^\[\]]|(?<=!)\[)*\]" + _TARGET)

MAX_MARKDOWN_BYTES = 2 * 1024 * 1024
MAX_ASSET_BYTES = 5 * 1024 * 1024
MAX_TOTAL_BYTES = 50 * 1024 * 1024
MAX_FILES = 300
ASSET_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".pdf": "application/pdf",
}
COURSE_KEYS = {
    "slug",
    "title",
    "summary",
    "audiences",
    "estimated_hours",
    "objectives",
    "prerequisites",
    "language",
    "version",
    "renewal_months",
    "self_enrolment",
    "evidence",
    "accreditation",
    "public",
}
MODULE_KEYS = {"title", "estimated_minutes", "required", "slug"}


@dataclass
class ModuleSource:
    slug: str
    position: int
    title: str
    estimated_minutes: int | None  # declared; at most the computed duration + 50 %
    required: bool
    body: str  # Markdown as written, plugins' fenced blocks included
    filename: str
    body_first_line: int
    completed_by_block: bool = False  # holds a block that decides its completion
    estimated_minutes_line: int | None = None
    duration: Duration = Duration(0, 0, 0)  # computed from the lesson (courses.durations)


@dataclass
class CourseBundle:
    slug: str
    title: str
    summary: str
    audiences: list[str]
    all_audiences: bool
    estimated_hours: Decimal | None  # declared; at most the modules' computed total + 50 %
    objectives: list[str]
    prerequisites: list[str]
    language: str
    version_label: str
    renewal_months: int | None
    self_enrolment: bool
    intro: str
    intro_first_line: int = 1
    estimated_hours_line: int | None = None
    # As declared (a profile's name or adjusted rules); None: the installation's profile.
    evidence: object = None
    evidence_line: int | None = None
    accreditation: Accreditation | None = None
    accreditation_line: int | None = None  # of its credits, for the questions-per-credit rule
    # Readable by anyone, without an account and without tracking (courses.public).
    public: bool = False
    modules: list[ModuleSource] = field(default_factory=list)
    assets: dict[str, bytes] = field(default_factory=dict)


def split_front_matter(text: str, file: str) -> tuple[str, str, int, list[FormatIssue]]:
    """Return (yaml, body, first body line); the file must open with a ``---`` line."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return (
            "",
            text,
            1,
            [FormatIssue(file, 1, _("manca l'intestazione YAML tra due righe '---'"))],
        )
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), index + 2, []
    return (
        "",
        "",
        1,
        [FormatIssue(file, 1, _("l'intestazione YAML non è chiusa da una riga '---'"))],
    )


def fenced_blocks() -> Registry[FencedBlock]:
    """The fenced blocks the current app's plugins registered."""
    return registry(FENCED_BLOCKS)


def split_block(body: str, name: str) -> tuple[str, str | None, int]:
    """Separate the lesson from its first ``name`` block: (lesson, block source, first line).

    Lines are relative to ``body`` (1-based); the lesson keeps everything else. An
    unclosed block runs to the end of the body.
    """
    lines = body.splitlines(keepends=True)
    for start, line in enumerate(lines):
        match = FENCE_RE.match(line.rstrip("\n"))
        if not match or match.group(2) != name:
            continue
        fence = match.group(1)
        for end in range(start + 1, len(lines)):
            if lines[end].strip() == fence:
                lesson = "".join(lines[:start] + lines[end + 1 :])
                return lesson, "".join(lines[start + 1 : end]), start + 2
        return "".join(lines[:start]), "".join(lines[start + 1 :]), start + 2
    return body, None, 0


@dataclass(frozen=True)
class Cut:
    """A block cut out of a body: its source and where it was (lines of the body)."""

    name: str
    source: str
    line: int  # the block's first line of content, 1-based
    removed: int  # lines removed from the body, fences included


def split_blocks(body: str, names: Iterable[str]) -> tuple[str, list[Cut]]:
    """The lesson without the first block of each name, and the blocks cut, in order."""
    lesson, cuts = body, []
    for name in names:
        rest, source, line = split_block(lesson, name)
        if source is None:
            continue
        removed = lesson.count("\n") - rest.count("\n")
        cuts.append(Cut(name, source, _body_line(line, cuts), removed))
        lesson = rest
    return lesson, cuts


def _body_line(line: int, cuts: list[Cut]) -> int:
    """A line of a lesson with ``cuts`` removed, as a line of the original body."""
    for cut in sorted(cuts, key=lambda c: c.line):
        if line >= cut.line - 1:
            line += cut.removed
    return line


def lesson_of(body: str) -> str:
    """What gets rendered of a module: the body without the plugins' blocks.

    Blocks declared by an installed plugin that this app does not load are cut too: the
    block is not the lesson, and its content may be secret (a quiz's answers).
    """
    registered = fenced_blocks().keys()
    hidden = sorted(current_app.extensions["lms"].hidden_blocks - set(registered))
    return split_blocks(body, [*registered, *hidden])[0]


def lesson_duration(body: str) -> Duration:
    """The ECM duration of a module's body, measured on the lesson as rendered."""
    return measure_html(render_markdown(lesson_of(body)))


def _decode(data: bytes, file: str, issues: list[FormatIssue]) -> str | None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        issues.append(FormatIssue(file, line, _("il file non è in UTF-8")))
        return None
    return text.replace("\r\n", "\n")


def _check_keys(doc: LocatedYaml, allowed: set[str], file: str, issues: list[FormatIssue]) -> None:
    for key in doc.data:
        if key not in allowed:
            issues.append(
                FormatIssue(file, doc.line(key), _("chiave sconosciuta: %(key)s", key=key))
            )


def _required_text(
    doc: LocatedYaml,
    key: str,
    file: str,
    issues: list[FormatIssue],
    max_len: int,
    *,
    one_line: bool = False,
) -> str:
    value = doc.data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        issues.append(FormatIssue(file, doc.line(key), _("manca '%(key)s'", key=key)))
        return ""
    if not isinstance(value, str | int | float):
        issues.append(
            FormatIssue(file, doc.line(key), _("'%(key)s' deve essere un testo", key=key))
        )
        return ""
    value = str(value).strip()
    if one_line:  # titles: no line breaks or control characters (lms.text)
        try:
            value = single_line(value, what=f"'{key}'")
        except TextError as error:
            issues.append(FormatIssue(file, doc.line(key), str(error)))
    if len(value) > max_len:
        issues.append(
            FormatIssue(
                file, doc.line(key), _("'%(key)s' supera %(n)d caratteri", key=key, n=max_len)
            )
        )
    return value


def _string_list(doc: LocatedYaml, key: str, file: str, issues: list[FormatIssue]) -> list[str]:
    value = doc.data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        issues.append(
            FormatIssue(file, doc.line(key), _("'%(key)s' deve essere un elenco di testi", key=key))
        )
        return []
    for index, item in enumerate(value):
        if not isinstance(item, str | int | float):
            issues.append(
                FormatIssue(
                    file,
                    doc.line(key, index),
                    _(
                        "'%(key)s': questa voce non è un testo semplice; se contiene ': ' "
                        "scrivila tra virgolette",
                        key=key,
                    ),
                )
            )
    return [str(v).strip() for v in value if isinstance(v, str | int | float)]


def parse_bundle(files: dict[str, bytes], known_audiences: Iterable[str]) -> CourseBundle:
    """Validate the files of one course; raise :class:`FormatError` listing every issue."""
    issues: list[FormatIssue] = []
    known = set(known_audiences)
    total = sum(len(v) for v in files.values())
    if len(files) > MAX_FILES:
        issues.append(
            FormatIssue(
                "", None, _("troppi file: %(n)d (massimo %(max)d)", n=len(files), max=MAX_FILES)
            )
        )
    if total > MAX_TOTAL_BYTES:
        issues.append(
            FormatIssue("", None, _("il corso supera %(mb)d MB", mb=MAX_TOTAL_BYTES >> 20))
        )
    if "course.md" not in files:
        raise FormatError(issues + [FormatIssue("course.md", None, _("manca il file course.md"))])

    bundle = _parse_course_file(files["course.md"], known, issues)
    markdown_files = sorted(p for p in files if p.endswith(".md") and p != "course.md")
    assets = {p: data for p, data in files.items() if not p.endswith(".md")}
    positions: dict[int, str] = {}
    slugs: dict[str, str] = {}
    for path in markdown_files:
        if "/" in path:
            issues.append(
                FormatIssue(path, None, _("i moduli devono stare nella cartella principale"))
            )
            continue
        module = _parse_module(path, files[path], issues)
        if module is None:
            continue
        if module.position in positions:
            issues.append(
                FormatIssue(
                    path,
                    None,
                    _(
                        "modulo duplicato: il numero %(n)d è già usato da %(other)s",
                        n=module.position,
                        other=positions[module.position],
                    ),
                )
            )
        elif module.slug in slugs:
            issues.append(
                FormatIssue(
                    path,
                    None,
                    _(
                        "modulo duplicato: lo slug '%(slug)s' è già usato da %(other)s",
                        slug=module.slug,
                        other=slugs[module.slug],
                    ),
                )
            )
        else:
            positions[module.position] = path
            slugs[module.slug] = path
            if bundle is not None:
                bundle.modules.append(module)
    for path, data in sorted(assets.items()):
        suffix = path[path.rfind(".") :].lower() if "." in path else ""
        if suffix not in ASSET_TYPES:
            issues.append(
                FormatIssue(
                    path,
                    None,
                    _(
                        "tipo di file non ammesso (ammessi: %(types)s)",
                        types=", ".join(sorted(ASSET_TYPES)),
                    ),
                )
            )
        elif len(data) > MAX_ASSET_BYTES:
            issues.append(
                FormatIssue(
                    path,
                    None,
                    _(
                        "file troppo grande: %(mb).1f MB (massimo %(max)d MB)",
                        mb=len(data) / 2**20,
                        max=MAX_ASSET_BYTES >> 20,
                    ),
                )
            )
    if bundle is not None:
        if not bundle.modules and not any(
            i.file.endswith(".md") and i.file != "course.md" for i in issues
        ):
            issues.append(
                FormatIssue("course.md", None, _("il corso non ha moduli (file 01-nome.md)"))
            )
        bundle.modules.sort(key=lambda m: m.position)
        bundle.assets = assets
        _check_references(bundle, files, issues)
        _check_evidence(bundle, issues)
        if not issues:  # rendering only what passed every bound (lms.markdown_limits)
            _measure(bundle, issues)
    if issues or bundle is None:
        raise FormatError(sorted(issues, key=lambda i: (i.file, i.line or 0)))
    return bundle


def _parse_course_file(
    data: bytes, known: set[str], issues: list[FormatIssue]
) -> CourseBundle | None:
    file = "course.md"
    if len(data) > MAX_MARKDOWN_BYTES:
        issues.append(FormatIssue(file, None, _("file troppo grande")))
        return None
    text = _decode(data, file, issues)
    if text is None:
        return None
    front, body, body_line, front_issues = split_front_matter(text, file)
    issues += front_issues
    if front_issues:
        return None
    _check_markdown(body, file, body_line, issues, module=False)
    doc, yaml_issues = load_located(front, file=file, first_line=2)
    issues += yaml_issues
    if doc is None:
        return None
    if not isinstance(doc.data, dict):
        issues.append(
            FormatIssue(file, 2, _("l'intestazione deve essere un elenco di chiavi: valori"))
        )
        return None
    _check_keys(doc, COURSE_KEYS, file, issues)
    slug = _required_text(doc, "slug", file, issues, 80)
    if slug and not SLUG_RE.match(slug):
        issues.append(
            FormatIssue(
                file,
                doc.line("slug"),
                _("slug non valido: usa minuscole, cifre e '-' (3-80 caratteri)"),
            )
        )
    title = _required_text(doc, "title", file, issues, 200, one_line=True)
    summary = _required_text(doc, "summary", file, issues, 2000)
    audiences = _string_list(doc, "audiences", file, issues)
    all_audiences = audiences == ["all"]
    if not audiences and "audiences" not in doc.data:
        issues.append(FormatIssue(file, doc.line(), _("manca 'audiences' (o [all])")))
    if not all_audiences:
        for index, code in enumerate(audiences):
            if code not in known:
                issues.append(
                    FormatIssue(
                        file,
                        doc.line("audiences", index),
                        _("pubblico sconosciuto: %(code)s", code=code),
                    )
                )
    hours: Decimal | None = None
    raw_hours = doc.data.get("estimated_hours")
    try:
        if raw_hours is not None:
            hours = Decimal(str(raw_hours))
            if isinstance(raw_hours, bool) or not hours.is_finite() or not 0 < hours <= 1000:
                raise InvalidOperation
            hours = hours.quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        hours = None
        issues.append(
            FormatIssue(
                file,
                doc.line("estimated_hours"),
                _("'estimated_hours' deve essere un numero maggiore di 0"),
            )
        )
    renewal = doc.data.get("renewal_months")
    if renewal is not None and (
        isinstance(renewal, bool) or not isinstance(renewal, int) or not 1 <= renewal <= 240
    ):
        issues.append(
            FormatIssue(
                file,
                doc.line("renewal_months"),
                _("'renewal_months' deve essere un numero intero di mesi (1-240)"),
            )
        )
        renewal = None
    language = str(doc.data.get("language", "it"))
    if language not in ("it", "en"):
        issues.append(
            FormatIssue(file, doc.line("language"), _("lingua non supportata: %(l)s", l=language))
        )
    self_enrolment = doc.data.get("self_enrolment", True)
    if not isinstance(self_enrolment, bool):
        issues.append(
            FormatIssue(
                file, doc.line("self_enrolment"), _("'self_enrolment' deve essere true o false")
            )
        )
        self_enrolment = True
    public = doc.data.get("public", False)
    if not isinstance(public, bool):
        issues.append(FormatIssue(file, doc.line("public"), _("'public' deve essere true o false")))
        public = False
    prerequisites = _string_list(doc, "prerequisites", file, issues)
    for index, prerequisite in enumerate(prerequisites):
        if prerequisite == slug:
            issues.append(
                FormatIssue(
                    file,
                    doc.line("prerequisites", index),
                    _("un corso non può essere prerequisito di sé stesso"),
                )
            )
    evidence = _evidence(doc, file, issues)
    accreditation = parse_accreditation(doc, file, issues)
    return CourseBundle(
        slug=slug,
        title=title,
        summary=summary,
        audiences=[] if all_audiences else audiences,
        all_audiences=all_audiences,
        estimated_hours=hours,
        objectives=_string_list(doc, "objectives", file, issues),
        prerequisites=prerequisites,
        language=language,
        version_label=str(doc.data.get("version", "") or "")[:40],
        renewal_months=renewal,
        self_enrolment=self_enrolment,
        intro=body.strip("\n"),
        intro_first_line=body_line + len(body) - len(body.lstrip("\n")),
        estimated_hours_line=doc.line("estimated_hours"),
        evidence=evidence,
        evidence_line=doc.line("evidence") if "evidence" in doc.data else None,
        accreditation=accreditation,
        accreditation_line=doc.line("accreditation", "credits"),
        public=public,
    )


def _evidence(doc: LocatedYaml, file: str, issues: list[FormatIssue]) -> object:
    """The declared evidence profile, checked (courses.evidence); None if not declared."""
    declared = doc.data.get("evidence")
    if declared is None:
        return None
    try:
        resolve(declared)
    except ProfileError as error:
        line = doc.line("evidence", error.key) if error.key else doc.line("evidence")
        issues.append(FormatIssue(file, line, error.message))
        return None
    return declared


def _check_evidence(bundle: CourseBundle, issues: list[FormatIssue]) -> None:
    """The course's blocks measured against its profile (declared, else the installation's).

    Each block's owner judges the block (``FencedBlock.assess``); the course-wide rules
    (a final test, questions per credit) count the required modules' tests, and only when
    every module and block could be read: a module left out would make them wrong.
    """
    if bundle.evidence is None and bundle.evidence_line is not None:
        return  # a declaration refused above: its rules are unknown
    declared = bundle.evidence is not None
    profile = resolve(bundle.evidence) if declared else installation_profile()
    complete = not any(i.file.endswith(".md") and i.file != "course.md" for i in issues)
    blocks = fenced_blocks()
    tests = questions = 0
    for module in bundle.modules:
        for cut in split_blocks(module.body, blocks.keys())[1]:
            assess = blocks[cut.name].assess
            if assess is None:
                continue
            found = assess(
                cut.source, module.filename, module.body_first_line + cut.line - 1, profile
            )
            if found is None:
                complete = False
                continue
            issues += found.issues
            if module.required and found.questions_per_attempt:
                tests += 1
                questions += found.questions_per_attempt
    if complete:
        _check_course_test(bundle, profile, declared, tests, questions, issues)


def _check_course_test(
    bundle: CourseBundle,
    profile: EvidenceProfile,
    declared: bool,
    tests: int,
    questions: int,
    issues: list[FormatIssue],
) -> None:
    """A final test where the profile asks for one, with enough questions per credit."""
    if profile.requires_test and not tests:
        if declared:
            message = _(
                "il profilo di evidenza %(profile)s chiede una verifica finale: aggiungi un "
                "blocco quiz ad almeno un modulo obbligatorio",
                profile=profile_label(profile),
            )
        else:
            message = _(
                "il profilo di evidenza dell'installazione (%(profile)s) chiede una verifica "
                "finale: aggiungi un blocco quiz ad almeno un modulo obbligatorio, oppure "
                "dichiara in 'evidence' un profilo che non la chiede (es. awareness)",
                profile=profile_label(profile),
            )
        issues.append(FormatIssue("course.md", bundle.evidence_line or 1, message))
    accreditation = bundle.accreditation
    if not profile.questions_per_credit or accreditation is None or not tests:
        return
    needed = math.ceil(profile.questions_per_credit * accreditation.credits)
    if questions >= needed:
        return
    issues.append(
        FormatIssue(
            "course.md",
            bundle.accreditation_line,
            _(
                "il profilo di evidenza %(profile)s chiede %(per)d domande per credito: con "
                "%(credits)s crediti la verifica deve proporre almeno %(needed)d domande per "
                "tentativo, i quiz dei moduli obbligatori ne propongono %(found)d: aggiungi "
                "domande (o aumenta 'draw')",
                profile=profile_label(profile),
                per=profile.questions_per_credit,
                credits=format_decimal(accreditation.credits.normalize()),
                needed=needed,
                found=questions,
            ),
        )
    )


def profile_label(profile: EvidenceProfile) -> str:
    """How messages name a profile: 'ecm_fad', or an adjusted one after its base."""
    if profile.name.endswith("+"):
        return _("'%(base)s' con le regole del corso", base=profile.name[:-1])
    return f"'{profile.name}'"


def _parse_module(path: str, data: bytes, issues: list[FormatIssue]) -> ModuleSource | None:
    match = MODULE_FILE_RE.match(path)
    if not match:
        issues.append(
            FormatIssue(
                path,
                None,
                _("nome di modulo non valido: usa 'NN-nome.md' (es. 01-introduzione.md)"),
            )
        )
        return None
    if len(data) > MAX_MARKDOWN_BYTES:
        issues.append(
            FormatIssue(
                path,
                None,
                _(
                    "file troppo grande: %(mb).1f MB (massimo %(max)d MB)",
                    mb=len(data) / 2**20,
                    max=MAX_MARKDOWN_BYTES >> 20,
                ),
            )
        )
        return None
    text = _decode(data, path, issues)
    if text is None:
        return None
    front, body, body_line, front_issues = split_front_matter(text, path)
    issues += front_issues
    if front_issues:
        return None
    _check_markdown(body, path, body_line, issues)
    doc, yaml_issues = load_located(front, file=path, first_line=2)
    issues += yaml_issues
    if doc is None:
        return None
    if not isinstance(doc.data, dict):
        issues.append(
            FormatIssue(path, 2, _("l'intestazione deve essere un elenco di chiavi: valori"))
        )
        return None
    _check_keys(doc, MODULE_KEYS, path, issues)
    title = _required_text(doc, "title", path, issues, 200, one_line=True)
    minutes = doc.data.get("estimated_minutes")
    if minutes is not None and (
        isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 6000
    ):
        issues.append(
            FormatIssue(
                path,
                doc.line("estimated_minutes"),
                _("'estimated_minutes' deve essere un numero intero maggiore di 0"),
            )
        )
        minutes = None
    required = doc.data.get("required", True)
    if not isinstance(required, bool):
        issues.append(
            FormatIssue(path, doc.line("required"), _("'required' deve essere true o false"))
        )
        required = True
    slug = match.group(2)
    if doc.data.get("slug") not in (None, slug):
        issues.append(
            FormatIssue(
                path,
                doc.line("slug"),
                _("lo slug deve coincidere con il nome del file (%(slug)s)", slug=slug),
            )
        )
    module = ModuleSource(
        slug=slug,
        position=int(match.group(1)),
        title=title,
        estimated_minutes=minutes,
        required=required,
        body=body,
        filename=path,
        body_first_line=body_line,
        estimated_minutes_line=doc.line("estimated_minutes"),
    )
    blocks = fenced_blocks()
    lesson, cuts = split_blocks(body, blocks.keys())
    for cut in cuts:
        handler = blocks[cut.name]
        if handler.completion_message is not None:
            module.completed_by_block = True
        if split_block(lesson, cut.name)[1] is not None:
            issues.append(
                FormatIssue(
                    path, None, _("un modulo può avere un solo blocco %(name)s", name=cut.name)
                )
            )
        if handler.validate is not None:
            issues += handler.validate(cut.source, path, body_line + cut.line - 1)
    return module


def _measure(bundle: CourseBundle, issues: list[FormatIssue]) -> None:
    """Compute each module's duration; declared durations may exceed it by 50 % at most."""
    for module in bundle.modules:
        module.duration = lesson_duration(module.body)
        _check_module_minutes(module, issues)
    _check_course_hours(bundle, issues)


def _check_module_minutes(module: ModuleSource, issues: list[FormatIssue]) -> None:
    """Declared minutes may add further study to the computed duration, up to +50 %."""
    computed = module.duration.minutes
    if module.estimated_minutes is None or module.estimated_minutes <= max_minutes(computed):
        return
    issues.append(
        FormatIssue(
            module.filename,
            module.estimated_minutes_line,
            _(
                "estimated_minutes: %(declared)d supera la durata calcolata dal contenuto "
                "(%(computed)d min, al massimo %(max)d min con l'approfondimento): togli la "
                "chiave o indica al massimo %(max)d",
                declared=module.estimated_minutes,
                computed=computed,
                max=int(max_minutes(computed)),
            ),
        )
    )


def _check_course_hours(bundle: CourseBundle, issues: list[FormatIssue]) -> None:
    """Declared hours may add further study to the modules' computed total, up to +50 %."""
    if bundle.estimated_hours is None or not bundle.modules:
        return
    computed = sum(m.duration.minutes for m in bundle.modules)
    limit = max_minutes(computed)
    if Fraction(bundle.estimated_hours) * 60 <= limit:
        return
    max_hours = (Decimal(limit.numerator) / limit.denominator / 60).quantize(
        Decimal("0.01"), rounding=ROUND_FLOOR
    )
    issues.append(
        FormatIssue(
            "course.md",
            bundle.estimated_hours_line,
            _(
                "estimated_hours: %(declared)s supera la durata calcolata dai moduli "
                "(%(computed)d min, al massimo %(max)s h con l'approfondimento): togli la "
                "chiave o indica al massimo %(max)s",
                declared=format_decimal(bundle.estimated_hours.normalize()),
                computed=computed,
                max=format_decimal(max_hours.normalize()),
            ),
        )
    )


def lesson_limits(body: str) -> list[markdown_limits.Excess]:
    """The bounds (``lms.markdown_limits``) that the lesson exceeds, with lines of ``body``.

    The lesson is what gets rendered: the body without the plugins' blocks, which are not
    Markdown (the text before and after a block meet, as the renderer sees them).
    """
    lesson, cuts = split_blocks(body, fenced_blocks().keys())
    found = markdown_limits.check(lesson)
    if not cuts:
        return found
    return [markdown_limits.Excess(_body_line(e.line, cuts), e.message) for e in found]


def _check_markdown(
    body: str, file: str, first_line: int, issues: list[FormatIssue], *, module: bool = True
) -> None:
    """A module's lesson, or the course introduction (rendered whole), within the bounds."""
    for excess in lesson_limits(body) if module else markdown_limits.check(body):
        issues.append(FormatIssue(file, first_line + excess.line - 1, excess.message))


def _check_references(
    bundle: CourseBundle, files: dict[str, bytes], issues: list[FormatIssue]
) -> None:
    """Every local image or attachment the Markdown points to must be in the folder."""
    sources = [("course.md", bundle.intro, bundle.intro_first_line - 1)] + [
        (m.filename, m.body, m.body_first_line - 1) for m in bundle.modules
    ]
    for file, text, offset in sources:
        for number, line in enumerate(text.splitlines(), start=1):
            for target in (
                IMAGE_RE.findall(line) + HTML_SRC_RE.findall(line) + LINK_RE.findall(line)
            ):
                if _is_external(target) or target.startswith("#"):
                    continue
                path = target.split("#", 1)[0].split("?", 1)[0].removeprefix("./")
                if path and path not in files:
                    issues.append(
                        FormatIssue(
                            file,
                            offset + number,
                            _("file non trovato nella cartella del corso: %(path)s", path=path),
                        )
                    )


def _is_external(target: str) -> bool:
    lowered = target.lower()
    return bool(re.match(r"^[a-z][a-z0-9+.-]*:", lowered)) or lowered.startswith("//")
