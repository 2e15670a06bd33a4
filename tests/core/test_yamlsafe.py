"""The bounded YAML reader (``lms/yamlsafe.py``): what it refuses, where, and what it keeps.

Every test runs twice: with libyaml's parser and with PyYAML's own (used when libyaml is
missing or refuses a text); the limits belong to the composer, so both must agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from lms import yamlsafe
from lms.errors import FormatError, FormatIssue
from tests.core.yaml_attacks import ALIAS_BUDGET, TOO_DEEP, alias_bomb, nested_block, nested_flow

ROOT = Path(__file__).resolve().parents[2]
FIRST = 10  # the text starts at line 10 of its file, as a front matter or quiz block would


@pytest.fixture(params=["libyaml", "pure"], autouse=True)
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "pure":
        monkeypatch.setattr(yamlsafe, "_FastLoader", None)
    elif yamlsafe._FastLoader is None:
        pytest.skip("PyYAML without libyaml")
    return request.param


def refusal(text: str) -> FormatIssue:
    with pytest.raises(FormatError) as caught:
        yamlsafe.load(text, file="prova.yaml", first_line=FIRST)
    [issue] = caught.value.issues
    assert issue.file == "prova.yaml"
    return issue


def expanded_size(node: yaml.Node) -> int:
    """Nodes a naive walker visits, following every alias (only for small documents)."""
    if isinstance(node, yaml.ScalarNode):
        return 1
    if isinstance(node, yaml.SequenceNode):
        return 1 + sum(expanded_size(item) for item in node.value)
    return 1 + sum(expanded_size(k) + expanded_size(v) for k, v in node.value)


def test_the_bomb_is_refused_by_the_budget_at_the_line_that_crosses_it(app):
    with app.app_context():
        issue = refusal(alias_bomb())
    assert ALIAS_BUDGET in issue.message
    assert f"{yamlsafe.MAX_NODES}" in issue.message
    # a0..a4 and their keys count 74,738 nodes; the first alias on line a5 adds 66,430.
    assert issue.line == FIRST + 5


def test_the_budget_counts_what_a_tree_walker_visits(app, monkeypatch):
    text = alias_bomb(levels=4, width=3)
    size = expanded_size(yaml.compose(text, Loader=yaml.SafeLoader))
    assert size == 1 + (1 + 4) + (1 + 13) + (1 + 40) + (1 + 121)
    monkeypatch.setattr(yamlsafe.BoundedComposer, "max_nodes", size)
    assert yamlsafe.load(text, file="prova.yaml") == yaml.safe_load(text)
    monkeypatch.setattr(yamlsafe.BoundedComposer, "max_nodes", size - 1)
    with app.app_context():
        assert ALIAS_BUDGET in refusal(text).message


def test_many_nodes_without_aliases_are_refused_too(app, monkeypatch):
    monkeypatch.setattr(yamlsafe.BoundedComposer, "max_nodes", 1000)  # same rule, less time
    items = 1000 - 1  # with the list itself: exactly the limit
    assert len(yamlsafe.load("[" + "a," * items + "]", file="prova.yaml")) == items
    with app.app_context():
        issue = refusal("[" + "a," * (items + 1) + "]")
    assert "troppi elementi" in issue.message and issue.line == FIRST


def test_depth_up_to_the_limit_is_read_one_more_is_refused(app):
    # the mapping, then the lists: nested_flow(n) is n + 1 levels deep
    deepest = yamlsafe.load(nested_flow(yamlsafe.MAX_DEPTH - 1), file="prova.yaml")
    assert deepest["annidato"] is not None
    with app.app_context():
        issue = refusal(nested_flow(yamlsafe.MAX_DEPTH))
    assert TOO_DEEP in issue.message and f"{yamlsafe.MAX_DEPTH}" in issue.message


@pytest.mark.parametrize("levels", [1_000, 100_000])
@pytest.mark.parametrize("shape", [nested_flow, nested_block])
def test_deep_nesting_is_refused_before_any_deep_recursion(app, shape: Any, levels: int):
    """1,000 levels used to raise RecursionError; the composer stops at MAX_DEPTH."""
    with app.app_context():
        issue = refusal("titolo: prova\n" + shape(levels))
    assert TOO_DEEP in issue.message
    assert issue.line in (FIRST + 1, FIRST + 2)  # where the nesting is


def test_an_alias_inside_its_own_anchor_is_refused(app):
    with app.app_context():
        issue = refusal("ciclo: &c [uno, *c]\n")
    assert "è dentro il valore a cui rimanda" in issue.message and issue.line == FIRST


def test_text_longer_than_the_limit_is_refused_unread(app):
    with app.app_context(), pytest.raises(FormatError, match="YAML troppo lungo: 11 caratteri"):
        yamlsafe.load("chiave: 123", file="prova.yaml", max_chars=10)


def test_syntax_errors_keep_pyyaml_words_and_lines(app):
    with app.app_context():
        issue = refusal('titolo: "non chiuso\naltro: x\n')
        assert issue.message.startswith("YAML non valido:") and issue.line == FIRST
        assert "undefined alias" in refusal("a: *nessuno\n").message
    with pytest.raises(yaml.YAMLError):  # compose leaves the wording to its caller
        yamlsafe.compose("a: [", file="prova.yaml")


@pytest.mark.parametrize(
    ("text", "line"),
    [("a: 1\nb: !!python/object:os.system x\n", FIRST + 1), ("data: 2024-02-30\n", FIRST)],
)
def test_values_python_cannot_hold_are_format_errors(app, text: str, line: int):
    with app.app_context():
        issue = refusal(text)
    assert issue.message.startswith("YAML non valido:") and issue.line == line


def test_aliases_within_the_budget_give_shared_values():
    data = yamlsafe.load("a: &x [1, 2]\nb: *x\n", file="prova.yaml")
    assert data == {"a": [1, 2], "b": [1, 2]}
    assert data["a"] is data["b"]  # not copied: the budget is about walkers, not memory


def shipped_yaml() -> list[str]:
    from courses.format import split_block, split_front_matter

    texts = []
    for path in sorted((ROOT / "content").glob("*/*.md")):
        front, body, _line, _issues = split_front_matter(path.read_text(encoding="utf-8"), "")
        texts.append(front)
        quiz = split_block(body, "quiz")[1]
        if quiz is not None:
            texts.append(quiz)
    texts.append((ROOT / "commitments" / "defaults.yaml").read_text(encoding="utf-8"))
    return texts


def test_shipped_yaml_reads_as_before_and_fits_limits_far_smaller(monkeypatch):
    """The starter courses and default commitments: the same values as ``yaml.safe_load``,
    and they would pass with a third of the depth and a hundredth of the nodes."""
    texts = shipped_yaml()
    assert len(texts) > 50
    monkeypatch.setattr(yamlsafe.BoundedComposer, "max_depth", yamlsafe.MAX_DEPTH // 3)
    monkeypatch.setattr(yamlsafe.BoundedComposer, "max_nodes", yamlsafe.MAX_NODES // 100)
    for text in texts:
        assert yamlsafe.load(text, file="x") == yaml.safe_load(text)
