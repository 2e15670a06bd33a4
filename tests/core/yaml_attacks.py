"""Hostile YAML for the limit tests: an alias bomb and deep nesting (issue 16, point 2)."""

from __future__ import annotations

#: What the bounded reader says when it refuses each attack (see ``lms/yamlsafe.py``).
ALIAS_BUDGET = "una volta espansi gli alias"
TOO_DEEP = "troppi livelli annidati"


def alias_bomb(levels: int = 9, width: int = 9, *, prefix: str = "a") -> str:
    """A "billion laughs": ``levels`` keys, each a list of ``width`` aliases of the previous one.

    About 400 bytes (405) that stand for ``width ** levels`` (387 million) values once every alias
    is expanded, which is what a reader walking the nodes as a tree does.
    """
    lines = [f"{prefix}0: &{prefix}0 [" + ",".join(["ah"] * width) + "]"]
    for level in range(1, levels):
        aliases = ",".join([f"*{prefix}{level - 1}"] * width)
        lines.append(f"{prefix}{level}: &{prefix}{level} [{aliases}]")
    return "\n".join(lines) + "\n"


def nested_flow(levels: int, *, key: str = "annidato") -> str:
    """``key: [[[ ... ]]]``: ``levels`` lists inside each other on one line."""
    return f"{key}: " + "[" * levels + "]" * levels + "\n"


def nested_block(levels: int, *, key: str = "annidato") -> str:
    """``key:`` then ``- - - ... x``: block lists nested on one line (two bytes a level)."""
    return f"{key}:\n  " + "- " * levels + "x\n"


ATTACKS = {
    "alias-bomb": (alias_bomb(), ALIAS_BUDGET),
    "nested-1000": (nested_flow(1000), TOO_DEEP),
    "nested-100000": (nested_flow(100_000), TOO_DEEP),
    "nested-block-100000": (nested_block(100_000), TOO_DEEP),
}
