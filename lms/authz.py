"""Authorisation in one place: every view declares who may use it.

Decorators wrap a view and record the declaration on it (``view.lms_access``)
so that the access-control test can enumerate ``app.url_map`` and fail on any
route that declares nothing. Organisation scoping uses the same policy
functions (``lms.organisations.policy``) as the services.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from flask import abort, g, request
from flask_login import current_user

from lms.accounts.models import Role, User

if TYPE_CHECKING:
    from lms.organisations.scope import StaffScope

F = TypeVar("F", bound=Callable[..., Any])
ACCESS_ATTR = "lms_access"


def _declare(view: Callable[..., Any], wrapper: Callable[..., Any], access: str) -> None:
    setattr(wrapper, ACCESS_ATTR, access)


def _unauthenticated() -> Any:
    from flask import current_app

    return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]


def public(view: F) -> F:
    """Anyone, logged in or not (login page, verification, health)."""
    setattr(view, ACCESS_ATTR, "public")
    return view


def authenticated(view: F) -> F:
    """Any active, logged-in user."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return _unauthenticated()
        return view(*args, **kwargs)

    _declare(view, wrapper, "authenticated")
    return wrapper  # type: ignore[return-value]


def roles_required(*roles: Role) -> Callable[[F], F]:
    """A logged-in user holding at least one of ``roles`` (admins always pass)."""
    names = tuple(str(r) for r in roles)

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return _unauthenticated()
            if not current_user.has_role(Role.ADMIN, *names):
                abort(403)
            return view(*args, **kwargs)

        _declare(view, wrapper, "roles:" + ",".join(names))
        return wrapper  # type: ignore[return-value]

    return decorator


def organisation_manager(param: str = "org_id", *, units: bool = False) -> Callable[[F], F]:
    """Admins, or a current referent of the organisation named by URL ``param``.

    With ``units``, also a referent of some of its units: the view then shows only what
    :func:`staff_scope` allows (their units and those below). Views that do not scope
    their data leave ``units`` off, and unit referents get 403 there.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from lms.organisations.policy import staff_scope as scope_of

            if not current_user.is_authenticated:
                return _unauthenticated()
            org_id = kwargs.get(param, request.view_args.get(param) if request.view_args else None)
            scope = None if org_id is None else scope_of(current_user, int(org_id))
            if scope is None or not (units or scope.whole_organisation):
                abort(403)
            g.lms_staff_scope = scope
            return view(*args, **kwargs)

        _declare(view, wrapper, f"organisation_manager:{param}" + (":units" if units else ""))
        return wrapper  # type: ignore[return-value]

    return decorator


def staff_scope() -> StaffScope:
    """The scope :func:`organisation_manager` granted, narrowed to the unit the reader
    chose (``?unit=<id>``: that unit and those below it) when it lies within it.

    An unknown or foreign unit is 404, so that nobody learns another unit's id.
    """
    from lms import db
    from lms.organisations.scope import subtree_ids

    scope: StaffScope | None = g.get("lms_staff_scope")
    if scope is None:
        raise RuntimeError("staff_scope() needs a view declared organisation_manager")
    unit_id = request.args.get("unit", type=int)
    if unit_id is None:
        return scope
    from lms.organisations.models import OrganisationUnit

    unit = db.session.get(OrganisationUnit, unit_id)
    if unit is None or unit.organisation_id != scope.organisation_id:
        abort(404)
    if scope.unit_ids is not None and unit_id not in scope.unit_ids:
        abort(404)
    return scope.narrowed_to(subtree_ids(db.session, [unit_id]))


def current_person() -> User:
    """The signed-in person as the ``User`` itself (not the proxy), to hand to services.

    Only for views declared ``authenticated`` or stricter: anyone else is a bug here.
    """
    person = current_user._get_current_object()  # type: ignore[attr-defined]
    if not isinstance(person, User):
        raise RuntimeError("current_person() needs a signed-in person: declare the view")
    return person


def access_of(view: Callable[..., Any]) -> str | None:
    return getattr(view, ACCESS_ATTR, None)
