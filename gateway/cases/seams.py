"""The two things the cases domain needs from its neighbours, as small protocols.

``Sealer`` seals personal fields under a key scope and makes blind indexes (gateway/crypto);
``CaseAudit`` writes an audit entry inside the caller's transaction (audit/). The service
only ever talks to these, so the real implementations plug in at wiring time and tests can
pass their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import QueryableAttribute, Session

from gateway.audit import AuditEntry, AuditLog, ProcessingActivity
from gateway.auth.principal import Principal
from gateway.cases.subjects import case_data_subjects
from gateway.core.errors import GatewayError, ServiceUnavailable
from gateway.crypto import CryptoServices
from gateway.db import utcnow

AuditValue = str | int | bool | None
#: A column holding a case id (``CaseFile.id``, ``CaseReport.case_id``, ...).
CaseIdColumn = ColumnElement[Any] | QueryableAttribute[Any]


class Sealer(Protocol):
    """Seals personal fields and makes blind indexes; the real one is gateway/crypto's."""

    def seal(
        self,
        session: Session,
        *,
        scope: str,
        table: str,
        record_id: str,
        field: str,
        plaintext: str,
    ) -> bytes:
        """Encrypt ``plaintext`` under the key of ``scope``, bound to table, record and field."""
        ...

    def bsn_index(self, session: Session, *, bsn: str) -> str: ...

    def address_index(
        self, session: Session, *, postcode: str, house_number: int, addition: str | None
    ) -> str: ...


@dataclass(frozen=True)
class ErasureWarning:
    """An open case whose dossier the retention sweep will erase on ``erased_on`` (unless it
    sees activity or is closed before): its lead is warned first."""

    case_id: str
    erased_on: date
    rule_id: str
    source: str
    #: The erasure day is the day the resident moved out (its term runs from the move): the
    #: partners told of the move (its lead and the partners that recorded it), to whom
    #: alone the warning is shown (review5b p5b). None: the day tells nothing of a move.
    told: frozenset[str] | None = None
    #: The erasure day (or the rule) can tell of a landlord's measure that the ``reader``
    #: the warnings were asked for could not be shown (an open case's last activity may be
    #: such a measure; gateway/retention/sanctions.py): shown to the case's lead only, who is
    #: warned before any erasure. False when no reader was given.
    withheld: bool = False


class ErasureWarnings(Protocol):
    """The retention domain's warnings for open cases (gateway/retention/service.py).
    ``case_ids`` may be a query of case ids: the deadlines of a partner with tens of
    thousands of open cases pass a subquery, not a list past SQLite's bound-variable limit.
    With ``limit``: at most that many, of ``covenant_id``, in (``erased_on``, ``case_id``)
    order after ``after`` (keyset reading, a deadlines page at a time); every row read is a
    warning. With ``reader`` and ``runtime`` (the cases domain's), each warning says whether
    it is ``withheld`` from that reader."""

    def __call__(
        self,
        session: Session,
        *,
        case_ids: Sequence[str] | Select[Any],
        today: date,
        covenant_id: str | None = None,
        after: tuple[date, str] | None = None,
        limit: int | None = None,
        reader: Principal | None = None,
        runtime: Any = None,
    ) -> list[ErasureWarning]: ...


class WriteGuard(Protocol):
    """The retention domain, before a write to a case's dossier (gateway/retention/service.py
    ``lock_for_write``): lock the case's retention row, so its sweep does not erase the case
    under the write (the sweep skips a locked row and leaves it to its next run), and return
    the refusal to raise when the case was erased already (410 ``case-erased``), else None.
    The refusal is returned, not raised: the caller raises it only after its own visibility
    check, so a partner that cannot see the case does not learn it existed."""

    def __call__(self, session: Session, *, case_id: str) -> GatewayError | None: ...


class RetentionRegistration(Protocol):
    """The retention domain registers a case the moment it is opened (issue 16: "a case's
    retention state exists from the moment the case exists"): its rule and due date, or why
    none yet, are written in the transaction that creates the case, not at the next sweep;
    and brought up to date in the transaction of every workflow step."""

    def __call__(self, session: Session, *, case_id: str) -> None: ...


