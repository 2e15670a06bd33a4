"""Self-registration through the pages, as a person and a referent would use them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from lms import clock, db
from lms.accounts.models import User
from lms.organisations.units import StaffScope
from lms.registration import services
from lms.registration.models import RegistrationRequest, RegistrationRule
from tests.conftest import Outbox, csrf_token, login, membership, post_form
from tests.registration.helpers import ORG, audience, open_rule, org, unit_tree

CONFIRM = "http://lms.test/register/confirm/"
NEW_PASSWORD = "una password lunga 2026"


def _submit(
    client: FlaskClient,
    email: str,
    *,
    name: str = "Giulia Verdi",
    unit_id: int | None = None,
    code: str = ORG,
    **extra: Any,
) -> Any:
    """Send the registration form and let the work after the answer run (closing the
    response, as the server does once it has been sent)."""
    url = f"/register/{org(code).id}"
    response = post_form(
        client,
        url,
        {
            "full_name": name,
            "email": email,
            "unit": str(unit_id or 0),
            "audience": str(audience().id),
            "privacy": "y",
            **extra,
        },
    )
    response.close()
    return response


def _confirm(client: FlaskClient, link: str, password: str = NEW_PASSWORD) -> Any:
    path = link.removeprefix("http://lms.test")
    return post_form(client, path, {"password": password, "confirm": password})


def _pending(
    client: FlaskClient, outbox: Outbox, email: str, unit_id: int | None = None
) -> RegistrationRequest:
    _submit(client, email, unit_id=unit_id)
    link = outbox.links(CONFIRM)[-1]
    assert _confirm(client, link).status_code == 200
    request = db.session.scalar(
        select(RegistrationRequest).where(RegistrationRequest.email == email)
    )
    assert request is not None and request.status == "pending"
    return request


def _referent(make_user: Any, email: str = "referente@rete-milano.test") -> User:
    return make_user(email=email, org=ORG, referent=True)


def test_registration_is_off_by_default(client: FlaskClient) -> None:
    organisation = org()
    assert db.session.scalar(select(RegistrationRule)) is None
    page = client.get("/register/").get_data(as_text=True)
    assert f"/register/{organisation.id}" not in page
    assert "nessuna organizzazione accetta registrazioni" in page
    assert client.get(f"/register/{organisation.id}").status_code == 404
    assert client.get("/register/999999").status_code == 404


def test_a_disallowed_domain_is_refused_on_the_form(client: FlaskClient, outbox: Outbox) -> None:
    open_rule(domains=("comune.milano.it",))
    response = _submit(client, "giulia@gmail.com")
    assert response.status_code == 400
    assert "comune.milano.it" in response.get_data(as_text=True)
    assert outbox.messages() == []
    # a sub-domain is another domain
    assert _submit(client, "giulia@sub.comune.milano.it").status_code == 400
    assert _submit(client, "giulia@comune.milano.it").status_code == 200
    assert len(outbox.links(CONFIRM)) == 1


def test_the_join_code(client: FlaskClient, outbox: Outbox) -> None:
    rule = open_rule(join_code="NORD-2026")
    assert rule.join_code_hash and "NORD-2026" not in rule.join_code_hash
    response = _submit(client, "giulia@gmail.com", join_code="SUD-2026")
    assert response.status_code == 400
    assert "codice di adesione non è corretto" in response.get_data(as_text=True)
    assert _submit(client, "giulia@gmail.com").status_code == 400  # missing
    assert outbox.messages() == []
    assert _submit(client, "giulia@gmail.com", join_code=" NORD-2026 ").status_code == 200
    assert len(outbox.links(CONFIRM)) == 1


def test_pending_then_approved_then_the_person_signs_in(
    app: Flask, client: FlaskClient, outbox: Outbox, make_user: Any
) -> None:
    open_rule()
    north, _child, _south = unit_tree()
    referent = _referent(make_user)
    request = _pending(client, outbox, "giulia@gmail.com", unit_id=north.id)
    assert request.password_hash and check_password_hash(request.password_hash, NEW_PASSWORD)
    assert request.unit_id == north.id
    # not an account yet
    assert login(app.test_client(), "giulia@gmail.com", NEW_PASSWORD).status_code == 401
    # the confirmation link is spent
    again = client.get(outbox.links(CONFIRM)[-1].removeprefix("http://lms.test"))
    assert again.status_code == 400

    staff = app.test_client()
    assert login(staff, referent.email).status_code == 302
    page = staff.get(f"/register/organisations/{org().id}/requests")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Giulia Verdi" in text and "Comando Nord" in text
    approve = f"/register/organisations/{org().id}/requests/{request.id}/approve"
    form_url = f"/register/organisations/{org().id}/requests"
    assert post_form(staff, approve, {}, form_url=form_url).status_code == 302
    db.session.expire_all()
    assert request.status == "approved" and request.password_hash is None
    assert request.decided_by_id == referent.id
    mails = outbox.messages()
    assert "approvata" in str(mails[-1]["Subject"])
    # a second approval changes nothing and sends nothing
    assert post_form(staff, approve, {}, form_url=form_url).status_code == 302
    assert len(outbox.messages()) == len(mails)

    person = app.test_client()
    assert login(person, "giulia@gmail.com", NEW_PASSWORD).status_code == 302
    user = db.session.scalar(select(User).where(User.email == "giulia@gmail.com"))
    assert user is not None and request.user_id == user.id
    assert membership(user, ORG).unit_id == north.id
    assert membership(user, ORG).audience.code == "polizia_locale"


def test_refusal_needs_a_reason_which_the_person_receives(
    app: Flask, client: FlaskClient, outbox: Outbox, make_user: Any
) -> None:
    open_rule()
    referent = _referent(make_user)
    request = _pending(client, outbox, "giulia@gmail.com")
    staff = app.test_client()
    login(staff, referent.email)
    refuse = f"/register/organisations/{org().id}/requests/{request.id}/refuse"
    form_url = f"/register/organisations/{org().id}/requests"
    post_form(staff, refuse, {"reason": "  "}, form_url=form_url)
    db.session.expire_all()
    assert request.status == "pending"
    post_form(staff, refuse, {"reason": "Non risulti nel nostro organico."}, form_url=form_url)
    db.session.expire_all()
    assert request.status == "refused" and request.password_hash is None
    last = outbox.messages()[-1]
    assert last["To"] == "giulia@gmail.com"
    assert "Non risulti nel nostro organico." in last.get_content()
    assert db.session.scalar(select(User).where(User.email == "giulia@gmail.com")) is None
    # and it is no longer listed
    page = staff.get(form_url).get_data(as_text=True)
    assert "giulia@gmail.com" not in page


def test_an_allowed_domain_is_approved_at_once(client: FlaskClient, outbox: Outbox) -> None:
    open_rule(domains=("comune.milano.it",), auto=True)
    _submit(client, "Giulia@Comune.Milano.it")
    response = _confirm(client, outbox.links(CONFIRM)[-1])
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    assert client.get("/account/password").status_code == 200  # signed in
    user = db.session.scalar(select(User).where(User.email == "giulia@comune.milano.it"))
    assert user is not None
    assert membership(user, ORG).unit_id is None


def test_a_unit_referent_decides_only_for_their_units(
    app: Flask, client: FlaskClient, outbox: Outbox, make_user: Any
) -> None:
    open_rule()
    north, child, south = unit_tree()
    chief = make_user(email="nord@rete-milano.test", org=ORG, referent=True)
    membership(chief, ORG).unit_id = north.id
    db.session.commit()
    in_child = _pending(client, outbox, "figlia@gmail.com", unit_id=child.id)
    in_south = _pending(client, outbox, "sud@gmail.com", unit_id=south.id)
    no_unit = _pending(client, outbox, "ente@gmail.com")

    assert services.pending_count(db.session, StaffScope(org().id)) == 3
    scope = StaffScope(org().id, frozenset({north.id, child.id}))
    assert services.pending_count(db.session, scope) == 1

    staff = app.test_client()
    assert login(staff, chief.email).status_code == 302
    listing = f"/register/organisations/{org().id}/requests"
    page = staff.get(listing)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "figlia@gmail.com" in text
    assert "sud@gmail.com" not in text and "ente@gmail.com" not in text
    base = f"/register/organisations/{org().id}/requests"
    for other in (in_south, no_unit):
        url = f"{base}/{other.id}/approve"
        assert post_form(staff, url, {}, form_url=listing).status_code == 404
        url = f"{base}/{other.id}/refuse"
        assert post_form(staff, url, {"reason": "x"}, form_url=listing).status_code == 404
    # the organisation's rule is for the whole organisation's referents
    assert staff.get(f"/register/organisations/{org().id}/rule").status_code == 403
    assert (
        post_form(staff, f"{base}/{in_child.id}/approve", {}, form_url=listing).status_code == 302
    )
    db.session.expire_all()
    assert (in_child.status, in_south.status, no_unit.status) == ("approved", "pending", "pending")


def test_the_referent_edits_the_rule(app: Flask, make_user: Any) -> None:
    referent = _referent(make_user)
    staff = app.test_client()
    login(staff, referent.email)
    url = f"/register/organisations/{org().id}/rule"
    response = post_form(
        staff,
        url,
        {
            "enabled": "y",
            "domains": "Comune.Milano.it\n@asst-nord.it, comune.milano.it",
            "auto_approve_domain": "y",
            "join_code": "NORD-2026",
        },
    )
    assert response.status_code == 302
    rule = services.rule_of(db.session, org().id)
    assert rule is not None and rule.enabled and rule.auto_approve_domain
    assert rule.allowed_domains == ["comune.milano.it", "asst-nord.it"]
    assert check_password_hash(rule.join_code_hash or "", "NORD-2026")
    post_form(staff, url, {"enabled": "y", "domains": "", "auto_approve_domain": "y"})
    db.session.expire_all()
    assert rule.auto_approve_domain  # refused: auto-approval needs a domain
    post_form(staff, url, {"enabled": "y", "domains": "", "clear_join_code": "y"})
    db.session.expire_all()
    assert rule.join_code_hash is None and rule.allowed_domains == []
    assert staff.get(f"/register/organisations/{org('ASST-NIGUARDA').id}/rule").status_code == 403


def test_an_address_with_an_account_gets_a_reminder_not_a_request(
    client: FlaskClient, outbox: Outbox, make_user: Any
) -> None:
    open_rule()
    known = make_user(email="nota@gmail.com")
    assert _submit(client, known.email).status_code == 200
    assert db.session.scalar(select(RegistrationRequest)) is None
    (mail,) = outbox.messages()
    assert mail["To"] == known.email
    assert "http://lms.test/account/reset" in mail.get_content()
    assert outbox.links(CONFIRM) == []


def test_a_second_form_refreshes_the_request_and_spends_the_older_link(
    client: FlaskClient, outbox: Outbox
) -> None:
    open_rule()
    _submit(client, "giulia@gmail.com")
    clock.set_now(clock.now() + dt.timedelta(seconds=5))
    _submit(client, "giulia@gmail.com", name="Giulia Verdi Rossi")
    first, second = outbox.links(CONFIRM)
    assert db.session.scalar(select(func.count(RegistrationRequest.id))) == 1
    assert client.get(first.removeprefix("http://lms.test")).status_code == 400
    assert client.get(second.removeprefix("http://lms.test")).status_code == 200


def test_the_form_and_the_confirmation_are_throttled(
    app: Flask, client: FlaskClient, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_rule()
    for _ in range(3):  # per e-mail address: 3 an hour
        assert _submit(client, "giulia@gmail.com").status_code == 200
    refused = _submit(client, "giulia@gmail.com")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert len(outbox.links(CONFIRM)) == 3
    monkeypatch.setitem(app.config, "LMS_REGISTRATION_MAX_PER_ADDRESS", 5)
    assert _submit(client, "altra@gmail.com").status_code == 200
    assert _submit(client, "terza@gmail.com").status_code == 200  # the 5th counted
    assert _submit(client, "quarta@gmail.com").status_code == 429  # 5 from this address
    monkeypatch.setitem(app.config, "LMS_REGISTRATION_MAX_CONFIRM_PER_ADDRESS", 2)
    assert client.get("/register/confirm/forged").status_code == 400
    assert client.get("/register/confirm/forged").status_code == 400
    assert client.get("/register/confirm/forged").status_code == 429
    # an hour later, all is forgotten
    clock.set_now(clock.now() + dt.timedelta(hours=1, seconds=1))
    assert _submit(client, "giulia@gmail.com").status_code == 200


def test_prune_expires_unconfirmed_and_forgets_old_decisions(
    client: FlaskClient, outbox: Outbox
) -> None:
    open_rule()
    _submit(client, "giulia@gmail.com")
    request = db.session.scalar(select(RegistrationRequest))
    assert request is not None and request.status == "confirming"
    link = outbox.links(CONFIRM)[-1]
    now = clock.now()
    services.prune_expired(db.session, now + dt.timedelta(hours=47))
    db.session.commit()
    assert request.status == "confirming"
    services.prune_expired(db.session, now + dt.timedelta(hours=49))
    db.session.commit()
    db.session.expire_all()
    assert request.status == "expired"
    clock.set_now(now + dt.timedelta(hours=1))  # the token itself is still young
    assert client.get(link.removeprefix("http://lms.test")).status_code == 400
    deleted = services.prune_expired(db.session, now + dt.timedelta(days=91, hours=49))
    db.session.commit()
    assert deleted == 1 and db.session.scalar(select(RegistrationRequest)) is None


def test_unknown_requests_are_404(app: Flask, make_user: Any) -> None:
    referent = _referent(make_user)
    staff = app.test_client()
    login(staff, referent.email)
    listing = f"/register/organisations/{org().id}/requests"
    url = f"/register/organisations/{org().id}/requests/999999/approve"
    assert post_form(staff, url, {}, form_url=listing).status_code == 404
    assert staff.get(listing).status_code == 200


def test_the_login_link_fragment(app: Flask) -> None:
    with app.test_request_context():
        from flask import render_template

        assert "Registrati" not in render_template("registration/_login_link.html")
        open_rule()
        assert "/register/" in render_template("registration/_login_link.html")


def test_password_rules_apply_on_confirmation(client: FlaskClient, outbox: Outbox) -> None:
    open_rule()
    _submit(client, "giulia@gmail.com")
    link = outbox.links(CONFIRM)[-1]
    response = _confirm(client, link, "corta")
    assert response.status_code == 200 and "Conferma la registrazione" in response.get_data(
        as_text=True
    )
    response = _confirm(client, link, "giulia@gmail.com")
    assert "non può coincidere" in response.get_data(as_text=True)
    assert db.session.scalar(select(RegistrationRequest)).status == "confirming"  # type: ignore[union-attr]
    assert csrf_token(client, link.removeprefix("http://lms.test"))
