"""The importer refuses a course whose quizzes cannot satisfy its evidence profile, with the
file, the line and the numbers, among every other problem (courses.format, quizzes.evidence).

The test app's installation profile asks for nothing (tests/conftest.py): these courses
declare theirs. In course.md (tests/courses/helpers.py) ``extra`` starts on line 12.
"""

from __future__ import annotations

import pytest

from courses.format import parse_bundle
from lms.errors import FormatError
from tests.courses.helpers import course_files

pytestmark = pytest.mark.usefixtures("in_app_context")

ECM = "evidence: ecm_fad\n"
PROFESSIONAL = "evidence: professional\n"
EXTRA_LINE = 12
QUIZ_FILE = "01-primo.md"
# In QUIZ_FILE: the block opens on line 6, its settings start on line 7; the questions
# follow the settings, one every QUESTION_LINES lines.
SETTINGS_LINE = 7
QUESTION_LINES = 8


def single(n: int, options: int = 4) -> str:
    """A single-choice question of ``options`` options (8 lines with 4 options)."""
    lines = [f"  - id: q{n}", "    type: single", f"    text: Domanda {n}?", "    options:"]
    lines.append(f"      - {{text: Giusta {n}, correct: true}}")
    lines += [f"      - {{text: Sbagliata {n}{k}}}" for k in range(1, options)]
    return "\n".join(lines) + "\n"


def quiz_module(settings: str, questions: str) -> bytes:
    return (
        "---\ntitle: Primo\n---\nLezione.\n\n```quiz\n"
        + settings
        + "questions:\n"
        + questions
        + "```\n"
    ).encode()


def bank(size: int) -> str:
    return "".join(single(n) for n in range(1, size + 1))


def files(extra: str, module: bytes | None = None, **kwargs: object) -> dict[str, bytes]:
    built = course_files(extra=extra, **kwargs)  # type: ignore[arg-type]
    if module is not None:
        built[QUIZ_FILE] = module
    return built


def issues(built: dict[str, bytes]) -> list[tuple[str, int | None, str]]:
    with pytest.raises(FormatError) as caught:
        parse_bundle(built, [])
    return [(i.file, i.line, i.message) for i in caught.value.issues]


def question_line(n: int, settings_lines: int) -> int:
    """The line of question ``n`` (1-based) after ``settings_lines`` lines of settings."""
    return SETTINGS_LINE + settings_lines + 1 + (n - 1) * QUESTION_LINES


# --- refusals -----------------------------------------------------------------------------


def test_a_profile_that_asks_for_a_final_test_refuses_a_course_without_quizzes():
    assert issues(files(ECM)) == [
        (
            "course.md",
            EXTRA_LINE,
            "il profilo di evidenza 'ecm_fad' chiede una verifica finale: aggiungi un blocco "
            "quiz ad almeno un modulo obbligatorio",
        )
    ]


def test_a_quiz_in_an_optional_module_is_not_the_final_test():
    module = quiz_module("attempts: 5\n", bank(3)).replace(
        b"title: Primo\n", b"title: Primo\nrequired: false\n"
    )
    found = issues(files(PROFESSIONAL, module))
    assert found == [
        (
            "course.md",
            EXTRA_LINE,
            "il profilo di evidenza 'professional' chiede una verifica finale: aggiungi un "
            "blocco quiz ad almeno un modulo obbligatorio",
        )
    ]


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("    type: true_false\n    text: Vero?\n    answer: true\n", "true_false"),
        ("    type: short\n    text: Quale?\n    answers: [DA-5]\n", "short"),
        ("    type: ordering\n    text: Ordina.\n    items: [Uno, Due]\n", "ordering"),
        (
            "    type: multiple\n    text: Quali?\n    options:\n"
            "      - {text: A, correct: true}\n      - {text: B, correct: true}\n"
            "      - {text: C}\n      - {text: D}\n",
            "multiple",
        ),
        (
            "    type: matching\n    text: Abbina.\n    pairs:\n"
            "      - {left: A, right: '1'}\n      - {left: B, right: '2'}\n",
            "matching",
        ),
    ],
)
def test_ecm_refuses_every_question_that_is_not_single_choice(question, kind):
    module = quiz_module("attempts: 5\n", bank(3) + "  - id: altra\n" + question)
    assert issues(files(ECM, module)) == [
        (
            QUIZ_FILE,
            question_line(4, 1),
            f"domanda 'altra': il profilo di evidenza del corso ammette solo domande a scelta "
            f"singola (type: single) con 4 opzioni e una sola giusta, non di tipo '{kind}': "
            "riscrivila come scelta singola",
        )
    ]


