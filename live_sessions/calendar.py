"""The session as an iCalendar file (RFC 5545), for the attendee's calendar.

Built with the `icalendar` library, which escapes text and folds lines at 75
octets without splitting a UTF-8 character. Times are written in UTC, so no
VTIMEZONE is needed.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import icalendar

from live_sessions.models import LiveSession

PRODID = "-//Rete antiviolenza di Milano//Formazione//IT"


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC)


def session_ics(live: LiveSession, *, page_url: str, base_url: str, now: dt.datetime) -> bytes:
    host = urlsplit(base_url).hostname or "lms"
    location = live.place or live.online_url or ""
    details = [live.description] if live.description else []
    if live.online_url:
        details.append(f"Collegamento: {live.online_url}")
    details.append(f"Pagina dell'incontro: {page_url}")
    if live.credits:
        details.append(f"Crediti formativi: {live.credits}")

    event = icalendar.Event()
    event.add("uid", f"live-session-{live.id}@{host}")
    event.add("dtstamp", _utc(now))
    event.add("last-modified", _utc(live.updated_at))
    event.add("dtstart", _utc(live.starts_at))
    event.add("dtend", _utc(live.ends_at))
    event.add("summary", live.title)
    event.add("description", "\n".join(details))
    event.add("url", page_url)
    event.add("status", "CANCELLED" if live.is_cancelled else "CONFIRMED")
    if location:
        event.add("location", location)

    cal = icalendar.Calendar()
    cal.add("version", "2.0")
    cal.add("prodid", PRODID)
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add_component(event)
    return cal.to_ical()
