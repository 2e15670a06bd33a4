"""The plugin contract: how a feature package joins the platform.

A plugin is an object (usually an instance of a :class:`Plugin` subclass)
exposed through the ``lms.plugins`` entry-point group::

    [project.entry-points."lms.plugins"]
    courses = "courses.plugin:plugin"

The core discovers plugins, orders them by ``requires`` and, in this order,
for each one:

1. imports ``models`` (so its tables join ``lms.db.Base.metadata``);
2. registers ``blueprint()`` under the platform's URL prefix + ``url_prefix``;
   its name must equal the plugin's ``name`` (and so its template folder,
   ``templates/<name>/``, and its table prefix);
3. mounts ``cli()`` as ``lms <name> ...``;
4. calls ``init_app(app)`` to connect signals (``sender=app``) and to fill the
   app's registries.

Registries are the extension points: a package that reads one declares it as an
:class:`ExtensionPoint` (``courses.extensions.FENCED_BLOCKS``, ...), a plugin adds
to it in ``init_app`` with ``registry(POINT, app).add(key, entry)``, and readers
ask ``registry(POINT)`` of the current app. They live in ``LMSState.registries``,
one set per app: two apps in one process never see each other's entries, and
nothing is registered at import time. The points today: ``courses.api.FENCED_BLOCKS``
(a plugin's ```name blocks in lessons), ``courses.api.COMPLETION_REQUIREMENTS`` (extra
conditions on a course's completion), ``quizzes.question_types.QUESTION_TYPES``.
Menu entries, dashboard widgets and personal data stay methods of the plugin below.
Session hooks go on the app's own ``LMSState.session_class``.

``lms demo`` calls ``demo_data(session)`` of each plugin after the core's;
personal-data export and erasure call each plugin's ``privacy()`` provider;
retention asks ``active_until()`` how long a person still counts as in training.

At request time the core asks every plugin for ``nav_items(user)`` (menu
entries) and ``dashboard_widgets(user)`` (fragments on the home page).

Migrations are not part of the contract: one Alembic history in ``migrations/``
(:mod:`lms.migrate`) holds the core's and every plugin's revisions, each plugin's
under a branch label of its name, upgraded together. Plugins' tables have foreign
keys to the core's and to each other's (quizzes and commitments to courses), so
their revisions depend on one another's anyway, and an installation ships every
plugin in one package (a plugin left out by ``LMS_PLUGINS`` still has its tables).

Nothing happens at import time: discovery and loading run in ``LMS.init_app``.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import click
from flask import Blueprint, Flask, current_app

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy import ColumnElement
    from sqlalchemy.orm import Session

    from lms.accounts.models import User

ENTRY_POINT_GROUP = "lms.plugins"
log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class ExtensionPoint(Generic[T]):
    """Names a per-app registry of ``T``; declared by the package that reads it."""

    name: str


class Registry(Generic[T]):
    """One app's entries for one extension point, by key, in registration order."""

    def __init__(self, point: ExtensionPoint[T]) -> None:
        self.point = point
        self._entries: dict[str, T] = {}

    def add(self, key: str, entry: T) -> T:
        """Register ``entry`` under ``key``; a second, different entry is a plugin error."""
        existing = self._entries.get(key)
        if existing is not None and existing is not entry:
            raise PluginError(f"{self.point.name}: {key!r} is already registered")
        self._entries[key] = entry
        return entry

    def get(self, key: str) -> T | None:
        return self._entries.get(key)

    def __getitem__(self, key: str) -> T:
        return self._entries[key]

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._entries.values()))

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self) -> list[str]:
        return list(self._entries)

    def items(self) -> list[tuple[str, T]]:
        return list(self._entries.items())


class Registries:
    """Every registry of one app (``LMSState.registries``), created when first asked."""

    def __init__(self) -> None:
        self._by_name: dict[str, Registry[Any]] = {}

    def of(self, point: ExtensionPoint[T]) -> Registry[T]:
        found = self._by_name.get(point.name)
        if found is None:
            found = self._by_name[point.name] = Registry(point)
        return found

    def names(self) -> list[str]:
        return sorted(self._by_name)


def registry(point: ExtensionPoint[T], app: Flask | None = None) -> Registry[T]:
    """The registry of ``point`` in ``app`` (default: the current app)."""
    target = current_app if app is None else app
    return target.extensions["lms"].registries.of(point)


# Menu entries ordered at this value or later are work on other people's training
# (authoring, statistics, commitments, organisations, administration): the header shows
# them under one "Gestione" menu, so a referent's or an admin's menu stays one row.
MANAGEMENT_ORDER = 60


