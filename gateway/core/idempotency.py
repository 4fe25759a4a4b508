"""Idempotency keys: a retried POST with the same key and body creates nothing twice.

The key is claimed (a row inserted and flushed) before the work starts, inside the request's
transaction. A concurrent duplicate on PostgreSQL waits on the unique index and then fails
with 409 (retry: it gets the stored response); a duplicate after the commit gets the stored
response replayed. If the work fails, the claim rolls back with it, so the key stays free.

The stored response is the first response's JSON, **sealed** with the field cipher
(``idempotency_record.response_sealed``, :func:`seal_response`; docs/crypto.md), replayed
only to the caller (partner, role and user) that sent the key. It is sealed under the data
key of the case the record names (``case:<id>``, the key the case's erasure shreds; a
record that names no case, which no route makes today, under one shared key,
``record:idempotency_record.no-case``), and its associated data binds it to the record, its
partner, caller, key digest, operation, request hash and status: moved to another record or
replayed for another caller it does not open. The client's Idempotency-Key is stored as a
keyed digest (:func:`stored_key`, the same ``BlindIndex.fingerprint`` as the request hash,
purpose ``idempotency-key``), never as sent: a client may put anything in it.

A record that cannot be opened (its data key shredded or revoked, the sealed bytes or the
record's bound columns altered) is neither replayed nor run again: 409
``idempotency-record-unreadable``, nothing stored is changed (the caller should check
whether the first request took effect before using a new key). A key provider that is down
is the usual 503 ``key-provider-unavailable`` (retry later).

**Legacy records** (stored before migration 0049) hold the response in plaintext
(``response``) and the key as sent; a migration cannot reach the key provider to seal them,
so they are read as they are (a retry that spans the upgrade is still replayed) until the
replay window below deletes them: one ``KETENPOORT_IDEMPOTENCY_REPLAY_HOURS`` after the last
replica older than 0049 stopped (an older replica still writes them), once a sweep has run.

The response holds no BSN, address, free text or answer value (those travel in request
bodies, of which only a keyed digest is kept, or stay encrypted), but it does hold case
data, per route (tests/core/test_idempotency_stored_responses.py pins this list):

- ``POST /reports`` (IntakeResult): the case's id, reference and state, the report's id,
  whether it joined a case or waits for the lead (then no case id, but still the news that
  a dossier exists for the address or person);
- ``POST /cases/{caseId}/consents`` (ConsentOut): the consent's **kind, scope and expiry**;
  an OM consent on file says that a police investigation runs (U §5.3, criminal-law data
  the case summary withholds from all but the police and the lead);
- ``POST /cases/{caseId}/events`` (CaseEventOut): the landlord's **measure** and its date
  (a care contract tells a care need);
- ``POST /information-requests`` (InformationRequestOut): the case, purpose, each asked
  partner and category with its state, the policy's **reasons** (one can tell the OM
  condition: ``om-consent-missing``) and clauses, the receipt;
- ``POST /information-requests/{requestId}/answers`` (AnswerReceipt): the answering partner's
  items, states, reasons and clauses, the receipt (never the value given);
- ``POST /case-facts`` (CaseFactOut): the case, the category, the receipt (not the value).

They are what the posting caller was answered and may read again; the rows go after the
replay window (below), or with the case's dossier when the retention sweep erases it,
whichever comes first. Each record names the case its request was about (``case_id``,
migration 0040: the path's case, the response's ``caseId``, or an answer's request's case;
``case_of``), and the table is marked ``erasure_delete``, so the sweep's erasure deletes
the erased cases' records in its transaction, one DELETE per batch
(gateway/retention/targets.py). A report that waits for the lead names the dossier it joined
(by its report, ``gateway.cases.intake.case_of_result``; migration 0044 for the records
stored before): its response names no case, but "created: false, awaitingLead: true" is
case data (a dossier exists for that address or person; review7b finding 2). A retry with
the key of an erased case's record is a new request, and meets the route's own answer for
an erased case.

A record is kept for the replay window only (``KETENPOORT_IDEMPOTENCY_REPLAY_HOURS``,
default 7 days): the retention sweep deletes older ones (gateway/core/replays.py). Its request
hash is a keyed fingerprint of a body that can hold a BSN or an address, so it is a
pseudonym of personal data, and kept for ever it outlived the dossiers it was about
(storage limitation, AVG art. 5(1)(e)). A retry after the window is a new request.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.auth.deps import Context, CurrentPrincipal, DbSession
from gateway.auth.principal import Principal
from gateway.core.errors import Conflict, Unprocessable
from gateway.core.models import IdempotencyRecord
from gateway.crypto.errors import UndecryptableValue
from gateway.crypto.fields import FieldCipher, case_scope, record_scope
from gateway.crypto.keystore import Erased
from gateway.db import utcnow

log = logging.getLogger("ketenpoort.idempotency")

M = TypeVar("M", bound=BaseModel)
#: A keyed digest of ``data`` for a ``purpose`` (``BlindIndex.fingerprint``: one key, one
#: construction, for the request hash and the key alike).
Fingerprint = Callable[[str, bytes], str]
#: The fingerprint purposes: the request (its operation and body) and the client's key.
REQUEST_PURPOSE = "idempotency"
KEY_PURPOSE = "idempotency-key"
TABLE = "idempotency_record"
#: The scope of a record that names no case (no route makes one today): its own, shared
#: by all such records, never shredded; the replay window deletes the rows.
NO_CASE_SCOPE = record_scope(TABLE, "no-case")
#: The case a response is about (stored with the record, so an erasure deletes it).
CaseOf = Callable[[M], str | None]


def response_case(result: BaseModel) -> str | None:
    """The case a response names (``case_id``), if it names one."""
    case_id = getattr(result, "case_id", None)
    return case_id if isinstance(case_id, str) else None


REPLAY_HEADER = "Idempotent-Replayed"

# The header every idempotent POST declares (the exchange's and the cases domain's).
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=200,
        description="Any unique string per logical request (a UUID); a retry with the same "
        "key and body returns the first response and creates nothing twice.",
    ),
]


class IdempotencyKeyReused(Unprocessable):
    problem = "idempotency-key-reused"
    title = "Idempotency key reused for a different request"


class IdempotencyKeyInFlight(Conflict):
    problem = "idempotency-key-in-flight"
    title = "A request with this idempotency key is still being processed"


class IdempotencyRecordUnreadable(Conflict):
    """The key's first request was done, but its stored response cannot be opened (its data
    key shredded or revoked, the sealed value altered or moved from another record): it is
    not replayed, and the request is not run again either (fail closed)."""

    problem = "idempotency-record-unreadable"
    title = "The stored response of this idempotency key cannot be read"


def request_hash(operation: str, body: BaseModel, fingerprint: Fingerprint) -> str:
    """A keyed digest of the request: bodies can hold a BSN or an address, so a plain hash
    of them would be a guessable stand-in for personal data."""
    return fingerprint(
        REQUEST_PURPOSE, operation.encode() + b"\0" + body.model_dump_json(by_alias=True).encode()
    )


def stored_key(key: str, fingerprint: Fingerprint) -> str:
    """What the record stores for the client's Idempotency-Key: a keyed digest (the client
    chooses the key and may put anything in it, a BSN included)."""
    return fingerprint(KEY_PURPOSE, key.encode())


def record_scope_of(record: IdempotencyRecord) -> str:
    """The data key a record's response is sealed under: its case's, so that the case's
    erasure (which shreds that key) makes it unreadable even where a row survived."""
    return case_scope(record.case_id) if record.case_id else NO_CASE_SCOPE


def _sealed_field(record: IdempotencyRecord) -> str:
    """The field name in the sealed value's associated data, which binds it to whose record
    it is (partner, caller, key digest), what it answers (operation, request hash) and how
    (status): a sealed response moved to another record, or a record altered to replay it
    to someone else or for another request, does not open. The record's id and case (its
    scope) are bound by the field cipher itself."""
    # Each part length-prefixed, so no choice of values makes two records' bytes the same
    # (cheaper than a JSON list: ~1 against ~7 us).
    parts = (
        record.partner_id,
        record.principal,
        record.key,
        record.operation,
        record.request_hash,
        str(record.status_code),
    )
    bound = "".join(f"{len(part)}:{part}" for part in parts)
    return "response." + hashlib.sha256(bound.encode()).hexdigest()


def seal_response(
    cipher: FieldCipher, session: Session, record: IdempotencyRecord, payload: str
) -> bytes:
    """``payload`` (the response's JSON) sealed for ``record`` (flushed: its id is bound)."""
    return cipher.encrypt(
        session=session,
        scope=record_scope_of(record),
        table=TABLE,
        record_id=record.id,
        field=_sealed_field(record),
        plaintext=payload,
    )


def open_response(cipher: FieldCipher, session: Session, record: IdempotencyRecord) -> str:
    """The stored response's JSON; ``IdempotencyRecordUnreadable`` when it cannot be opened
    (``KeyProviderUnavailable``, a 503, passes through: the provider may come back)."""
    if record.response_sealed is None:
        raise _unreadable(record, "no sealed response")
    try:
        opened = cipher.decrypt(
            session=session,
            scope=record_scope_of(record),
            table=TABLE,
            record_id=record.id,
            field=_sealed_field(record),
            ciphertext=record.response_sealed,
        )
    except UndecryptableValue:
        raise _unreadable(record, "cannot be opened (see the field cipher's line)") from None
    if isinstance(opened, Erased):
        raise _unreadable(record, "data key shredded")
    return opened


def _unreadable(record: IdempotencyRecord, why: str) -> IdempotencyRecordUnreadable:
    # Which record and why, never the key, the response or the caller.
    log.warning("idempotency record %s not replayed: %s", record.id, why)
    return IdempotencyRecordUnreadable(
        "The first request with this Idempotency-Key was completed, but its stored response "
        "cannot be read, so it is neither replayed nor run again. Check whether the first "
        "request took effect before sending it again under a new key."
    )


def caller(principal: Principal) -> str:
    """Whose key it is within the partner: ``role`` or ``role/user``. Not the token: a retry
    may come with a fresh one."""
    return principal.role + (f"/{principal.user}" if principal.user else "")


def idempotent(
    *,
    session: Session,
    principal: Principal,
    key: str | None,
    operation: str,
    body: BaseModel,
    response: Response,
    model: type[M],
    produce: Callable[[], M],
    fingerprint: Fingerprint,
    cipher: FieldCipher,
    status_code: int = 200,
    case_of: CaseOf[M] | None = None,
) -> M:
    """Run ``produce`` once per (partner, caller, key); replay its response for retries.
    The record names the case ``case_of`` finds for the response (default: the response's
    own ``caseId``), so that the case's erasure deletes it; the response is sealed under
    that case's data key (:func:`seal_response`), the key stored as a keyed digest
    (:func:`stored_key`).

    The caller is the role and user (:func:`caller`), not the partner alone (review5a F3):
    the replay answers before the route's own checks, so a key scoped to the partner gave
    another role of it (the privacy officer, 403 without the key) the case manager's stored
    201, and another body a 422 that told the key was used. Anyone else's key is unknown to
    a caller: its request runs, with the route's checks, under its own record. A record from
    before keys were bound to the caller (``principal = ''``, migration 0038) replays to
    nobody."""
    if key is None:
        return produce()
    digest = request_hash(operation, body, fingerprint)
    sealed_key = stored_key(key, fingerprint)
    mine = caller(principal)
    found = [
        r
        for r in session.scalars(
            select(IdempotencyRecord).where(
                IdempotencyRecord.partner_id == principal.partner_id,
                IdempotencyRecord.principal.in_((mine, "")),
                IdempotencyRecord.key.in_((sealed_key, key)),
            )
        )
        # A record since 0049 stores the key's digest; a legacy one (its response in
        # plaintext, stored before 0049) the key as sent.
        if r.key == (key if r.response is not None else sealed_key)
    ]
    existing = next((r for r in found if r.principal == mine), None)
    if existing is None and found:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was recorded before keys were bound to the caller and "
            "replays to nobody; use a new key."
        )
    if existing is not None:
        if existing.request_hash != digest:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was used for a different request; use a new key."
            )
        if existing.status_code == 0:
            raise IdempotencyKeyInFlight("Retry shortly: the first request is still running.")
        replayed = _replayed(cipher, session, existing, model)
        response.status_code = existing.status_code
        response.headers[REPLAY_HEADER] = "true"
        return replayed
    record = IdempotencyRecord(
        partner_id=principal.partner_id,
        principal=mine,
        key=sealed_key,
        operation=operation[:200],
        request_hash=digest,
        status_code=0,
        created_at=utcnow(),
    )
    session.add(record)
    try:
        # Raising rolls the whole request back, so no savepoint is needed.
        session.flush()
    except IntegrityError:
        raise IdempotencyKeyInFlight(
            "Retry shortly: a request with this Idempotency-Key is being processed."
        ) from None
    result = produce()
    record.status_code = status_code
    record.case_id = (case_of or response_case)(result)
    record.response_sealed = seal_response(
        cipher, session, record, result.model_dump_json(by_alias=True)
    )
    session.flush()
    return result