def test_ecm_refuses_a_single_choice_question_without_four_options():
    module = quiz_module("attempts: 5\n", bank(3) + single(4, options=3))
    assert issues(files(ECM, module)) == [
        (
            QUIZ_FILE,
            question_line(4, 1),
            "domanda 'q4': ha 3 opzioni, il profilo di evidenza del corso ne chiede esattamente "
            "4, una sola giusta: porta le opzioni a 4",
        )
    ]


def test_ecm_refuses_a_pass_mark_below_75():
    module = quiz_module("attempts: 5\npass_mark: 60\n", bank(3))
    assert issues(files(ECM, module)) == [
        (
            QUIZ_FILE,
            SETTINGS_LINE + 1,
            "pass_mark: 60 è sotto la soglia minima del profilo di evidenza del corso (75 %): "
            "indica almeno pass_mark: 75",
        )
    ]


def test_ecm_refuses_fewer_than_three_questions_per_credit():
    extra = ECM + 'accreditation:\n  body: ECM\n  provider: "P1"\n  event: "E1"\n  credits: 2.5\n'
    module = quiz_module("attempts: 5\n", bank(7))
    assert issues(files(extra, module)) == [
        (
            "course.md",
            EXTRA_LINE + 5,  # the line of credits
            "il profilo di evidenza 'ecm_fad' chiede 3 domande per credito: con 2,5 crediti la "
            "verifica deve proporre almeno 8 domande per tentativo, i quiz dei moduli "
            "obbligatori ne propongono 7: aggiungi domande (o aumenta 'draw')",
        )
    ]


def test_unlimited_attempts_need_a_bank_with_a_third_of_new_questions():
    module = quiz_module("attempts: 0\n", bank(5))
    assert issues(files(PROFESSIONAL, module)) == [
        (
            QUIZ_FILE,
            SETTINGS_LINE,
            "attempts: 0 (illimitati) supera i 5 tentativi con le stesse domande ammessi dal "
            "profilo di evidenza del corso: oltre, ogni tentativo deve proporre almeno 2 "
            "domande nuove su 5, ma delle 5 domande estraibili ne restano fuori da un "
            "tentativo 0: indica attempts: 5 o meno, oppure estrai al massimo 3 domande per "
            "tentativo (draw: 3)",
        )
    ]


def test_a_draw_too_close_to_the_bank_is_refused_beyond_five_attempts():
    # 6 of 8 drawn: ceil(0.33 × 6) = 2 new needed, 2 left out: enough; 7 of 8: 3 needed, 1.
    assert parse_bundle(files(ECM, quiz_module("attempts: 8\ndraw: 6\n", bank(8))), [])
    found = issues(files(ECM, quiz_module("attempts: 8\ndraw: 7\n", bank(8))))
    assert found == [
        (
            QUIZ_FILE,
            SETTINGS_LINE,
            "attempts: 8 supera i 5 tentativi con le stesse domande ammessi dal profilo di "
            "evidenza del corso: oltre, ogni tentativo deve proporre almeno 3 domande nuove su "
            "7, ma delle 8 domande estraibili ne restano fuori da un tentativo 1: indica "
            "attempts: 5 o meno, oppure estrai al massimo 6 domande per tentativo (draw: 6)",
        )
    ]


