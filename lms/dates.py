"""Calendar arithmetic shared by every feature (course expiry, certificates, standings)."""

from __future__ import annotations

import calendar
import datetime as dt


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day ``months`` calendar months later, clamped to the month's end
    (31 Jan + 1 month = 28/29 Feb): the one rule for every expiry and renewal."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)
