from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from gateway.core.dutch_date import dutch_date


class ApiModel(BaseModel):
    """Base of every API schema: camelCase on the wire, snake_case in Python, no extras."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank or only whitespace")
    if any(c < " " and c not in "\t\n\r" or c == "\x7f" for c in value):
        raise ValueError("must not hold control characters")
    return value


#: A free-text justification (acute override, skip to eviction, legal hold): a reason is a
#: reason, so blank and whitespace-only text is refused (issue 14.11). It is kept as text (a
#: legal hold's, in the clear): no control character but tab and line breaks (NUL failed
#: PostgreSQL's text, a 500: review8c F1).
Reason = Annotated[str, AfterValidator(_not_blank)]


def require_offset(value: datetime) -> datetime:
    """A moment that names an instant: one without an offset is refused (a ValueError, which
    the API answers as a 400 naming the field)."""
    if value.tzinfo is None:
        raise ValueError("a moment with its offset, e.g. 2026-03-02T09:30:00+01:00")
    return value


#: The moments a query may be bounded by: every instant the gateway can count with (in UTC).
_INSTANT_RANGE = "a moment between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z"


def require_instant(value: datetime) -> datetime:
    """A moment with its offset (:func:`require_offset`) whose instant lies in the calendar's
    range in UTC: ``0001-01-01T00:00:00+01:00`` is a moment of the year 0 in UTC, and binding
    it to a query overflowed (a 500, review6a F5); it is refused as a 400 naming the field."""
    try:
        require_offset(value).astimezone(UTC)
    except OverflowError:
        raise ValueError(_INSTANT_RANGE) from None
    return value


#: A moment the API reads (a query's bounds): one without an offset names no instant, and
#: compared with a stored moment it was a 500; one whose instant is outside the calendar in
#: UTC overflowed when it was bound. Both are refused as a 400 naming the field (as the days
#: and moments the workflow computes with are, :func:`check_date`).
Moment = Annotated[datetime, AfterValidator(require_instant)]

#: Dates the workflow computes with: far enough either side for any real case, and far from
#: the ends of the calendar, where adding a period would overflow.
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
_DATE_RANGE = f"a date between {EARLIEST} and {LATEST}"

D = TypeVar("D", date, datetime)


def check_date(value: D) -> D:
    """A day or moment in the range the workflow computes with. A moment is counted from
    its Dutch date, as the workflow counts it; one without an offset names no instant (and
    compared with the clock it was a 500), so it is refused; one whose Dutch date is outside
    the calendar overflowed (a 500, review6a F5), and is refused too."""
    try:
        day = dutch_date(require_offset(value)) if isinstance(value, datetime) else value
    except OverflowError:
        raise ValueError(_DATE_RANGE) from None
    if not EARLIEST <= day <= LATEST:
        raise ValueError(_DATE_RANGE)
    return value


#: A day the API reads that the gateway computes with (a query's reference date): in
#: EARLIEST..LATEST, or a 400 naming the field.
Day = Annotated[date, AfterValidator(check_date)]
