"""Cancelling a session is confirmed on a page of its own (GET), then done (POST)."""

from __future__ import annotations

from lms import db
from tests.conftest import login, post_form


def test_cancelling_asks_first_then_cancels(client, trainer, make_session):
    live = make_session(title="Incontro da annullare")
    login(client, trainer.email)
    url = f"/live_sessions/{live.id}/cancel-session"
    edit = client.get(f"/live_sessions/{live.id}/edit").get_data(as_text=True)
    assert f'href="{url}"' in edit  # a link to the confirmation, not a button that cancels
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Annullare «Incontro da annullare»?" in html and "0 persone con il posto" in html
    db.session.refresh(live)
    assert not live.is_cancelled  # looking at the confirmation changes nothing
    done = post_form(client, url, {}, follow_redirects=True).get_data(as_text=True)
    assert "Incontro annullato: 0 persone avvisate." in done
    db.session.expire_all()
    db.session.refresh(live)
    assert live.is_cancelled
    # Already cancelled: the confirmation is not offered again.
    assert client.get(url).status_code == 302
