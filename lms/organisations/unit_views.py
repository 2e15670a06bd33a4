"""The unit tree of an organisation: see it, create, rename, move and close units, and
place people in them.

Admins and the organisation's referents manage the whole tree. A unit referent sees
their unit and the units below it, and may create, rename, move and close units
strictly below their own (never their own unit, never outside it) and place the people
of their subtree; only admins and organisation referents make unit referents. A unit
the reader may not see answers 404, like one of another organisation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from wtforms import SelectChoice

from lms import db
from lms.authz import current_person, organisation_manager, staff_scope
from lms.errors import NotFound, ServiceError
from lms.organisations import services
from lms.organisations.blueprint import bp
from lms.organisations.models import Membership, OrganisationUnit
from lms.organisations.policy import CURRENT_UNIT_REFERENT, can_manage_organisation
from lms.organisations.unit_forms import (
    TOP_LEVEL,
    CloseUnitForm,
    MoveUnitForm,
    PlaceMemberForm,
    RenameUnitForm,
    UnitForm,
)
from lms.organisations.unit_staff import place_person
from lms.organisations.units import (
    StaffScope,
    close_unit,
    create_unit,
    get_unit,
    move_unit,
    rename_unit,
    unit_label,
    units_of,
)


@dataclass(frozen=True)
class Reader:
    """What the signed-in person may do in this organisation's tree."""

    scope: StaffScope
    own: frozenset[int]  # the units they are referent of (none for managers)
    manager: bool  # admin or referent of the whole organisation

    def sees(self, unit: OrganisationUnit) -> bool:
        return self.scope.unit_ids is None or unit.id in self.scope.unit_ids

    def edits(self, unit: OrganisationUnit) -> bool:
        return self.manager or (self.sees(unit) and unit.id not in self.own)

    def may_hold(self, parent: OrganisationUnit | None) -> bool:
        """Whether a unit may be put under ``parent`` (None: at the top) by this reader."""
        if parent is None:
            return self.manager
        return parent.is_open and (self.manager or self.sees(parent))


def _reader(org_id: int) -> Reader:
    scope = staff_scope()
    manager = can_manage_organisation(current_user, org_id)
    own: frozenset[int] = frozenset()
    if not manager:
        own = frozenset(
            unit_id
            for unit_id in db.session.scalars(
                select(Membership.unit_id).where(
                    Membership.user_id == current_user.id,
                    Membership.organisation_id == org_id,
                    CURRENT_UNIT_REFERENT,
                )
            )
            if unit_id is not None
        )
    return Reader(scope=scope, own=own, manager=manager)


def _visible_unit(org_id: int, unit_id: int, reader: Reader, *, edit: bool = True) -> Any:
    """The unit, 404 when unknown, of another organisation or outside the reader's
    subtree; 403 when they see it but may not change it (their own unit)."""
    unit = get_unit(db.session, unit_id, org_id)
    if not reader.sees(unit):
        raise NotFound(_("Unità non trovata."))
    if edit and not reader.edits(unit):
        abort(403)
    return unit


def _labels(units: list[OrganisationUnit]) -> dict[int, str]:
    names = {u.id: u.name for u in units}
    return {u.id: unit_label(u, names) for u in units}


def _parent_choices(
    org_id: int, reader: Reader, *, top: bool = True
) -> tuple[list[SelectChoice], dict[str, OrganisationUnit]]:
    units = units_of(db.session, org_id, open_only=True)
    labels = _labels(units_of(db.session, org_id))
    allowed = {str(u.id): u for u in units if reader.may_hold(u)}
    choices = [SelectChoice(key, labels[unit.id]) for key, unit in allowed.items()]
    if top and reader.may_hold(None):
        choices.insert(0, SelectChoice(TOP_LEVEL, _("Nessuna: unità principale dell'ente")))
    return choices, allowed


@dataclass
class Node:
    unit: OrganisationUnit
    direct: int
    total: int = 0
    children: list[Node] = field(default_factory=list)


