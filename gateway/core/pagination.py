"""Cursor pagination as the NL API Design Rules' HAL style has it: the items under
``_embedded``, and ``_links`` with ``self`` and, while more follow, ``next``.

A cursor is opaque to the client: the domain encodes the sort key of a page's last item, so a
page never shifts when items before it change (an offset would skip or repeat items as
deadlines are met while someone pages). The links are relative to the API's root and keep the
request's other query parameters.

The cursor's letters are ``a``..``p``, a half-byte each: no digits, so a cursor never holds
a nine-digit run the URL guard (gateway/core/urls.py) would take for a BSN. It carries the
sort key as JSON and an HMAC-SHA256 (96 bits) over the key and the *query* it belongs to
(the list, and what the caller filtered by: partner, ``includeClosed``). A cursor changed by
mistake or taken from another list or filter is refused as a 400, not read as some other
position; so is one made outside the gateway. The MAC's key is derived from the gateway's
blind-index key (gateway/crypto/keystore.DataKeyStore.cursor_key: wrapped by the KEK, the
same in every replica), handed to the sessions by :func:`provide_cursor_key`; without it a
list that needs a cursor answers 503 (fail closed).

Before (review8c F2) the check was an unkeyed SHA-256: anyone could build a cursor that
passed, and a lone surrogate or NUL in its key reached the database (a 500). Every page is
filtered by the caller's principal, so no forged position showed more; the MAC makes forging
impossible, and the key's strings are checked as well (printable, encodable text).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode

from pydantic import Field
from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import QueryableAttribute, Session, sessionmaker
from starlette.datastructures import URL

from gateway.core.errors import BadRequest, ServiceUnavailable
from gateway.core.schemas import ApiModel

#: Page sizes every list takes: ``limit`` 1..MAX_PAGE, DEFAULT_PAGE when not given.
MAX_PAGE = 500
DEFAULT_PAGE = 100
#: The longest cursor a list accepts (query parameter ``cursor``), and its letters.
MAX_CURSOR = 600
CURSOR_PATTERN = r"^[a-p]+$"
_NIBBLES = "abcdefghijklmnop"
_FROM_HEX = str.maketrans("0123456789abcdef", _NIBBLES)
_TO_HEX = str.maketrans(_NIBBLES, "0123456789abcdef")
_CHECK = 12  # bytes of HMAC-SHA256 at the end of a cursor
#: Where a session finds the cursor key (:func:`provide_cursor_key`).
_KEY_INFO = "ketenpoort.cursor_key"


def provide_cursor_key(
    factory: sessionmaker[Session], cursor_key: Callable[[Session], bytes]
) -> None:
    """Sessions of ``factory`` sign and check cursors with ``cursor_key(session)``."""
    factory.configure(info={_KEY_INFO: cursor_key})


def _key(session: Session) -> bytes:
    cursor_key = session.info.get(_KEY_INFO)
    if cursor_key is None:
        raise ServiceUnavailable(
            "The key that signs page cursors is unavailable; the first page is, without one."
        )
    key: bytes = cursor_key(session)
    return key


def _check(session: Session, query: str, payload: bytes) -> bytes:
    message = query.encode() + b"\x00" + payload
    return hmac.new(_key(session), message, hashlib.sha256).digest()[:_CHECK]


def encode_cursor(session: Session, query: str, key: Sequence[str]) -> str:
    """A cursor for the sort key ``key`` (strings) of a page's last item in ``query``."""
    payload = json.dumps(list(key), separators=(",", ":")).encode()
    data = payload + _check(session, query, payload)
    return data.hex().translate(_FROM_HEX)


def _text(value: object) -> bool:
    """A sort key's string as the gateway writes them: printable, encodable text (a lone
    surrogate or NUL failed the database: review8c F2)."""
    if not isinstance(value, str) or not value.isprintable():
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def decode_cursor(session: Session, query: str, cursor: str, size: int) -> list[str]:
    """The sort key of ``cursor`` (``size`` strings) if ``query`` gave it out, else 400."""
    try:
        if len(cursor) % 2 or not set(cursor) <= set(_NIBBLES) or len(cursor) > MAX_CURSOR:
            raise ValueError("not a cursor's letters")
        data = bytes.fromhex(cursor.translate(_TO_HEX))
        payload, check = data[:-_CHECK], data[-_CHECK:]
        if len(data) <= _CHECK or not hmac.compare_digest(_check(session, query, payload), check):
            raise ValueError("changed, or of another list")
        raw = json.loads(payload.decode())
        if not (isinstance(raw, list) and len(raw) == size and all(_text(v) for v in raw)):
            raise ValueError("not a sort key")
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequest("'cursor' is not a cursor this list gave out.") from error
    return raw


def decode_moment_cursor(session: Session, query: str, cursor: str) -> tuple[datetime, str]:
    """The (moment, id) sort key of a cursor of ``query`` that :func:`moment_key` made; the
    moment an aware UTC datetime. Anything else is a 400."""
    raw = decode_cursor(session, query, cursor, 2)
    try:
        moment = datetime.fromisoformat(raw[0])
    except ValueError as error:
        raise BadRequest("'cursor' is not a cursor this list gave out.") from error
    if moment.tzinfo is None:
        raise BadRequest("'cursor' is not a cursor this list gave out.")
    return moment.astimezone(UTC), raw[1]


def moment_key(moment: datetime, item_id: str) -> list[str]:
    """The sort key of an item ordered by a moment, ties by id (:func:`decode_moment_cursor`)."""
    return [moment.astimezone(UTC).isoformat(), item_id]


Row = TypeVar("Row")
Key = TypeVar("Key")


def after_key(
    order: ColumnElement[Key] | QueryableAttribute[Key],
    tiebreak: ColumnElement[str] | QueryableAttribute[str],
    key: tuple[Key, str],
    *,
    descending: bool = False,
) -> ColumnElement[bool]:
    """The rows after ``key`` in the order (``order``, ``tiebreak``), both ascending or both
    descending. The first bound is redundant but is what an index on (..., order, tiebreak)
    can start its range at: without it PostgreSQL reads the index from the list's first row and
    filters out every row of the pages before, so page n would cost n pages."""
    value, last = key
    if descending:
        return and_(order <= value, or_(order < value, tiebreak < last))
    return and_(order >= value, or_(order > value, tiebreak > last))


def split_page(
    session: Session,
    rows: Sequence[Row],
    *,
    limit: int,
    query: str,
    key: Callable[[Row], Sequence[str]],
) -> tuple[list[Row], str | None]:
    """A page from ``limit + 1`` rows read in keyset order: the first ``limit``, and the cursor
    after the last of them while a row follows (None on the last page)."""
    shown = list(rows[:limit])
    if len(rows) > limit and shown:
        return shown, encode_cursor(session, query, key(shown[-1]))
    return shown, None


class Link(ApiModel):
    href: str


class PageLinks(ApiModel):
    self_: Link = Field(alias="self")
    # HAL leaves a link out rather than giving it as null.
    next: Link | None = Field(
        default=None, description="Absent on the last page.", exclude_if=lambda v: v is None
    )


def page_links(url: URL, *, next_cursor: str | None) -> PageLinks:
    """``self`` is the request's own path and query; ``next`` the same with the cursor."""
    query = [(k, v) for k, v in parse_qsl(url.query, keep_blank_values=True) if k != "cursor"]
    own = url.path + (f"?{url.query}" if url.query else "")
    if next_cursor is None:
        return PageLinks(self_=Link(href=own))
    following = f"{url.path}?{urlencode([*query, ('cursor', next_cursor)])}"
    return PageLinks(self_=Link(href=own), next=Link(href=following))
