"""The one YAML reader with lines (``lms/yamlsafe.load_located`` and ``lms/yamlnodes.Reader``):
where things are, how the core words problems, and one alias policy for both."""

from __future__ import annotations

import pytest

from lms import yamlsafe
from lms.errors import FormatError
from lms.yamlnodes import Reader
from tests.core.yaml_attacks import ALIAS_BUDGET, alias_bomb


@pytest.fixture(autouse=True)
def _context(app):
    with app.app_context():
        yield


def test_located_data_knows_the_line_of_every_key_and_item():
    text = "title: Corso\naudiences:\n  - polizia\n  - sanita\nhours: 3\n"
    doc, issues = yamlsafe.load_located(text, file="course.md", first_line=2)
    assert issues == [] and doc is not None
    assert doc.data == {"title": "Corso", "audiences": ["polizia", "sanita"], "hours": 3}
    assert doc.line("title") == 2 and doc.line("audiences") == 3
    assert doc.line("audiences", 1) == 5 and doc.line("hours") == 6
    assert doc.line("missing", 4) == 2  # nothing closer: the first line


def test_a_repeated_key_is_an_issue_at_its_second_line_and_the_data_is_kept():
    doc, issues = yamlsafe.load_located("language: it\nlanguage: en\n", file="f.md")
    assert [(i.line, i.message) for i in issues] == [(2, "chiave ripetuta: language")]
    assert doc is not None and doc.data == {"language": "en"}
    with pytest.raises(FormatError) as caught:  # the plain reader refuses it too
        yamlsafe.load("code: a\ncode: b\n", file="registry.yaml", first_line=3)
    assert [str(i) for i in caught.value.issues] == ["registry.yaml:4: chiave ripetuta: code"]


def test_one_alias_policy_expanded_within_the_node_limit_for_both_readers():
    text = "a: &opzioni [x, y]\nb: *opzioni\n"
    doc, issues = yamlsafe.load_located(text, file="f.yaml")
    assert issues == [] and doc is not None and doc.data == {"a": ["x", "y"], "b": ["x", "y"]}
    assert doc.line("b", 1) == 1  # an alias's items are where its anchor wrote them

    reader = Reader("f.yaml", 1)
    fields = reader.mapping(reader.compose(text, max_chars=1000), ("a", "b"), context="", what="x")
    assert fields is not None and reader.issues == []
    items = reader.sequence(fields["b"][1], key="b", context="", min_items=2, max_items=2)
    assert items is not None and [item.value for item in items] == ["x", "y"]

    bomb = alias_bomb()
    located, refused = yamlsafe.load_located(bomb, file="f.yaml", first_line=10)
    walker = Reader("f.yaml", 10)
    assert located is None and walker.compose(bomb, max_chars=10_000) is None
    assert [(i.line, ALIAS_BUDGET in i.message) for i in refused] == [(15, True)]
    assert [(i.line, i.message) for i in walker.issues] == [(i.line, i.message) for i in refused]


def test_the_core_reader_words_syntax_errors_with_a_hint_at_their_line():
    reader = Reader("f.yaml", 10)
    assert reader.compose("a: 1\nb: c: d\n", max_chars=1000) is None
    [issue] = reader.issues
    assert issue.line == 11 and issue.message.startswith("YAML non valido: un ':'")


def test_the_core_reader_refuses_long_text_and_accepts_an_empty_one():
    reader = Reader("f.yaml", 1)
    assert reader.compose("a: 1\n" * 10, max_chars=20) is None
    assert reader.issues[0].message == "YAML troppo lungo: 50 caratteri (al massimo 20)"
    empty = Reader("f.yaml", 1)
    assert empty.compose("# solo un commento\n", max_chars=100) is None and empty.issues == []
