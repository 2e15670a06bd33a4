"""Evidence profiles and accreditation as course.md declares them (courses.evidence,
courses.accreditation): parsed with lines, stored with the version, exported back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from courses import evidence, packaging
from courses.accreditation import accreditation_of
from courses.evidence import BUILT_IN, ProfileError, evidence_of, resolve
from courses.format import parse_bundle
from lms.errors import FormatError
from tests.courses.helpers import course_files
from tests.courses.test_evidence_import import bank, quiz_module

pytestmark = pytest.mark.usefixtures("in_app_context")

ACCREDITED = """evidence: ecm_fad
accreditation:
  body: ECM
  provider: "Provider 1234"
  event: "1234-5678"
  credits: 4.5
  valid_from: 2027-01-01
  valid_until: 2027-12-31
"""


def accredited_files(slug: str = "corso-prova") -> dict[str, bytes]:
    """A course under ACCREDITED with the final test ECM asks for: 3 questions per credit."""
    files = course_files(slug=slug, extra=ACCREDITED)
    files["01-primo.md"] = quiz_module("attempts: 5\n", bank(14))
    return files


def _issues(extra: str) -> list[tuple[str, int | None, str]]:
    with pytest.raises(FormatError) as caught:
        parse_bundle(course_files(extra=extra), [])
    return [(i.file, i.line, i.message) for i in caught.value.issues]


def test_a_built_in_profile_by_name_and_an_adjusted_one():
    assert resolve("ecm_fad") is BUILT_IN["ecm_fad"]
    adjusted = resolve({"base": "professional", "min_time_share": 0.5, "max_attempts": 3})
    assert adjusted.name == "professional+"
    assert (adjusted.min_time_share, adjusted.max_attempts) == (0.5, 3)
    assert adjusted.shuffle is True  # the rest from the base


def test_minimum_and_reread_seconds_follow_the_shares():
    profile = resolve({"base": "professional", "min_time_share": 0.5, "reread_share": 0.5})
    assert profile.minimum_seconds(12) == 360  # half of 12 minutes
    assert profile.reread_seconds(12) == 180
    assert BUILT_IN["ecm_fad"].minimum_seconds(7) == 420


@pytest.mark.parametrize(
    ("declared", "key"),
    [
        ("ecm", None),
        ({"min_time_share": 0.5}, "base"),
        ({"base": "awareness", "min_time_share": 1.5}, "min_time_share"),
        ({"base": "awareness", "max_attempts": -1}, "max_attempts"),
        ({"base": "awareness", "shuffle": "si"}, "shuffle"),
        ({"base": "awareness", "reveal_answers": "subito"}, "reveal_answers"),
        ({"base": "awareness", "tempo": 3}, "tempo"),
    ],
)
def test_wrong_declarations_are_refused_naming_the_key(declared, key):
    with pytest.raises(ProfileError) as caught:
        resolve(declared)
    assert caught.value.key == key and caught.value.message


def test_course_md_declares_profile_and_accreditation():
    bundle = parse_bundle(accredited_files(), [])
    assert bundle.evidence == "ecm_fad"
    assert bundle.accreditation is not None
    assert bundle.accreditation.credits == Decimal("4.5")
    assert bundle.accreditation.valid_until == dt.date(2027, 12, 31)


def test_wrong_profile_and_accreditation_are_refused_with_lines():
    extra = """evidence:
  base: professional
  min_time_share: 2
accreditation:
  body: ECN
  provider: ""
  event: "1"
  credits: 0
  valid_from: 2027-12-31
  valid_until: 2027-01-01
"""
    issues = _issues(extra)
    lines = {line for _file, line, _message in issues}
    # min_time_share is on line 13 of course.md (the helper's header has 11 lines before).
    assert [(f, m) for f, _l, m in issues if "min_time_share" in m] == [
        ("course.md", "'min_time_share' deve essere un numero da 0 a 1")
    ]
    assert len(issues) == 5, issues  # share, body, provider, credits, dates
    assert len(lines) == 5


def test_profile_and_accreditation_are_stored_and_exported_back(make_course, app):
    version = make_course(accredited_files("accreditato"))
    assert version.evidence == "ecm_fad"
    assert evidence_of(version) is BUILT_IN["ecm_fad"]
    accreditation = accreditation_of(version)
    assert accreditation is not None and accreditation.event == "1234-5678"
    assert accreditation.covers(dt.date(2027, 6, 1)) and not accreditation.covers(
        dt.date(2028, 1, 1)
    )
    exported = parse_bundle(packaging.version_files(version), [])
    assert exported.evidence == "ecm_fad" and exported.accreditation == accreditation


def test_a_course_without_declaration_follows_the_installation(make_course, app):
    version = make_course(course_files(slug="senza-profilo"))
    assert version.evidence is None
    assert evidence_of(version) == evidence.installation_profile()


def test_a_wrong_installation_profile_stops_the_app(tmp_path):
    from tests.conftest import make_test_app

    with pytest.raises(RuntimeError, match="LMS_EVIDENCE_PROFILE"):
        make_test_app(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite3'}", LMS_EVIDENCE_PROFILE="ecm")
