"""Synthetic course folders in the platform's own format (docs/course-format.md).

Deterministic: the same ``random.Random`` state gives the same files. Lessons are
realistic in size and structure (headings, lists, tables, admonitions, footnotes:
what the Markdown pipeline has to render) and every quiz has a bank larger than
what it draws, with all six question types.
"""

from __future__ import annotations

import random
from pathlib import Path

WORDS = (  # noqa: SIM905
    "rete accoglienza donna centro antiviolenza protocollo servizio operatrice valutazione "
    "rischio ascolto percorso autonomia protezione figli denuncia procedura contatto casa "
    "rifugio territorio sostegno formazione comune linguaggio violenza domestica economica "
    "psicologica fisica sessuale stalking tutela riservatezza consenso colloquio orientamento "
    "segnalazione pronto soccorso triage scuola avvocatura magistratura questura municipio "
    "referente coordinamento monitoraggio impegno obiettivo allegato articolo linea guida "
    "vademecum progetto individuale emergenza ospitalità lavoro abitazione reddito sicurezza"
).split()
AUDIENCE_GROUPS = (
    ["all"],
    ["polizia_locale"],
    ["servizi_sociali", "amministrazione"],
    ["triage_asst", "sanitario"],
    ["scuola"],
    ["avvocati", "magistratura"],
    ["operatrici_cav"],
    ["forze_ordine", "commissione_territoriale"],
    ["lavoro_autori", "centri_impiego"],
)


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _sentence(rng: random.Random, low: int = 8, high: int = 20) -> str:
    text = _words(rng, rng.randint(low, high))
    return text[0].upper() + text[1:] + "."


def _paragraph(rng: random.Random, sentences: int = 5) -> str:
    return " ".join(_sentence(rng) for _ in range(sentences))


def lesson(rng: random.Random, sections: int) -> str:
    """A module's lesson: about 1 KB of Markdown per section."""
    parts: list[str] = []
    for s in range(1, sections + 1):
        parts.append(f"## {_sentence(rng, 3, 6)[:-1]}\n")
        parts.append(_paragraph(rng, rng.randint(3, 6)) + "\n")
        kind = s % 4
        if kind == 0:
            parts.append("\n".join(f"- **{_words(rng, 2)}**: {_sentence(rng)}" for _ in range(4)))
            parts.append("")
        elif kind == 1:
            parts.append("| voce | che cosa | chi |\n| --- | --- | --- |")
            for _ in range(4):
                parts.append(f"| {_words(rng, 2)} | {_sentence(rng, 4, 8)} | {_words(rng, 1)} |")
            parts.append("")
        elif kind == 2:
            parts.append(f'!!! note "{_words(rng, 3).capitalize()}"')
            parts.append(f"    {_sentence(rng)} {_sentence(rng)}\n")
        else:
            parts.append(f"{_sentence(rng)}[^{s}]\n\n[^{s}]: {_sentence(rng, 4, 8)}\n")
    return "\n".join(parts) + "\n"


def _q(value: str) -> str:
    return '"' + value.replace('"', "'") + '"'


def quiz_block(rng: random.Random, prefix: str, bank: int = 8, draw: int = 4) -> str:
    """A quiz block with ``bank`` questions (every type), ``draw`` of them per attempt."""
    lines = [
        "```quiz",
        "pass_mark: 75",
        "attempts: 0",
        "show_feedback: after_each_attempt",
        "show_answers: after_passing",
        f"draw: {draw}",
        "questions:",
    ]
    types = ["single", "multiple", "true_false", "short", "matching", "ordering"]
    for n in range(1, bank + 1):
        qtype = types[(n - 1) % len(types)]
        lines += [
            f"  - id: {prefix}-q{n}",
            f"    type: {qtype}",
            f"    text: {_q(_sentence(rng, 5, 10))}",
        ]
        if qtype in ("single", "multiple"):
            lines.append("    options:")
            right = {0} if qtype == "single" else {0, 2}
            for k in range(4):
                text = _q(f"{k + 1}. {_words(rng, rng.randint(2, 4))}")
                correct = ", correct: true" if k in right else ""
                lines.append(f"      - {{text: {text}{correct}}}")
            lines.append(f"    feedback: {_q(_sentence(rng, 5, 10))}")
        elif qtype == "true_false":
            lines.append(f"    answer: {'true' if rng.random() < 0.5 else 'false'}")
        elif qtype == "short":
            word = rng.choice(WORDS)
            lines.append(f"    answers: [{word}, {_q(word.upper())}]")
        elif qtype == "matching":
            lines.append("    pairs:")
            for k in range(3):
                left = _q(f"{k + 1}. {_words(rng, 2)}")
                right = _q(f"{chr(65 + k)}. {_words(rng, 3)}")
                lines.append(f"      - {{left: {left}, right: {right}}}")
        else:
            lines.append("    items:")
            for k in range(4):
                lines.append(f"      - {_q(f'{k + 1}. {_words(rng, 3)}')}")
    lines.append("```")
    return "\n".join(lines) + "\n"


def write_course(
    root: Path,
    rng: random.Random,
    slug: str,
    *,
    modules: int,
    audiences: list[str],
    quiz_every: int = 2,
    sections: int = 6,
    renewal_months: int | None = 24,
) -> Path:
    """One course folder; a quiz on every ``quiz_every``-th module (and always the last)."""
    folder = root / slug
    folder.mkdir(parents=True)
    renewal = f"renewal_months: {renewal_months}\n" if renewal_months else ""
    objectives = "\n".join(f"  - {_q(_sentence(rng, 6, 10))}" for _ in range(3))
    (folder / "course.md").write_text(
        "---\n"
        f"slug: {slug}\n"
        f"title: {_q(_sentence(rng, 4, 8)[:-1])}\n"
        f"summary: {_q(_paragraph(rng, 2))}\n"
        f"audiences: [{', '.join(audiences)}]\n"
        f"objectives:\n{objectives}\n"
        "prerequisites: []\n"
        "language: it\n"
        'version: "1.0"\n'
        f"{renewal}"
        "self_enrolment: true\n"
        "---\n" + lesson(rng, 2),
        encoding="utf-8",
    )
    for m in range(1, modules + 1):
        module_slug = f"modulo-{m:03d}"
        body = lesson(rng, sections)
        if m % quiz_every == 0 or m == modules:
            body += "\n" + quiz_block(rng, f"m{m}")
        (folder / f"{m:03d}-{module_slug}.md").write_text(
            f"---\ntitle: {_q(_sentence(rng, 3, 7)[:-1])}\n---\n" + body,
            encoding="utf-8",
        )
    return folder


def course_slug(n: int) -> str:
    return f"bench-corso-{n:02d}"


def write_catalogue(root: Path, rng: random.Random, count: int = 20) -> list[str]:
    """``count`` courses of 6-10 modules; course 1 is for everyone, the others by audience."""
    slugs = []
    for n in range(1, count + 1):
        audiences = AUDIENCE_GROUPS[0] if n == 1 else ["all"] if n <= 10 else None
        if audiences is None:
            audiences = AUDIENCE_GROUPS[1 + (n - 11) % (len(AUDIENCE_GROUPS) - 1)]
        slug = course_slug(n)
        write_course(root, rng, slug, modules=rng.randint(6, 10), audiences=audiences)
        slugs.append(slug)
    return slugs


def write_big_course(root: Path, rng: random.Random, modules: int = 200) -> Path:
    """The import benchmark's large course: ``modules`` modules, a quiz on every fourth."""
    return write_course(
        root, rng, "bench-corso-grande", modules=modules, audiences=["all"], quiz_every=4
    )
