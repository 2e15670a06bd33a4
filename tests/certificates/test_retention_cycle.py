"""Retention against renewal (issue 16, point 8): a valid certificate keeps its holder's
account through the wait for renewal, and an account put to sleep comes back by the reset
link or the referent. The platform's default policy, the clock moved month by month."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask

from lms import clock, db
from lms.accounts.models import Role, User
from lms.retention import RetentionPolicy, RetentionReport, run_retention
from tests.conftest import PASSWORD, csrf_token, login, post_form

T0 = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
ORG = "CDM-PL-NTDM"


def months(n: float) -> dt.timedelta:
    return dt.timedelta(days=round(n * 30.44))


def retention_at(app: Flask, at: dt.datetime) -> RetentionReport:
    with clock.frozen(at), app.test_request_context():
        report = run_retention(db.session, RetentionPolicy.from_config(app))
        db.session.commit()
    return report


def reload(user: User) -> User:
    db.session.expire_all()
    found = db.session.get(User, user.id)
    assert found is not None
    return found


def signs_in(client: Any, user: User, at: dt.datetime) -> bool:
    with clock.frozen(at):
        response = login(client, user.email)
        if response.status_code != 302:
            return False
        client.post("/account/logout", data={"csrf_token": csrf_token(client, "/")})
    return True


def test_the_default_policy_is_shorter_than_a_three_year_certificate(app: Flask) -> None:
    # The finding: 24 months of inactivity against 36 months of validity.
    assert app.config["LMS_INACTIVE_MONTHS"] < 36


def test_complete_wait_35_months_then_renew(app: Flask, client, make_user, complete, outbox):
    with clock.frozen(T0):
        holder = make_user(org=ORG)
        bystander = make_user(org=ORG)  # signed in the same day, holds no certificate
    assert signs_in(client, holder, T0) and signs_in(client, bystander, T0)
    with clock.frozen(T0):
        first = complete(holder, completed_at=T0, renewal_months=36)
    assert first.expires_at is not None and first.expires_at > T0 + months(35)

    for month in range(1, 36):  # the daily job, seen once a month
        retention_at(app, T0 + months(month))
    assert reload(holder).active, "a valid certificate keeps the account"
    assert not reload(bystander).active and reload(bystander).is_dormant
    warned = [m["To"] for m in outbox.messages()]
    assert holder.email not in warned and bystander.email in warned

    renewal_day = T0 + months(35)
    assert signs_in(client, holder, renewal_day), "the holder comes back to renew"
    with clock.frozen(renewal_day):
        renewed = complete(holder, completed_at=renewal_day, renewal_months=36, key=first.key)
    assert renewed.previous_id == first.id
    for month in (36, 48, 70):
        retention_at(app, T0 + months(month))
    assert reload(holder).active


def test_inactivity_counts_from_the_end_of_the_last_valid_certificate(
    app: Flask, make_user, complete, outbox
) -> None:
    with clock.frozen(T0):
        holder = make_user(org=ORG)
        cert = complete(holder, completed_at=T0, renewal_months=36)
    assert cert.expires_at is not None
    expiry = cert.expires_at
    # Warned 30 days before 24 months have passed since the expiry, not before.
    assert retention_at(app, expiry + months(23) - dt.timedelta(days=5)).warned == 0
    assert retention_at(app, expiry + months(23) + dt.timedelta(days=5)).warned == 1
    assert retention_at(app, expiry + months(24) + dt.timedelta(days=5)).deactivated == 1
    assert reload(holder).is_dormant


def test_a_revoked_certificate_does_not_keep_the_account(app: Flask, make_user, complete):
    with clock.frozen(T0):
        holder = make_user(org=ORG)
        cert = complete(holder, completed_at=T0, renewal_months=36)
        cert.revoked_at = T0 + dt.timedelta(days=1)
        db.session.commit()
    retention_at(app, T0 + months(23) + dt.timedelta(days=5))
    assert retention_at(app, T0 + months(24) + dt.timedelta(days=5)).deactivated == 1


def _dormant(app: Flask, make_user: Any) -> User:
    with clock.frozen(T0):
        user = make_user(org=ORG)
    retention_at(app, T0 + months(23) + dt.timedelta(days=5))
    retention_at(app, T0 + months(24) + dt.timedelta(days=5))
    user = reload(user)
    assert not user.active and user.is_dormant
    return user


def test_a_dormant_person_cannot_sign_in_but_comes_back_by_the_reset_link(
    app: Flask, client, make_user, outbox
) -> None:
    user = _dormant(app, make_user)
    back = T0 + months(30)
    assert not signs_in(client, user, back)
    with clock.frozen(back):
        post_form(client, "/account/reset", {"email": user.email}).close()  # mail after
        links = outbox.links("http://lms.test/account/reset/")
        assert len(links) == 1, "the way back is a reset link, even asleep"
        path = links[0].removeprefix("http://lms.test")
        response = post_form(
            client, path, {"password": "una nuova password", "confirm": "una nuova password"}
        )
        assert response.status_code == 302
        assert client.get("/").status_code == 200  # signed in
    woken = reload(user)
    assert woken.active and not woken.is_dormant and woken.reactivated_at == back
    # Inactivity counts from the return: no warning the next day.
    assert retention_at(app, back + dt.timedelta(days=1)).warned == 0


def test_the_referent_wakes_a_dormant_member(app: Flask, client, make_user, outbox) -> None:
    user = _dormant(app, make_user)
    referent = make_user(org=ORG, referent=True)
    from lms.organisations.services import organisation_by_code

    org_id = organisation_by_code(db.session, ORG).id
    login(client, referent.email)
    page = client.get(f"/organisations/{org_id}/").get_data(as_text=True)
    assert "account sospeso per inattività" in page
    response = post_form(
        client,
        f"/organisations/{org_id}/members/{user.id}/reactivate",
        {},
        form_url=f"/organisations/{org_id}/",
    )
    assert response.status_code == 302
    assert reload(user).active
    assert outbox.links("http://lms.test/account/reset/"), "the person gets a way in"
    assert signs_in(client.application.test_client(), user, clock.now())


def test_an_erased_account_never_comes_back(app: Flask, client, make_user, outbox) -> None:
    from lms import privacy

    user = make_user(org=ORG)
    admin = make_user(roles=(Role.ADMIN,))
    email = user.email
    with app.test_request_context():
        privacy.erase_user(db.session, user.id, actor=admin, confirm_email=email)
        db.session.commit()
    post_form(client, "/account/reset", {"email": email}).close()
    assert outbox.messages() == []
    assert not reload(user).is_dormant


def test_the_reset_link_of_an_active_person_still_works_and_needs_no_waking(
    client, make_user, outbox
) -> None:
    user = make_user()
    post_form(client, "/account/reset", {"email": user.email}).close()
    path = outbox.links("http://lms.test/account/reset/")[0].removeprefix("http://lms.test")
    response = post_form(client, path, {"password": PASSWORD + "!", "confirm": PASSWORD + "!"})
    assert response.status_code == 302 and reload(user).reactivated_at is None


def test_a_session_restored_from_the_remember_cookie_counts_as_a_sign_in(
    app: Flask, client, make_user
) -> None:
    user = make_user()
    with clock.frozen(T0):
        post_form(
            client,
            "/account/login",
            {"email": user.email, "password": PASSWORD, "remember": "y"},
        )
    later = T0 + months(20)
    with client.session_transaction() as session:
        session.clear()  # the browser was closed: only the remember cookie is left
    with clock.frozen(later):
        assert client.get("/").status_code == 200
    assert reload(user).last_login_at == later