class CaseAudit(Protocol):
    def record(
        self,
        session: Session,
        *,
        activity: str,
        covenant_id: str,
        case_id: str | None,
        actor: Principal | None,
        details: dict[str, AuditValue],
        subjects: Sequence[tuple[str, str]] | None = None,
    ) -> None:
        """Write one audit entry in ``session``'s transaction (no personal data in details).
        ``subjects``: the entry's data subjects as ``(identifier type, blind index)`` pairs;
        None names every person of the case and its dwelling (gateway/cases/subjects.py)."""
        ...


class CryptoSealer:
    """The seam over gateway/crypto: FieldCipher for fields, BlindIndex for lookups."""

    def __init__(self, services: CryptoServices) -> None:
        self._services = services

    def seal(
        self,
        session: Session,
        *,
        scope: str,
        table: str,
        record_id: str,
        field: str,
        plaintext: str,
    ) -> bytes:
        return self._services.fields.encrypt(
            session=session,
            scope=scope,
            table=table,
            record_id=record_id,
            field=field,
            plaintext=plaintext,
        )

    def bsn_index(self, session: Session, *, bsn: str) -> str:
        return self._services.blind_index.bsn(session=session, bsn=bsn)

    def address_index(
        self, session: Session, *, postcode: str, house_number: int, addition: str | None
    ) -> str:
        return self._services.blind_index.address(
            session=session, postcode=postcode, house_number=house_number, addition=addition
        )


class UnavailableSealer:
    """Used when the key provider is not configured: every write of personal data fails
    closed with 503 instead of storing plaintext."""

    def _fail(self) -> ServiceUnavailable:
        return ServiceUnavailable("Field encryption is unavailable; nothing was stored.")

    def seal(
        self,
        session: Session,
        *,
        scope: str,
        table: str,
        record_id: str,
        field: str,
        plaintext: str,
    ) -> bytes:
        raise self._fail()

    def bsn_index(self, session: Session, *, bsn: str) -> str:
        raise self._fail()

    def address_index(
        self, session: Session, *, postcode: str, house_number: int, addition: str | None
    ) -> str:
        raise self._fail()


class LogAudit:
    """The seam over audit/: one entry per case event, appended in the caller's transaction
    (a failed append raises and rolls the whole change back: no audit, no change)."""

    def __init__(self, log: AuditLog) -> None:
        self._log = log

    def record(
        self,
        session: Session,
        *,
        activity: str,
        covenant_id: str,
        case_id: str | None,
        actor: Principal | None,
        details: dict[str, AuditValue],
        subjects: Sequence[tuple[str, str]] | None = None,
    ) -> None:
        now = utcnow()
        attributes = {
            key: value[:200] if isinstance(value, str) else value
            for key, value in details.items()
            if value is not None
        }
        entry = AuditEntry(
            activity=activity,
            outcome="recorded",
            started_at=now,
            ended_at=now,
            processing=ProcessingActivity(covenant_id=covenant_id),
            case_id=case_id,
            # Read in this transaction: an intake's new persons are already flushed.
            data_subjects=(
                self._log.subjects_from_indexes(sorted(set(subjects)))
                if subjects is not None
                else case_data_subjects(session, self._log, case_id)
                if case_id is not None
                else ()
            ),
            requester=self._log.actor(actor) if actor is not None else None,
            attributes=attributes,
        )
        self._log.append(session=session, entry=entry)


class UnavailableAudit:
    """Used when no audit log is wired: every case change fails closed with 503."""

    def record(
        self,
        session: Session,
        *,
        activity: str,
        covenant_id: str,
        case_id: str | None,
        actor: Principal | None,
        details: dict[str, AuditValue],
        subjects: Sequence[tuple[str, str]] | None = None,
    ) -> None:
        raise ServiceUnavailable("The audit log is unavailable; the change was not made.")
