"""Cursors made outside a list, for the tests that point at a position the list never gave.

Since review8c F2 a cursor carries an HMAC under a key derived from the gateway's blind-index
key: only the gateway (here: a session of its context) can sign one. :func:`unkeyed` makes one
as anyone could before, with the old unkeyed SHA-256 check."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from gateway.context import GatewayContext
from gateway.core import pagination
from gateway.db import transaction

_FROM_HEX = str.maketrans("0123456789abcdef", "abcdefghijklmnop")


def signed(context: GatewayContext, query: str, key: Sequence[str]) -> str:
    """A cursor of ``query`` for ``key`` signed with the gateway's own key (committed, so the
    key is the one the gateway reads when it is created here)."""
    with transaction(context.session_factory) as session:
        return pagination.encode_cursor(session, query, key)


def unkeyed(query: str, key: Sequence[str], *, check_bytes: int = 6) -> str:
    """A cursor as the format was before review8c F2 (a SHA-256 check anyone can compute)."""
    payload = json.dumps(list(key), separators=(",", ":")).encode()
    check = hashlib.sha256(query.encode() + b"\x00" + payload).digest()[:check_bytes]
    return (payload + check).hex().translate(_FROM_HEX)
