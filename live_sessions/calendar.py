"""The session as an iCalendar file (RFC 5545), for the attendee's calendar.

Times are written in UTC (no VTIMEZONE needed); text is escaped and lines are
folded at 75 octets without splitting a UTF-8 character.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from live_sessions.models import LiveSession

PRODID = "-//Rete antiviolenza di Milano//Formazione//IT"


def escape_text(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Split a content line into chunks of at most 75 octets (continuations start with a space)."""
    chunks: list[str] = []
    current, size, limit = "", 0, 75
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            chunks.append(current)
            current, size, limit = "", 0, 74  # the leading space takes one octet
        current += ch
        size += width
    chunks.append(current)
    return "\r\n ".join(chunks)


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def session_ics(live: LiveSession, *, page_url: str, base_url: str, now: dt.datetime) -> bytes:
    host = urlsplit(base_url).hostname or "lms"
    location = live.place or live.online_url or ""
    details = [live.description] if live.description else []
    if live.online_url:
        details.append(f"Collegamento: {live.online_url}")
    details.append(f"Pagina dell'incontro: {page_url}")
    if live.credits:
        details.append(f"Crediti formativi: {live.credits}")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:live-session-{live.id}@{host}",
        f"DTSTAMP:{_stamp(now)}",
        f"LAST-MODIFIED:{_stamp(live.updated_at)}",
        f"DTSTART:{_stamp(live.starts_at)}",
        f"DTEND:{_stamp(live.ends_at)}",
        f"SUMMARY:{escape_text(live.title)}",
        f"DESCRIPTION:{escape_text(chr(10).join(details))}",
        f"URL:{page_url}",
        f"STATUS:{'CANCELLED' if live.is_cancelled else 'CONFIRMED'}",
    ]
    if location:
        lines.append(f"LOCATION:{escape_text(location)}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(fold(line) for line in lines) + "\r\n").encode("utf-8")
