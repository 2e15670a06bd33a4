"""What a request remembers so that pages stay cheap (issue 7), and when it forgets."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, render_template_string
from flask_babel import force_locale, refresh
from sqlalchemy import event, update

from lms import db
from lms.accounts.models import Role, User
from lms.organisations.models import Membership
from lms.organisations.policy import referent_organisation_ids
from lms.organisations.services import organisation_by_code
from tests.conftest import login, membership


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engine = app.extensions["lms"].engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _referent_queries(seen: list[str]) -> list[str]:
    return [s for s in seen if s.lstrip().startswith("SELECT lms_membership.organisation_id")]


def test_a_page_loads_user_roles_and_referent_organisations_once(app: Flask, make_user):
    referent = make_user(org="CDM-PL-NTDM", referent=True, roles=(Role.TRAINER,))
    client = app.test_client()
    login(client, referent.email)
    with statements(app) as seen:
        page = client.get("/courses/")
    assert page.status_code == 200
    user_queries = [s for s in seen if "FROM lms_user " in s]
    assert len(user_queries) == 1, user_queries  # roles and memberships joined in
    assert not _referent_queries(seen)  # the navigation asked four times: remembered
    html = page.get_data(as_text=True)
    org = organisation_by_code(db.session, "CDM-PL-NTDM")
    assert f"/certificates/organisations/{org.id}/" in html  # plugins' referent items
    assert "/courses/author" in html  # the trainer's item: the roles were loaded


def test_remembered_organisations_follow_membership_changes(app: Flask, make_user):
    referent = make_user(org="CDM-PL-NTDM", referent=True)
    org_id = organisation_by_code(db.session, "CDM-PL-NTDM").id
    with app.test_request_context("/"), statements(app) as seen:
        user = db.session.get(User, referent.id)
        assert referent_organisation_ids(user) == {org_id}
        assert referent_organisation_ids(user) == {org_id}
        assert len(_referent_queries(seen)) == 1

        row = membership(user, "CDM-PL-NTDM")
        row.is_referent = False  # not flushed yet: the query's autoflush sends it
        assert referent_organisation_ids(user) == set()
        row.is_referent = True
        db.session.flush()
        assert referent_organisation_ids(user) == {org_id}

        db.session.execute(
            update(Membership).where(Membership.id == row.id).values(is_referent=False)
        )
        assert referent_organisation_ids(user) == set()
        db.session.rollback()
        assert referent_organisation_ids(db.session.get(User, referent.id)) == {org_id}


def test_nothing_is_remembered_outside_a_request(app: Flask, make_user, in_app_context):
    referent = make_user(org="CDM-PL-NTDM", referent=True)
    with statements(app) as seen:
        referent_organisation_ids(referent)
        referent_organisation_ids(referent)
    assert len(_referent_queries(seen)) == 2


def test_template_translations_follow_the_locale(app: Flask):
    template = (
        "{{ _('Esci') }}|{{ _('%(n)d min', n=5) }}|{{ ngettext('%(num)d ora', '%(num)d ore', 2) }}"
    )
    with app.test_request_context("/"):
        italian = render_template_string(template)
        with force_locale("en"):
            english = render_template_string(template)
        again = render_template_string(template)
        with force_locale("en"):
            refresh()  # keeps the forced locale
            forced_refreshed = render_template_string(template)
    assert italian == again == "Esci|5 min|2 ore"
    assert english == forced_refreshed
    assert english.startswith("Log out|")