@dataclass(frozen=True)
class NavItem:
    """A menu entry: ``endpoint`` is a Flask endpoint name, ``label`` already translated;
    ``order`` places it (from ``MANAGEMENT_ORDER`` on, under "Gestione")."""

    label: str
    endpoint: str
    order: int = 100
    values: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class PrivacyProvider:
    """How a plugin exports and erases the personal data it holds (GDPR Art. 15, 17).

    ``tables`` names every table of the plugin with a reference to a person; a test
    fails if a table referencing ``lms_user`` is covered by no provider. ``export``
    returns JSON-compatible data about one person; ``erase`` removes or pseudonymises
    it, keeping what anonymous statistics need. Both run in the caller's transaction.
    """

    tables: frozenset[str]
    export: Callable[[Session, int], dict[str, Any]]
    erase: Callable[[Session, int], None]


@dataclass(frozen=True)
class Widget:
    """A dashboard fragment: a template rendered with ``context`` on the home page."""

    title: str
    template: str
    context: tuple[tuple[str, Any], ...] = ()
    order: int = 100


class Plugin:
    """Base class for plugins; override what you provide."""

    name: str = ""
    requires: tuple[str, ...] = ()
    models: str | None = None  # dotted module path holding the plugin's models
    url_prefix: str | None = None  # default: "/<name>"
    #: fenced blocks the plugin handles in lessons (``quiz``): every app hides them from the
    #: lesson text, even one that does not load the plugin, so that a block's content (a
    #: quiz's right answers) never shows as text where its handler is missing
    fenced_blocks: tuple[str, ...] = ()

    def blueprint(self) -> Blueprint | None:
        return None

    def cli(self) -> click.Group | None:
        return None

    def init_app(self, app: Flask) -> None:
        """Connect signals (``sender=app``) and fill registries. Called once per app."""

    def nav_items(self, user: User) -> Iterable[NavItem]:
        return ()

    def dashboard_widgets(self, user: User) -> Iterable[Widget]:
        return ()

    def public_widgets(self) -> Iterable[Widget]:
        """Fragments of the public home page, for visitors who are not signed in: nothing
        personal, nothing that needs an account (the public path, certificate checks)."""
        return ()

    def privacy(self) -> PrivacyProvider | None:
        """Declare personal data: required for any plugin whose tables reference a person."""
        return None

    def active_until(self, user_id: ColumnElement[int]) -> ColumnElement[dt.datetime] | None:
        """Until when the person whose id is ``user_id`` still counts as in training.

        A SQL expression correlated to the user row however deep the caller nests it
        (``correlate_except`` the plugin's own tables), NULL when nothing applies.
        Retention counts inactivity from the latest of the last sign-in and every
        plugin's answer: a certificate valid for three years keeps its holder's account.
        """
        return None

    def demo_data(self, session: Session) -> Iterable[str]:
        """Load the plugin's demo data (idempotently); yield lines to print."""
        return ()

    def after_upgrade(self, session: Session) -> Iterable[str]:
        """Bring derived data up to date once the schema is (``lms init-db``); yield lines."""
        return ()


class PluginError(RuntimeError):
    pass


def installed_fenced_blocks() -> frozenset[str]:
    """The fenced-block names declared by every installed plugin, loaded or not."""
    return frozenset(name for plugin in discover() for name in plugin.fenced_blocks)


def discover(allowed: Iterable[str] | None = None) -> list[Plugin]:
    """Load plugins from the entry-point group, filtered by ``allowed`` names."""
    wanted = None if allowed is None else set(allowed)
    found: dict[str, Plugin] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if wanted is not None and ep.name not in wanted:
            continue
        plugin = ep.load()
        if isinstance(plugin, type):
            plugin = plugin()
        if plugin.name != ep.name:
            raise PluginError(f"entry point {ep.name!r} names plugin {plugin.name!r}")
        found[plugin.name] = plugin
    if wanted is not None and (missing := wanted - found.keys()):
        raise PluginError(f"plugins not installed: {', '.join(sorted(missing))}")
    return order_by_requirements(found.values())


def order_by_requirements(plugins: Iterable[Plugin]) -> list[Plugin]:
    """Topological order so that a plugin loads after what it requires."""
    by_name = {p.name: p for p in plugins}
    ordered: list[Plugin] = []
    state: dict[str, str] = {}

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise PluginError(f"circular plugin requirements: {' -> '.join(chain + (name,))}")
        if name not in by_name:
            raise PluginError(f"plugin {chain[-1]!r} requires {name!r}, which is not installed")
        state[name] = "visiting"
        for dependency in by_name[name].requires:
            visit(dependency, chain + (name,))
        state[name] = "done"
        ordered.append(by_name[name])

    for name in sorted(by_name):
        visit(name, ())
    return ordered


def load_models(plugin: Plugin) -> None:
    if plugin.models:
        importlib.import_module(plugin.models)
