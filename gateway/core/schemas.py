from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    """Base of every API schema: camelCase on the wire, snake_case in Python, no extras."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank or only whitespace")
    return value


#: A free-text justification (acute override, skip to eviction, legal hold): a reason is a
#: reason, so blank and whitespace-only text is refused (issue 14.11).
Reason = Annotated[str, AfterValidator(_not_blank)]


def require_offset(value: datetime) -> datetime:
    """A moment that names an instant: one without an offset is refused (a ValueError, which
    the API answers as a 400 naming the field)."""
    if value.tzinfo is None:
        raise ValueError("a moment with its offset, e.g. 2026-03-02T09:30:00+01:00")
    return value


#: A moment the API reads (a query's bounds): one without an offset names no instant, and
#: compared with a stored moment it was a 500, so it is refused as a 400 naming the field
#: (as ``receivedAt`` and ``expiresAt`` are, gateway/cases/schemas.check_date, which
#: calls :func:`require_offset` too).
Moment = Annotated[datetime, AfterValidator(require_offset)]