def _replayed(
    cipher: FieldCipher, session: Session, record: IdempotencyRecord, model: type[M]
) -> M:
    """The stored response, opened; a legacy record's from its plaintext (LEGACY: records
    stored before migration 0049, until the replay window deletes them)."""
    try:
        if record.response is not None:
            return model.model_validate(record.response)
        return model.model_validate_json(open_response(cipher, session, record))
    except ValidationError:
        raise _unreadable(record, "stored response does not fit the route's model") from None


@dataclass(frozen=True)
class IdempotentPost:
    """A POST that a retry with the same Idempotency-Key replays instead of repeating."""

    session: Session
    principal: Principal
    key: str | None
    response: Response
    fingerprint: Fingerprint
    cipher: FieldCipher

    def run(
        self,
        operation: str,
        body: BaseModel,
        model: type[M],
        produce: Callable[[], M],
        *,
        status_code: int = 200,
        case_of: CaseOf[M] | None = None,
    ) -> M:
        return idempotent(
            session=self.session,
            principal=self.principal,
            key=self.key,
            operation=operation,
            body=body,
            response=self.response,
            model=model,
            produce=produce,
            fingerprint=self.fingerprint,
            cipher=self.cipher,
            status_code=status_code,
            case_of=case_of,
        )


def idempotent_post(
    context: Context,
    session: DbSession,
    principal: CurrentPrincipal,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> IdempotentPost:
    keys = context.require_keys()
    blind_index = keys.blind_index

    def fingerprint(purpose: str, data: bytes) -> str:
        return blind_index.fingerprint(session=session, purpose=purpose, data=data)

    return IdempotentPost(session, principal, idempotency_key, response, fingerprint, keys.fields)


#: The endpoint dependency: the request's session, caller, key and response in one.
Idempotent = Annotated[IdempotentPost, Depends(idempotent_post)]
