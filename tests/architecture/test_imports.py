"""The dependency rules of ``imports.py``: kept by the real tree (every violation listed
with file and line), and caught on a small tree written for the purpose, where the checker
must find each kind of wrong import, with its line, and nothing else."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from textwrap import dedent

import pytest

from tests.architecture.imports import RULES, Violation, check, plugin_packages, report

ROOT = Path(__file__).resolve().parents[2]

# Every rule, on the real tree.
KEPT = list(RULES)


@pytest.fixture(autouse=True)
def _transaction() -> None:
    """Replaces the suite's rollback fixture here: these tests read source files and
    need neither the app nor its database (they run even when the app cannot start)."""


@cache
def real_tree() -> tuple[Violation, ...]:
    return tuple(check(ROOT, plugin_packages(ROOT / "pyproject.toml")))


def test_the_real_plugins_are_found() -> None:
    plugins = plugin_packages(ROOT / "pyproject.toml")
    assert "courses" in plugins
    assert all((ROOT / name / "__init__.py").is_file() for name in plugins)


@pytest.mark.parametrize("rule", KEPT)
def test_the_tree_keeps_the_rule(rule: str) -> None:
    assert rule in RULES
    broken = [v for v in real_tree() if v.rule == rule]
    assert not broken, "\n" + report(broken)


# Two plugins, alpha and beta, and a core. Three wrong imports (marked WRONG) among
# allowed ones: a plugin using another's public face, relative imports, a back-import
# under TYPE_CHECKING (never runs, so no cycle).
FIXTURE = {
    "pyproject.toml": """
        [project.entry-points."lms.plugins"]
        alpha = "alpha.plugin:plugin"
        beta = "beta.plugin:plugin"
    """,
    "lms/__init__.py": """
        from lms.app import create_app
    """,
    "lms/app.py": """
        from lms import helpers


        def create_app():
            settings = {}
            import alpha.plugin  # WRONG: the core imports a plugin
    """,
    "lms/helpers.py": """
        from __future__ import annotations

        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            from lms.app import create_app
    """,
    "alpha/__init__.py": "",
    "alpha/plugin.py": """
        from beta.api import register
        from lms import helpers
    """,
    "alpha/views.py": """
        from . import plugin
        from beta.models import Thing  # WRONG: another plugin's internals
    """,
    "beta/__init__.py": "",
    "beta/plugin.py": """
        from .api import register
    """,
    "beta/api.py": """
        from .models import Thing


        def register():
            pass
    """,
    "beta/models.py": """
        class Thing:
            def owner(self):
                name = "beta"
                from beta import api  # WRONG: late, still a cycle with beta.api
    """,
}


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def test_plugins_are_read_from_the_entry_points(tmp_path: Path) -> None:
    root = write_tree(tmp_path, FIXTURE)
    assert plugin_packages(root / "pyproject.toml") == ["alpha", "beta"]


def test_the_checker_finds_each_wrong_import_and_nothing_else(tmp_path: Path) -> None:
    root = write_tree(tmp_path, FIXTURE)
    found = check(root, plugin_packages(root / "pyproject.toml"))
    assert found == [
        Violation(
            "core-imports-plugin",
            "core-imports-plugin: lms.app -> alpha.plugin",
            "lms/app.py:6: imports alpha.plugin (late, inside a function)",
        ),
        Violation(
            "feature-internals",
            "feature-internals: alpha.views -> beta.models",
            "alpha/views.py:2: imports beta.models",
        ),
        Violation(
            "cycle",
            "cycle: beta.api <-> beta.models",
            "beta.api -> beta.models -> beta.api (beta/api.py:1: imports beta.models; "
            "beta/models.py:4: imports beta.api (late, inside a function))",
        ),
    ]
    assert report(found).splitlines()[0] == "the core (lms) imports no plugin package:"


def test_type_checking_imports_count_for_layers(tmp_path: Path) -> None:
    """A type from another plugin's internals is still a dependency on them."""
    files = {
        **FIXTURE,
        "alpha/types.py": """
            from typing import TYPE_CHECKING

            if TYPE_CHECKING:
                from beta.models import Thing
        """,
    }
    root = write_tree(tmp_path, files)
    keys = [v.key for v in check(root, ["alpha", "beta"]) if v.rule == "feature-internals"]
    assert keys == [
        "feature-internals: alpha.types -> beta.models",
        "feature-internals: alpha.views -> beta.models",
    ]


def test_without_the_wrong_imports_the_tree_is_clean(tmp_path: Path) -> None:
    """The allowed imports of the fixture stay allowed once the wrong ones are gone."""
    fixed = {
        name: "\n".join(line for line in text.splitlines() if "WRONG" not in line)
        for name, text in FIXTURE.items()
    }
    root = write_tree(tmp_path, fixed)
    assert check(root, ["alpha", "beta"]) == []
