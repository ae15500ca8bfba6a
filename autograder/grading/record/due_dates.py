"""Due dates as a TA writes them (`init --due a1="2025-10-03 23:59 Europe/Berlin"`), read with zoneinfo.

    2025-10-03 23:59 Europe/Berlin     an IANA zone name: its rules on that date (here CEST, +02:00)
    2025-10-03 23:59 +02:00            a numeric offset (also +0200, +02, or attached: 2025-10-03T23:59+02:00)
    2025-10-03 23:59 UTC               UTC (also Z or GMT); no zone at all is UTC too

Anything else is refused with what to write, never guessed: an unknown zone ("Europe/Berln"),
an abbreviation ("CEST", "EST": they name no rules, and several mean more than one zone), a date
without a time, and a local time that does not exist or happens twice in that zone (a clock change).
A wrong due date would silently change every late penalty.
"""

import difflib
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from autograder.common.course import CourseError

EXAMPLES = '"2025-10-03 23:59 Europe/Berlin", "2025-10-03 23:59 +02:00" or "2025-10-03 23:59 UTC"'
DATE_TIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})(?:[T ]+(?P<time>\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?))?\s*(?P<zone>.*)"
)
OFFSET = re.compile(r"(?P<sign>[+-])(?P<hours>\d{2})(?::?(?P<minutes>\d{2}))?")
ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+)+")
UTC_NAMES = {"z", "utc", "gmt"}


def _refuse(text, where, why):
    raise CourseError(f"due date{where} {text!r} {why}; write e.g. {EXAMPLES}")


def _offset(match, text, where):
    hours, minutes = int(match["hours"]), int(match["minutes"] or 0)
    if hours > 14 or minutes >= 60 or (hours == 14 and minutes):
        _refuse(
            text, where, f"has the offset {match[0]}, which no place on Earth uses (they run from -12:00 to +14:00)"
        )
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if match["sign"] == "-" else delta)


def _zone(name, text, where):
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(name, sorted(available_timezones()), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        _refuse(text, where, f"names the time zone {name!r}, which the IANA time zone database does not have{hint}")


def parse_due(text, assignment_id=None):
    """The due date as a naive UTC datetime (nbgrader's convention), or a CourseError saying what to write."""
    where = f" for {assignment_id}" if assignment_id else ""
    text = str(text).strip()
    match = DATE_TIME.fullmatch(text)
    if match is None:
        _refuse(text, where, "is not a date and time")
    if match["time"] is None:
        _refuse(text, where, "has no time of day (a date alone would be due at the midnight it starts with)")
    clock = match["time"] if match["time"].index(":") == 2 else "0" + match["time"]
    try:
        local = datetime.fromisoformat(f"{match['date']} {clock}")
    except ValueError as error:
        _refuse(text, where, f"is not a date and time ({error})")
    zone_text = match["zone"].strip()
    if not zone_text or zone_text.lower() in UTC_NAMES:
        zone = timezone.utc
    elif offset := OFFSET.fullmatch(zone_text):
        zone = _offset(offset, text, where)
    elif ZONE_NAME.fullmatch(zone_text):
        zone = _zone(zone_text, text, where)
    elif re.fullmatch(r"[A-Za-z]{2,6}[0-9A-Za-z]*", zone_text):
        _refuse(
            text,
            where,
            f"gives the time zone as {zone_text!r}, an abbreviation: it names no rules (and many stand for more "
            "than one zone), so give the zone's IANA name or the offset",
        )
    else:
        _refuse(text, where, f"ends in {zone_text!r}, which is neither a time zone name nor an offset")
    when = local.replace(tzinfo=zone)
    if isinstance(zone, ZoneInfo):
        if when.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None) != local:
            _refuse(text, where, f"is a time that does not exist in {zone.key} (the clocks skip it)")
        if when.utcoffset() != when.replace(fold=1).utcoffset():
            _refuse(text, where, f"is a time that happens twice in {zone.key} (the clocks go back): give the offset")
    return when.astimezone(timezone.utc).replace(tzinfo=None)
