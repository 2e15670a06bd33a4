"""Building course folders in tests.

Declared durations stay within the cap (courses.durations): a module's lesson of about 30
characters computes to 1 minute (rounded up), so it may declare at most 1 minute (1.5
rounded down). The course declares no hours (its modules vary): it lasts the sum of its
modules' computed minutes. The comment keeps the lines of the file where they were.
"""

from __future__ import annotations

import textwrap

COURSE_MD = """---
slug: {slug}
title: "{title}"
summary: Un corso di prova.
audiences: {audiences}
# estimated_hours: facoltativa
objectives:
  - Primo obiettivo
prerequisites: {prerequisites}
language: it
version: "1.0"
{extra}---
Introduzione del corso.
"""

MODULE_MD = """---
title: {title}
estimated_minutes: 1
---
## {title}

Testo della lezione {slug}.
"""

QUIZ_MODULE_MD = """---
title: {title}
estimated_minutes: 1
---
Lezione con quiz.

```quiz
pass_mark: 50
questions:
  - id: q-{slug}
    type: true_false
    text: Vero?
    answer: true
```
"""


def course_files(
    slug: str = "corso-prova",
    *,
    title: str = "Corso di prova",
    modules: tuple[str, ...] = ("primo", "secondo"),
    audiences: str = "[all]",
    prerequisites: str = "[]",
    extra: str = "",
    quiz_modules: tuple[str, ...] = (),
) -> dict[str, bytes]:
    files = {
        "course.md": COURSE_MD.format(
            slug=slug, title=title, audiences=audiences, prerequisites=prerequisites, extra=extra
        ).encode()
    }
    for number, module in enumerate(modules, start=1):
        template = QUIZ_MODULE_MD if module in quiz_modules else MODULE_MD
        files[f"{number:02d}-{module}.md"] = template.format(
            title=module.capitalize(), slug=module
        ).encode()
    return files


def dedent(text: str) -> bytes:
    return textwrap.dedent(text).lstrip("\n").encode()