def test_a_profile_without_fresh_draws_refuses_attempts_beyond_its_limit():
    extra = "evidence:\n  base: professional\n  max_attempts: 3\n  fresh_draw_share: 0\n"
    module = quiz_module("pass_mark: 80\nattempts: 4\n", bank(9))
    assert issues(files(extra, module)) == [
        (
            QUIZ_FILE,
            SETTINGS_LINE + 1,
            "attempts: 4 supera i 3 tentativi ammessi dal profilo di evidenza del corso: "
            "indica attempts: 3 o meno",
        )
    ]


def test_answers_after_each_attempt_contradict_answers_at_the_end_of_the_course():
    module = quiz_module("attempts: 5\nshow_answers: after_each_attempt\n", bank(2))
    assert issues(files(PROFESSIONAL, module)) == [
        (
            QUIZ_FILE,
            SETTINGS_LINE + 1,
            "show_answers: after_each_attempt contraddice il profilo di evidenza del corso, che "
            "mostra le risposte giuste solo a corso completato: indica after_passing o never",
        )
    ]


def test_profile_problems_are_listed_with_every_other_problem():
    module = quiz_module("attempts: 0\npass_mark: 50\n", bank(3) + single(4, options=2))
    built = files(ECM + "durata: 3\n", module)
    built["02-secondo.md"] = b"---\ntitolo: Secondo\n---\nTesto.\n"
    found = issues(built)
    assert [(file, line) for file, line, _message in found] == [
        (QUIZ_FILE, SETTINGS_LINE),  # attempts
        (QUIZ_FILE, SETTINGS_LINE + 1),  # pass mark
        (QUIZ_FILE, question_line(4, 2)),  # two options
        ("02-secondo.md", 2),  # unknown key
        ("02-secondo.md", 2),  # title missing
        ("course.md", EXTRA_LINE + 1),  # unknown key
    ]


def test_a_broken_quiz_is_reported_once_not_again_against_the_profile():
    module = quiz_module("attempts: tre\n", bank(3))
    found = issues(files(ECM, module))
    assert len(found) == 1 and found[0][:2] == (QUIZ_FILE, SETTINGS_LINE)
    assert "attempts" in found[0][2]


# --- what imports -------------------------------------------------------------------------


def test_an_ecm_course_that_meets_every_rule_imports():
    extra = ECM + 'accreditation:\n  body: ECM\n  provider: "P1"\n  event: "E1"\n  credits: 2\n'
    module = quiz_module("pass_mark: 80\nattempts: 0\ndraw: 6\nshow_answers: never\n", bank(9))
    bundle = parse_bundle(files(extra, module), [])
    assert bundle.evidence == "ecm_fad" and bundle.accreditation is not None
    assert bundle.modules[0].completed_by_block  # its quiz is the final test


def test_courses_that_declare_no_profile_follow_the_permissive_test_installation():
    module = quiz_module(
        "attempts: 0\npass_mark: 10\n",
        "  - id: v\n    type: true_false\n    text: Vero?\n    answer: true\n",
    )
    assert parse_bundle(files("", module), [])


def test_a_course_without_a_profile_is_checked_against_the_installations(app, monkeypatch):
    monkeypatch.setitem(app.config, "LMS_EVIDENCE_PROFILE", "professional")
    assert issues(files("")) == [
        (
            "course.md",
            1,
            "il profilo di evidenza dell'installazione ('professional') chiede una verifica "
            "finale: aggiungi un blocco quiz ad almeno un modulo obbligatorio, oppure dichiara "
            "in 'evidence' un profilo che non la chiede (es. awareness)",
        )
    ]
    assert parse_bundle(files("", quiz_module("attempts: 5\n", bank(2))), [])


def test_an_adjusted_profile_is_named_after_its_base():
    extra = "evidence:\n  base: professional\n  max_attempts: 3\n"
    assert issues(files(extra)) == [
        (
            "course.md",
            EXTRA_LINE,
            "il profilo di evidenza 'professional' con le regole del corso chiede una verifica "
            "finale: aggiungi un blocco quiz ad almeno un modulo obbligatorio",
        )
    ]
