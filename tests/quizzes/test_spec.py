"""Parsing quiz blocks: every type, defaults, and malformed blocks located by line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lms.errors import FormatError
from quizzes.records import ItemSpec, OptionSpec, PairSpec, QuestionSpec, QuizSpec
from quizzes.spec import parse_quiz_block, validate_quiz_block
from tests.quizzes.helpers import FILE, FIRST, doc_example, issues, only_issue, parse

MINIMAL = """
questions:
  - id: q1
    type: true_false
    text: Vero?
    answer: true
"""


# -- valid blocks --------------------------------------------------------------------------


def test_doc_example_parses_every_type():
    spec = parse_quiz_block(doc_example(), file=FILE, first_line=FIRST)
    assert spec.pass_mark == 75
    assert spec.attempts == 3
    assert spec.cooldown_minutes == 5
    assert spec.time_limit_minutes == 15
    assert spec.draw == 4
    assert spec.shuffle_options is True
    assert (spec.show_feedback, spec.show_answers, spec.grading) == (
        "after_each_attempt",
        "after_passing",
        "best",
    )
    assert spec.question_ids == (
        "codice-giallo",
        "cosa-garantire",
        "obi-36-72",
        "nodi-e-ruoli",
        "sequenza-accoglienza",
        "scala-rischio",
    )
    single, multiple, true_false, matching, ordering, short = spec.questions
    assert single.type == "single"
    assert single.tags == ("triage",)
    assert single.feedback.startswith("Le linee guida regionali")
    assert single.options == (
        OptionSpec("o1", "Codice bianco", False, "Non rispetta le linee guida."),
        OptionSpec("o2", "Codice giallo (o equivalente)", True, ""),
        OptionSpec("o3", "Nessun codice specifico", False, ""),
    )
    assert [o.correct for o in multiple.options] == [True, True, False]
    assert true_false.answer is True
    assert matching.pairs[1] == PairSpec("p2", "Casa rifugio", "Ospitalità protetta")
    assert ordering.items[0] == ItemSpec("i1", "Accoglienza in stanza dedicata")
    assert short.answers == ("DA-5", "DA 5", "Danger Assessment 5")


def test_defaults_and_question_lines():
    spec = parse(MINIMAL)
    assert spec == QuizSpec(
        questions=(QuestionSpec(id="q1", type="true_false", text="Vero?", answer=True),)
    )
    assert spec.pass_mark == 75 and spec.attempts == 0 and spec.cooldown_minutes == 0
    assert spec.time_limit_minutes is None and spec.draw is None and spec.draw_tags == ()
    assert spec.show_feedback == "after_each_attempt"
    assert spec.show_answers == "after_passing"
    assert spec.grading == "best"
    assert spec.questions[0].line == FIRST + 1
    assert spec.questions[0].points == 1


def test_texts_stay_as_written():
    """YAML would turn ``No`` into False and ``2013`` into a number: trainers mean text."""
    spec = parse(
        """
        questions:
          - id: ordine-anni
            type: ordering
            text: 2013
            items: [No, 2013, "Sì"]
          - id: parola
            type: short
            text: Quale parola?
            answers: [Off]
            points: 0.5
        """
    )
    assert spec.questions[0].text == "2013"
    assert [i.text for i in spec.questions[0].items] == ["No", "2013", "Sì"]
    assert spec.questions[1].answers == ("Off",)
    assert spec.questions[1].points == 0.5


def test_draw_from_tags_and_settings():
    spec = parse(
        """
        pass_mark: 60.5
        attempts: 0
        draw: 2
        draw_tags: [triage, rete]
        shuffle_options: false
        show_feedback: never
        show_answers: after_each_attempt
        grading: last
        questions:
          - {id: a, type: true_false, text: A, answer: true, tags: [triage]}
          - {id: b, type: true_false, text: B, answer: false, tags: [rete, altro]}
          - {id: c, type: true_false, text: C, answer: false}
        """
    )
    assert spec.pass_mark == 60.5
    assert spec.draw_tags == ("triage", "rete")
    assert [q.id for q in spec.eligible()] == ["a", "b"]
    assert spec.shuffle_options is False
    assert (spec.show_feedback, spec.show_answers, spec.grading) == (
        "never",
        "after_each_attempt",
        "last",
    )


def test_matching_may_share_a_right_item():
    spec = parse(
        """
        questions:
          - id: chi-fa-cosa
            type: matching
            text: Abbina.
            pairs:
              - {left: CAV, right: Accoglienza}
              - {left: Sportello, right: Accoglienza}
              - {left: Casa rifugio, right: Ospitalità}
        """
    )
    assert len(spec.questions[0].pairs) == 3


# -- round trip ----------------------------------------------------------------------------


def test_round_trip_through_json():
    spec = parse_quiz_block(doc_example(), file=FILE, first_line=FIRST)
    stored = json.loads(json.dumps(spec.to_dict()))
    again = QuizSpec.from_dict(stored)
    assert again == spec
    assert [q.line for q in again.questions] == [q.line for q in spec.questions]
    assert again.to_dict() == spec.to_dict()


def test_from_dict_refuses_an_unknown_format():
    data = parse(MINIMAL).to_dict()
    data["format"] = 99
    with pytest.raises(ValueError):
        QuizSpec.from_dict(data)


# -- malformed blocks: line and message ----------------------------------------------------


def test_yaml_syntax_error():
    issue = only_issue(
        """
        questions:
          - id: q1
            type: true_false
            text: Attenzione: due punti nel testo
            answer: true
        """
    )
    assert issue.line == FIRST + 3
    assert "':'" in issue.message and "virgolette" in issue.message
    assert str(issue).startswith(f"{FILE}:{FIRST + 3}: ")


def test_tab_indentation():
    issue = only_issue("questions:\n  - id: q1\n\ttype: single\n")
    assert issue.line == FIRST + 2
    assert "tabulazione" in issue.message


def test_unclosed_quote_points_inside_the_block():
    issue = only_issue('questions:\n  - id: q1\n    text: "non chiuso\n')
    assert FIRST + 2 <= issue.line <= FIRST + 3
    assert "virgolette" in issue.message


def test_unknown_type_with_a_hint():
    issue = only_issue(
        """
        questions:
          - id: q1
            type: singola
            text: Domanda?
        """
    )
    assert issue.line == FIRST + 2
    assert issue.message == (
        "domanda 'q1': tipo di domanda sconosciuto 'singola' (forse intendevi 'single'?)"
    )


def test_unknown_type_lists_the_types():
    issue = only_issue("questions:\n  - {id: q1, type: saggio, text: Scrivi}\n")
    assert issue.line == FIRST + 1
    assert "single, multiple, true_false, matching, ordering, short" in issue.message


def test_unknown_key_with_a_hint():
    issue = only_issue(
        """
        questions:
          - id: q1
            type: single
            text: Quale?
            options:
              - text: Giusta
                corect: true
              - text: Sbagliata
        """
    )
    # The typo also leaves the question with no right option, but that follows from the
    # typo: only the typo is reported.
    assert issue.line == FIRST + 6
    assert issue.message == (
        "domanda 'q1', opzione 1: chiave sconosciuta 'corect' (forse intendevi 'correct'?)"
    )


def test_italian_key_gets_the_english_one():
    issue = only_issue("domande:\n  - {id: q1}\n")
    assert issue.line == FIRST
    assert "'domande'" in issue.message and "'questions'" in issue.message


def test_single_with_two_right_options():
    issue = only_issue(
        """
        questions:
          - id: codice-giallo
            type: single
            text: Quale codice?
            options:
              - {text: Bianco, correct: true}
              - {text: Giallo, correct: true}
        """
    )
    assert issue.line == FIRST + 4
    assert issue.message == (
        "domanda 'codice-giallo': una domanda 'single' deve avere esattamente una risposta "
        "corretta (trovate 2)"
    )


def test_multiple_without_right_options():
    issue = only_issue(
        """
        questions:
          - id: cosa-garantire
            type: multiple
            text: Cosa?
            options:
              - text: Una
              - text: Due
        """
    )
    assert issue.line == FIRST + 4
    assert "almeno una risposta corretta" in issue.message
    assert "correct: true" in issue.message


def test_duplicate_ids():
    issue = only_issue(
        """
        questions:
          - {id: stesso, type: true_false, text: A, answer: true}
          - {id: altro, type: true_false, text: B, answer: true}
          - {id: stesso, type: true_false, text: C, answer: false}
        """
    )
    assert issue.line == FIRST + 3
    assert f"'stesso' è già usato dalla domanda alla riga {FIRST + 1}" in issue.message


def test_draw_larger_than_the_bank():
    issue = only_issue(
        """
        draw: 3
        questions:
          - {id: a, type: true_false, text: A, answer: true}
          - {id: b, type: true_false, text: B, answer: true}
        """
    )
    assert issue.line == FIRST
    assert issue.message == "'draw' chiede 3 domande per tentativo, ma le domande sono 2"


def test_draw_larger_than_the_tagged_questions():
    issue = only_issue(
        """
        draw: 2
        draw_tags: [triage]
        questions:
          - {id: a, type: true_false, text: A, answer: true, tags: [triage]}
          - {id: b, type: true_false, text: B, answer: true}
        """
    )
    assert issue.line == FIRST
    assert "quelle con i tag di 'draw_tags' sono 1" in issue.message


def test_draw_tags_must_exist():
    issue = only_issue(
        """
        draw_tags:
          - triage
          - inesistente
        questions:
          - {id: a, type: true_false, text: A, answer: true, tags: [triage]}
        """
    )
    assert issue.line == FIRST + 2
    assert issue.message == "draw_tags: nessuna domanda ha il tag 'inesistente'"


def test_bad_enum():
    issue = only_issue("show_feedback: sempre\n" + MINIMAL.lstrip("\n"))
    assert issue.line == FIRST
    assert issue.message == (
        "'show_feedback' deve essere uno tra after_each_attempt, after_passing, never "
        "(trovato: 'sempre')"
    )


def test_missing_text():
    issue = only_issue(
        """
        questions:
          - id: q1
            type: true_false
            answer: true
          - id: q2
            type: true_false
            text: Vero?
            answer: false
        """
    )
    assert issue.line == FIRST + 1
    assert issue.message == "domanda 'q1': manca la chiave obbligatoria 'text'"


def test_empty_text():
    issue = only_issue("questions:\n  - {id: q1, type: true_false, text: '  ', answer: true}\n")
    assert issue.line == FIRST + 1
    assert "'text' non può essere vuoto" in issue.message


def test_empty_options():
    issue = only_issue(
        """
        questions:
          - id: q1
            type: single
            text: Quale?
            options: []
        """
    )
    assert issue.line == FIRST + 4
    assert "'options' deve avere almeno 2 elementi (trovati 0)" in issue.message


def test_negative_points():
    issue = only_issue(
        """
        questions:
          - id: q1
            type: true_false
            text: Vero?
            answer: true
            points: -2
        """
    )
    assert issue.line == FIRST + 5
    assert issue.message == "domanda 'q1': 'points' deve essere maggiore di zero (trovato: '-2')"


def test_options_not_a_list():
    issue = only_issue(
        """
        questions:
          - id: q1
            type: single
            text: Quale?
            options: Codice giallo
        """
    )
    assert issue.line == FIRST + 4
    assert "'options' deve essere un elenco" in issue.message
    assert "'Codice giallo'" in issue.message


def test_pass_mark_out_of_range():
    issue = only_issue("pass_mark: 120\n" + MINIMAL.lstrip("\n"))
    assert issue.line == FIRST
    assert issue.message == "'pass_mark' deve essere tra 0 e 100 (trovato: '120')"


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("attempts: -1", "'attempts' deve essere tra 0 e 1000"),
        ("cooldown_minutes: 2.5", "'cooldown_minutes' deve essere un numero intero"),
        ("time_limit_minutes: 0", "'time_limit_minutes' deve essere tra 1 e 1440"),
        ("shuffle_options: forse", "'shuffle_options' deve essere true (sì) o false (no)"),
        ("grading: media", "'grading' deve essere uno tra best, last"),
        ("draw: 0", "'draw' deve essere tra 1 e 200"),
    ],
)
def test_bad_settings(setting: str, expected: str):
    issue = only_issue(setting + "\n" + MINIMAL.lstrip("\n"))
    assert issue.line == FIRST
    assert expected in issue.message


def test_id_pattern():
    issue = only_issue(
        "questions:\n  - {id: Codice Giallo, type: true_false, text: A, answer: true}\n"
    )
    assert issue.line == FIRST + 1
    assert "'id' può contenere solo lettere minuscole" in issue.message


def test_duplicate_option_texts():
    issue = only_issue(
        """
        questions:
          - id: q1
            type: single
            text: Quale?
            options:
              - {text: Codice giallo, correct: true}
              - text: codice  GIALLO
        """
    )
    assert issue.line == FIRST + 6
    assert issue.message == ("domanda 'q1', opzione 2: testo uguale a quello dell'opzione 1")


def test_matching_needs_two_pairs():
    issue = only_issue(
        """
        questions:
          - id: q1
            type: matching
            text: Abbina
            pairs:
              - {left: A, right: B}
        """
    )
    assert issue.line == FIRST + 5
    assert "'pairs' deve avere almeno 2 elementi (trovati 1)" in issue.message


def test_ordering_duplicate_items():
    issue = only_issue(
        """
        questions:
          - id: q1
            type: ordering
            text: Ordina
            items:
              - Primo
              - Secondo
              - primo
        """
    )
    assert issue.line == FIRST + 7
    assert "elemento 3: testo uguale a quello dell'elemento 1" in issue.message


def test_short_answer_without_letters():
    issue = only_issue(
        """
        questions:
          - id: q1
            type: short
            text: Sigla?
            answers:
              - DA-5
              - "?!"
        """
    )
    assert issue.line == FIRST + 6
    assert "non contiene lettere né cifre" in issue.message


def test_true_false_answer_must_be_boolean():
    issue = only_issue("questions:\n  - {id: q1, type: true_false, text: A, answer: forse}\n")
    assert issue.line == FIRST + 1
    assert "'answer' deve essere true (sì) o false (no)" in issue.message


def test_key_of_another_type():
    issue = only_issue(
        """
        questions:
          - id: q1
            type: true_false
            text: Vero?
            answer: true
            options: []
        """
    )
    assert issue.line == FIRST + 5
    assert issue.message == "domanda 'q1': 'options' non si usa nelle domande di tipo 'true_false'"


def test_key_of_another_type_with_a_hint():
    issue = only_issue("questions:\n  - {id: q1, type: true_false, text: A, answers: true}\n")
    assert issue.line == FIRST + 1
    assert issue.message == (
        "domanda 'q1': 'answers' non si usa nelle domande di tipo 'true_false' "
        "(forse intendevi 'answer'?)"
    )


def test_repeated_key():
    issue = only_issue(
        """
        questions:
          - id: q1
            type: true_false
            text: Vero?
            answer: true
            answer: false
        """
    )
    assert issue.line == FIRST + 5
    assert "la chiave 'answer' è ripetuta" in issue.message


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("", "il blocco quiz è vuoto"),
        ("# solo un commento\n", "il blocco quiz è vuoto"),
        ("- una lista\n", "il blocco quiz deve essere un gruppo di chiavi"),
        ("pass_mark: 80\n", "manca la chiave obbligatoria 'questions'"),
        ("questions: []\n", "'questions' deve avere almeno 1 elementi"),
        ("questions:\n  - solo testo\n", "ogni domanda deve essere un gruppo di chiavi"),
        ("a: 1\n---\nb: 2\n", "'---'"),
        ("questions: [" * 3000, "troppi livelli annidati"),
    ],
)
def test_unusable_blocks(source: str, expected: str):
    found = issues(source)
    assert any(expected in issue.message for issue in found), [str(i) for i in found]
    assert all(issue.line is not None and issue.line >= FIRST for issue in found)


def test_too_many_questions():
    questions = "".join(
        f"  - {{id: q{n}, type: true_false, text: Domanda {n}, answer: true}}\n" for n in range(201)
    )
    issue = only_issue("questions:\n" + questions)
    assert issue.line == FIRST + 1
    assert "al massimo 200 elementi (trovati 201)" in issue.message


def test_text_too_long():
    issue = only_issue(
        f"questions:\n  - id: q1\n    type: true_false\n    answer: true\n    text: {'a' * 5001}\n"
    )
    assert issue.line == FIRST + 4
    assert "troppo lungo: 5001 caratteri (massimo 5000)" in issue.message


def test_every_problem_is_reported_in_line_order():
    found = issues(
        """
        pass_mark: 200
        questions:
          - id: q1
            type: single
            text: Quale?
            options:
              - {text: A, correct: true}
              - {text: B, correct: true}
          - id: q2
            type: sconosciuto
            text: Boh
          - id: q3
            type: short
            text: ''
            answers: [ok]
            points: zero
        """
    )
    assert [issue.line for issue in found] == [FIRST, FIRST + 5, FIRST + 9, FIRST + 13, FIRST + 15]
    assert str(FormatError(found)).count(FILE) == 5


def test_validator_for_the_courses_import_hook():
    assert validate_quiz_block(doc_example(), FILE, FIRST) == []
    found = validate_quiz_block("questions: 3\n", FILE, 7)
    assert [(i.file, i.line) for i in found] == [(FILE, 7)]


def test_shipped_content_quizzes_parse():
    """Every quiz block of the starter courses in content/ is valid for this parser."""
    root = Path(__file__).parents[2] / "content"
    blocks = 0
    for path in sorted(root.glob("*/[0-9]*.md")):
        lines = path.read_text("utf-8").split("\n")
        if "```quiz" not in lines:
            continue
        start = lines.index("```quiz") + 1
        end = lines.index("```", start)
        source = "\n".join(lines[start:end]) + "\n"
        assert validate_quiz_block(source, path.name, start + 1) == [], path
        blocks += 1
    assert blocks >= 1