@bp.route("/<id:org_id>/units/")
@organisation_manager(units=True)
def units(org_id: int) -> Any:
    organisation = services.get_organisation(db.session, org_id)
    reader = _reader(org_id)
    every = units_of(db.session, org_id)
    labels = _labels(every)
    visible = [u for u in every if reader.sees(u)]
    counts = dict(
        db.session.execute(
            select(Membership.unit_id, func.count(Membership.id))
            .where(reader.scope.memberships(), Membership.ended_at.is_(None))
            .group_by(Membership.unit_id)
        ).all()
    )
    nodes = {u.id: Node(u, int(counts.get(u.id, 0))) for u in visible if u.is_open}
    roots: list[Node] = []
    for node in nodes.values():  # tree order: parents come first
        parent = nodes.get(node.unit.parent_id) if node.unit.parent_id else None
        (parent.children if parent else roots).append(node)
    for node in nodes.values():
        node.total = sum(
            other.direct for other in nodes.values() if other.unit.path.startswith(node.unit.path)
        )
    closed = [u for u in visible if not u.is_open]
    return render_template(
        "organisations/units.html",
        organisation=organisation,
        roots=roots,
        closed=closed,
        labels=labels,
        reader=reader,
        without_unit=int(counts.get(None, 0)) if reader.manager else None,
    )


@bp.route("/<id:org_id>/units/new", methods=["GET", "POST"])
@organisation_manager(units=True)
def new_unit(org_id: int) -> Any:
    organisation = services.get_organisation(db.session, org_id)
    reader = _reader(org_id)
    form = UnitForm()
    form.parent.choices, allowed = _parent_choices(org_id, reader)
    if not form.parent.choices:
        abort(403)  # a unit referent whose units are all closed: nowhere to create
    if not form.is_submitted():
        wanted = request.args.get("parent", "")
        form.parent.data = wanted if wanted in allowed else form.parent.choices[0].value
    if form.validate_on_submit():
        try:
            unit = create_unit(
                db.session,
                organisation,
                form.name.data,
                parent=allowed.get(form.parent.data),
                actor=current_person(),
            )
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Unità creata: %(name)s.", name=unit.name), "success")
            return redirect(url_for("organisations.units", org_id=org_id))
    return render_template("organisations/units_form.html", organisation=organisation, form=form)


def _saved(change: Callable[[], object], message: str) -> bool:
    """Run a unit service and commit, flashing ``message``; on its refusal roll back and
    flash why. True when saved."""
    try:
        change()
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
        return False
    db.session.commit()
    flash(message, "success")
    return True


@bp.route("/<id:org_id>/units/<id:unit_id>/rename", methods=["GET", "POST"])
@organisation_manager(units=True)
def rename_unit_page(org_id: int, unit_id: int) -> Any:
    unit = _visible_unit(org_id, unit_id, _reader(org_id))
    form = RenameUnitForm(data={"name": unit.name} if request.method == "GET" else None)
    if form.validate_on_submit() and _saved(
        lambda: rename_unit(db.session, unit, form.name.data, actor=current_person()),
        _("Unità rinominata."),
    ):
        return redirect(url_for("organisations.units", org_id=org_id))
    return render_template(
        "organisations/units_rename.html", organisation=unit.organisation, unit=unit, form=form
    )


@bp.route("/<id:org_id>/units/<id:unit_id>/move", methods=["GET", "POST"])
@organisation_manager(units=True)
def move_unit_page(org_id: int, unit_id: int) -> Any:
    reader = _reader(org_id)
    unit = _visible_unit(org_id, unit_id, reader)
    form = MoveUnitForm()
    form.parent.choices, allowed = _parent_choices(org_id, reader)
    if not form.is_submitted():
        form.parent.data = str(unit.parent_id) if unit.parent_id else TOP_LEVEL
    if form.validate_on_submit() and _saved(
        lambda: move_unit(db.session, unit, allowed.get(form.parent.data), actor=current_person()),
        _("Unità spostata."),
    ):
        return redirect(url_for("organisations.units", org_id=org_id))
    return render_template(
        "organisations/units_move.html", organisation=unit.organisation, unit=unit, form=form
    )


