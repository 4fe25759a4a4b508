"""Test helpers for idempotency records: a key's stored digest, a record's sealed response
opened, and a record turned into a legacy one (plaintext, as stored before migration 0049)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, text

from gateway.context import GatewayContext
from gateway.core.idempotency import open_response, stored_key
from gateway.core.models import IdempotencyRecord
from gateway.db import transaction


def stored_key_of(context: GatewayContext, key: str) -> str:
    """What a record stores for the Idempotency-Key ``key`` (its keyed digest)."""
    blind_index = context.require_keys().blind_index
    with transaction(context.session_factory) as session:
        return stored_key(
            key,
            lambda purpose, data: blind_index.fingerprint(
                session=session, purpose=purpose, data=data
            ),
        )


def names_by_stored_key(context: GatewayContext, keys: list[str]) -> dict[str, str]:
    """The stored form of each of ``keys`` -> the key: its digest, and itself (a legacy
    record stores the key as sent)."""
    found = {stored_key_of(context, key): key for key in keys}
    found.update({key: key for key in keys})
    return found


def opened_responses(context: GatewayContext) -> dict[int, dict[str, Any]]:
    """Every record's response: a sealed one opened, a legacy one as stored."""
    cipher = context.require_keys().fields
    with transaction(context.session_factory) as session:
        return {
            record.id: (
                record.response
                if record.response is not None
                else json.loads(open_response(cipher, session, record))
            )
            for record in session.scalars(select(IdempotencyRecord))
        }


def make_legacy(
    context: GatewayContext, plaintexts: dict[int, dict[str, Any]], keys: dict[int, str]
) -> None:
    """Turn records into what the code before 0049 stored, at a revision before 0049 (the
    sealed column is gone; ``response`` holds a parked value): the key as sent, the
    response in plaintext."""
    with context.engine.begin() as connection:
        for record_id, response in plaintexts.items():
            connection.execute(
                text(
                    "UPDATE idempotency_record SET key = :key, response = :response WHERE id = :id"
                ),
                {"key": keys[record_id], "response": json.dumps(response), "id": record_id},
            )
