"""Issue 16: every CSV the platform writes goes through ``lms.exports.csv_writer``."""

from __future__ import annotations

import ast
import csv
import io
from pathlib import Path

import pytest

from lms.exports import csv_writer, safe_cell

ROOT = Path(__file__).resolve().parents[2]
SKIP = {".venv", ".git", "tests", "node_modules", "build", "dist", "instance"}
HELPER = ROOT / "lms" / "exports.py"
WRITERS = {"writer", "DictWriter"}


def sources() -> list[Path]:
    found = []
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if not SKIP.intersection(parts) and not any(p.startswith(".") for p in parts):
            found.append(path)
    return found


def _reaches_writer(node: ast.AST, aliases: set[str]) -> bool:
    if isinstance(node, ast.Attribute):  # csv.writer, c.DictWriter
        return (
            node.attr in WRITERS and isinstance(node.value, ast.Name) and node.value.id in aliases
        )
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):  # getattr(csv, "writer")
        return node.func.id == "getattr" and any(
            isinstance(a, ast.Constant) and a.value in WRITERS for a in node.args
        )
    return False


def csv_writer_uses(tree: ast.AST) -> list[int]:
    """Lines that reach csv.writer / csv.DictWriter, however the module is imported."""
    aliases = {"csv"}
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases |= {a.asname or a.name for a in node.names if a.name == "csv"}
        elif isinstance(node, ast.ImportFrom) and node.module == "csv":
            lines += [node.lineno for a in node.names if a.name in WRITERS | {"*"}]
    lines += [node.lineno for node in ast.walk(tree) if _reaches_writer(node, aliases)]
    return lines


def test_no_csv_writer_outside_the_helper():
    files = sources()
    assert HELPER in files and len(files) > 50  # the walk does see the tree
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in files
        if path != HELPER
        for line in csv_writer_uses(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    ]
    assert offenders == [], "write CSV with lms.exports.csv_writer: " + ", ".join(offenders)


@pytest.mark.parametrize(
    "snippet",
    [
        "import csv\ncsv.writer(x)",
        "import csv as c\nc.DictWriter(x, [])",
        "from csv import writer",
        "from csv import DictWriter as W",
        "getattr(csv, 'writer')",
    ],
)
def test_the_walk_finds_each_way_of_reaching_a_writer(snippet):
    assert csv_writer_uses(ast.parse(snippet))


def test_the_helper_neutralises_every_cell_and_keeps_the_dialect():
    out = io.StringIO()
    writer = csv_writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["=1+1", "+39 02 1234", "-Mario", "@SOMMA(A1)", 3, -2, "-2.500", "Anna"])
    writer.writerows([["\tx"], ["\rx"]])
    assert out.getvalue() == (
        "'=1+1;'+39 02 1234;'-Mario;'@SOMMA(A1);3;-2;-2.500;Anna\r\n'\tx\r\n\"'\rx\"\r\n"
    )
    assert list(csv.reader(io.StringIO(out.getvalue()), delimiter=";"))[0][0] == "'=1+1"
    assert safe_cell(safe_cell("=x")) == "'=x"  # idempotent: old callers may quote first