@bp.route("/<id:org_id>/units/<id:unit_id>/close", methods=["GET", "POST"])
@organisation_manager(units=True)
def close_unit_page(org_id: int, unit_id: int) -> Any:
    """GET asks for confirmation; POST closes (refused while people work there)."""
    unit = _visible_unit(org_id, unit_id, _reader(org_id))
    form = CloseUnitForm()
    if request.method == "GET":
        return render_template(
            "organisations/units_close.html", organisation=unit.organisation, unit=unit, form=form
        )
    if not form.validate_on_submit():
        abort(400)
    try:
        close_unit(db.session, unit, actor=current_person())
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Unità chiusa: %(name)s. La sua storia resta.", name=unit.name), "success")
    return redirect(url_for("organisations.units", org_id=org_id))


def _placeable(org_id: int, reader: Reader) -> list[Membership]:
    """Current members the reader may place: everyone for managers; for a unit referent,
    the people of their subtree who are not referents (nor themselves)."""
    members = services.current_members(db.session, org_id)
    if reader.manager:
        return members
    ids = reader.scope.unit_ids or frozenset()
    return [
        m
        for m in members
        if m.unit_id in ids and not m.is_referent and m.user_id != current_user.id
    ]


@bp.route("/<id:org_id>/units/people", methods=["GET", "POST"])
@organisation_manager(units=True)
def place_people(org_id: int) -> Any:
    organisation = services.get_organisation(db.session, org_id)
    reader = _reader(org_id)
    members = _placeable(org_id, reader)
    by_id = {str(m.user_id): m for m in members}
    form = PlaceMemberForm()
    form.person.choices = [SelectChoice(key, m.user.full_name) for key, m in by_id.items()]
    units = units_of(db.session, org_id, open_only=True)
    labels = _labels(units_of(db.session, org_id))
    allowed = {str(u.id): u for u in units if reader.may_hold(u)}
    form.unit.choices = [SelectChoice(key, labels[u.id]) for key, u in allowed.items()]
    if reader.manager:
        form.unit.choices.insert(0, SelectChoice(TOP_LEVEL, _("Nessuna unità: l'ente intero")))
    if not form.is_submitted():
        chosen = by_id.get(request.args.get("person", ""))
        if chosen is not None:
            form.person.data = str(chosen.user_id)
            form.unit.data = str(chosen.unit_id) if chosen.unit_id else TOP_LEVEL
            form.is_referent.data = chosen.is_referent
    if form.validate_on_submit():
        membership = by_id[form.person.data]
        unit = allowed.get(form.unit.data)
        referent = bool(form.is_referent.data) if reader.manager else None
        if membership.user_id == current_user.id:
            flash(_("Non puoi cambiare qui la tua stessa posizione."), "error")
        elif (
            referent
            and unit is None
            and not (membership.is_referent and membership.unit_id is None)
            and not current_user.is_admin
        ):
            flash(
                _(
                    "Per nominare referenti dell'intero ente rivolgiti all'amministrazione; "
                    "scegli un'unità per nominare una o un referente di unità."
                ),
                "error",
            )
        else:
            try:
                place_person(
                    db.session, membership, unit, referent=referent, actor=current_person()
                )
            except ServiceError as error:
                db.session.rollback()
                flash(str(error), "error")
            else:
                db.session.commit()
                flash(
                    _("Posizione di %(name)s aggiornata.", name=membership.user.full_name),
                    "success",
                )
                return redirect(url_for("organisations.place_people", org_id=org_id))
    return render_template(
        "organisations/units_people.html",
        organisation=organisation,
        members=members,
        labels=labels,
        form=form,
        reader=reader,
    )
