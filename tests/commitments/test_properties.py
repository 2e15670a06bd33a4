"""Property-based test of the staff importer: any file gives rows or a clear error."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from commitments.staff.files import read_staff_file
from lms.errors import FormatError, ServiceError

HEADER = "email;nome;cognome;profilo\n"
cells = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


def _check(name: str, data: bytes) -> None:
    try:
        parsed = read_staff_file(name, data)
    except (FormatError, ServiceError) as error:
        assert str(error)
    else:
        assert parsed.kind in ("csv", "xlsx")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=1500), st.sampled_from(["staff.csv", "staff.xlsx", "staff.txt"]))
def test_arbitrary_bytes(data: bytes, name: str):
    _check(name, data)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(cells, min_size=0, max_size=6), max_size=8),
    st.sampled_from([";", ",", "\t"]),
    st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
)
def test_arbitrary_tables(rows: list[list[str]], delimiter: str, encoding: str):
    text = HEADER.replace(";", delimiter) + "\n".join(delimiter.join(r) for r in rows)
    _check("staff.csv", text.encode(encoding, "replace"))
