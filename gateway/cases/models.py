"""ORM models of the cases domain.

No column holds plaintext personal data: addresses, identifiers, names, report texts, reasons
and minutes are stored as ciphertext sealed under the case's (or dwelling's) key scope, and
lookups go through keyed blind indexes. What stays in the clear is what the workflow and the
steering figures need: states, dates, districts, partner ids, amounts and durations.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, validates

from gateway.cases.cell_key import new_record_key
from gateway.cases.schemas import FACTS_KEPT_AFTER_ERASURE
from gateway.db import Base, UTCDateTime

#: The lead's assessment of the causer: cleared when the dossier is erased (the retention
#: sweep sets these columns to NULL, gateway/retention/targets.py; review4 F4).
ASSESSMENT = {"erasure_null": True}


class Dwelling(Base):
    """The dwelling a case is about, as the report that opened the case describes it: its
    tenure, corporation and district (a dwelling can change hands between cases). One per
    case.

    Nothing here leads to the address. The sealed address lives on the case
    (``CaseFile.address_sealed``) under the case's key scope, and so does the address's blind
    index (``CaseFile.address_index``), by which intake finds the open case at a dwelling; the
    retention sweep clears it with the dossier. Review2 finding 7: the index used to live
    here, one row per address shared by every case about it, and outlived every erasure, so
    the address still joined an erased case's history (transitions, measures, dates).
    """

    __tablename__ = "dwelling"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    covenant_id: Mapped[str] = mapped_column(String(100))
    # corporation | private-rental | owner-occupied
    ownership: Mapped[str] = mapped_column(String(20))
    corporation_id: Mapped[str | None] = mapped_column(String(100))
    district: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CaseFile(Base):
    """A case ("casus"); named CaseFile because ``case`` is an SQL keyword."""

    __tablename__ = "case_file"
    # The steering report counts its period's openings per district through the first and
    # reads its closed cases through the third from the index alone (it holds every column
    # the report needs of them); the second counts a covenant's cases per state (the
    # closure checks) and serves a state or district test of the covenant's cases; the
    # deadlines read each (deadline, state) stream in (start, id) order through the next
    # two (migrations 0019, 0021, 0028); GET /v1/cases reads the cases a partner leads in
    # page order through ix_case_file_lead_opened (0020).
    #
    # No single-column index on covenant_id, lead_partner_id, state or district, and none on
    # (id, covenant_id) (migration 0034): every read that tests one of them tests the
    # covenant too, which these composite indexes serve. The retention sweep's overwrite of
    # an erased case's row is no HOT update (it sets erased_at and clears address_index,
    # both indexed), so each full index here costs an entry per erased case: add one only
    # for a read that needs it (docs/performance.md, the retention sweep's sixth round).
    __table_args__ = (
        Index("ix_case_file_opened_district", "covenant_id", "opened_at", "district", "record_key"),
        Index("ix_case_file_state_district", "covenant_id", "state", "district"),
        Index(
            "ix_case_file_closed_cover",
            "covenant_id",
            "closed_at",
            "first_report_at",
            "neighbours_judgement",
            "partners_judgement",
            "id",  # the median's tie-break (migration 0026)
            "record_key",  # the cell keys (migration 0050)
        ),
        # The deadline streams (cases/deadline_pages.py) of the cases not erased: every read
        # leaves an erased case out, from the index alone (migration 0028); the opening too,
        # so the steering report's overdue count as of its period's end (cases/state_at.py)
        # tests "opened before it" from the index alone (migration 0042).
        Index(
            "ix_case_file_state_first_report_id",
            "covenant_id",
            "state",
            "first_report_at",
            "id",
            "opened_at",
            postgresql_where=text("erased_at IS NULL"),
            sqlite_where=text("erased_at IS NULL"),
        ),
        Index(
            "ix_case_file_state_entered_id",
            "covenant_id",
            "state",
            "state_entered_at",
            "id",
            "opened_at",
            postgresql_where=text("erased_at IS NULL"),
            sqlite_where=text("erased_at IS NULL"),
        ),
        Index("ix_case_file_lead_opened", "lead_partner_id", "opened_at", "id"),
        # Intake's "is this dwelling already known?" (migration 0031). Partial: the sweep
        # clears an erased case's index, which then adds no entry here.
        Index(
            "ix_case_file_covenant_address",
            "covenant_id",
            "address_index",
            postgresql_where=text("address_index IS NOT NULL"),
            sqlite_where=text("address_index IS NOT NULL"),
        ),
        # The districts of the open cases and each one's first opening (cases/districts.py;
        # migration 0026): only open cases, so it does not grow with the history.
        Index(
            "ix_case_file_open_district",
            "covenant_id",
            "district",
            "opened_at",
            postgresql_where=text("closed_at IS NULL"),
            sqlite_where=text("closed_at IS NULL"),
        ),
        # The open cases not erased by (state, district): the steering report's open counts
        # from the index alone, and it does not grow with the history (migration 0027); with
        # the opening and the id, its "opened before the period's end, not moved since" too
        # (gateway/cases/state_at.py, migration 0042).
        Index(
            "ix_case_file_open_live",
            "covenant_id",
            "state",
            "district",
            "opened_at",
            "id",
            "record_key",
            postgresql_where=text("closed_at IS NULL AND erased_at IS NULL"),
            sqlite_where=text("closed_at IS NULL AND erased_at IS NULL"),
        ),
        # The open cases erased under retention, by erasure: those erased since the steering
        # report's period ended, which it counts as they stood (state_at.py, migration 0042).
        # Only erased open cases: it grows with nothing else.
        Index(
            "ix_case_file_erased_open",
            "covenant_id",
            "erased_at",
            postgresql_where=text("closed_at IS NULL AND erased_at IS NOT NULL"),
            sqlite_where=text("closed_at IS NULL AND erased_at IS NOT NULL"),
        ),
        # The numbers of days the day-based deadline streams have (deadline_pages
        # .case_streams), from the few cases that carry one (migration 0029).
        Index(
            "ix_case_file_state_days",
            "covenant_id",
            "state",
            "state_days",
            postgresql_where=text("state_days IS NOT NULL"),
            sqlite_where=text("state_days IS NOT NULL"),
        ),
        # Who may learn a record exists (GET /v1/cases/{id}/retention/records,
        # gateway/retention/targets.py): whoever reads the case.
        {"info": {"record_readers": "case"}},
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    #: The steering report's record key (gateway/cases/cell_key.py, migration 0050): a fixed
    #: random number, never shown, that the report's cell-key perturbation sums per count.
    record_key: Mapped[int] = mapped_column(Integer, default=new_record_key)
    covenant_id: Mapped[str] = mapped_column(String(100))
    dwelling_id: Mapped[str] = mapped_column(ForeignKey("dwelling.id"), index=True)
    district: Mapped[str] = mapped_column(String(100))
    address_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    #: The blind index of the address (gateway/crypto: postcode + number + addition). A
    #: blind-index column, so the retention sweep clears it with the dossier.
    address_index: Mapped[str | None] = mapped_column(
        String(64), nullable=True, info={"blind_index": True}
    )
    state: Mapped[str] = mapped_column(String(60))
    state_entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The ``days`` fact of the transition that entered the state (temporary eviction).
    state_days: Mapped[int | None] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_report_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the retention sweep erased the case (None: not erased). Set by the sweep's
    #: overwrite of the dossier, in the erasure's transaction (an ``erasure_mark`` column:
    #: gateway/retention/targets.py), so the lists and counts leave an erased case out by
    #: a column of the row they read, not a probe of the retention register per row.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime, info={"erasure_mark": True})
    lead_partner_id: Mapped[str] = mapped_column(String(100))
    case_manager: Mapped[str | None] = mapped_column(String(200))
    # Rijswijk: simple | complex (R §3.2); None until weighed.
    complexity: Mapped[str | None] = mapped_column(String(20))
    # U §2: the acute override and its (sealed) reason.
    acute_override: Mapped[bool] = mapped_column(Boolean, default=False)
    acute_reason_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # U §5.1: the case manager's OGGZ check (public mental health: health data).
    oggz_target_group: Mapped[bool | None] = mapped_column(Boolean, info=ASSESSMENT)
    oggz_referred: Mapped[bool | None] = mapped_column(Boolean, info=ASSESSMENT)
    # U §5.4: whether pollution of the dwelling is part of the nuisance, as the case lead
    # recorded it (POST .../criteria); None: not recorded, which the policy treats as no
    # (U-5.4-volksgezondheid). The lead's assessment: cleared at erasure like the OGGZ check.
    dwelling_pollution: Mapped[bool | None] = mapped_column(Boolean, info=ASSESSMENT)
    both_sides_heard: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set by the police (U §5.3): OM consent is needed for antecedents while it runs. None:
    # nobody recorded it yet, which the policy treats as if one runs (unknown is not no).
    # Criminal-law data (AVG art. 10): cleared at erasure, when no policy reads it any more.
    investigation_running: Mapped[bool | None] = mapped_column(Boolean, info=ASSESSMENT)
    # U §7: the result on two legs and the aftercare decision, as fixed codes.
    neighbours_judgement: Mapped[str | None] = mapped_column(String(20))
    partners_judgement: Mapped[str | None] = mapped_column(String(20))
    aftercare_decision: Mapped[str | None] = mapped_column(String(20))
    # Optimistic lock: two partners moving the same case at once cannot both win.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    @validates("opened_at")
    def _opened_once(self, key: str, value: datetime) -> datetime:
        """A case's opening moment is set once: its team memberships carry a copy
        (``CaseTeamMember.case_opened_at``), by which the case list reads them in order."""
        if self.opened_at is not None and value != self.opened_at:
            raise ValueError("A case's opening moment does not change.")
        return value


class CasePerson(Base):
    __tablename__ = "case_person"
    # The summary counts the persons per role for every reader (``personRoles``).
    __table_args__ = {"info": {"record_readers": "case"}}

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("case_file.id"), index=True)
    # causer | complainant | neighbour
    role: Mapped[str] = mapped_column(String(20))
    identifier_index: Mapped[str | None] = mapped_column(String(128), index=True)
    identifier_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    name_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)


class CaseReport(Base):
    """A report ("melding") in the case's dossier."""

    __tablename__ = "case_report"
    # A partner's own reports, newest first, a page at a time (GET /v1/reports; migration
    # 0024); the lead's reporter decisions in a deadlines page, by registration (0025).
    __table_args__ = (
        Index("ix_case_report_source_registered", "source_partner_id", "registered_at", "id"),
        Index("ix_case_report_awaiting", "awaiting_lead", "registered_at", "id"),
        # The reports registered since a moment with their case and receipt: the steering
        # report's cases whose first report a later report moved (gateway/cases/state_at.py,
        # migration 0043).
        Index("ix_case_report_registered", "registered_at", "case_id", "received_at"),
        # The summary counts the reports for every reader (``reportCount``).
        {"info": {"record_readers": "case"}},
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("case_file.id"), index=True)
    source_partner_id: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(30))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    description_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    #: The lead's decision on a reporter outside the case team (U §6): ``joined`` or
    #: ``declined``; None while undecided, and for a reporter that was in the team anyway.
    lead_decision: Mapped[str | None] = mapped_column(String(20), nullable=True)
    lead_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lead_decided_by: Mapped[str | None] = mapped_column(String(300), nullable=True)
    #: Stored truth of "this report awaits the lead's decision" (gateway/cases/awaiting.py):
    #: undecided, its partner neither the lead nor in the team, the case not closed. Kept
    #: right at every flush that could change it, so a deadlines page reads the lead's
    #: pending decisions from an index instead of every report the covenant ever had.
    awaiting_lead: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class CaseReportPerson(Base):
    """A person named in a report filed by a partner outside the case team (review3 finding
    6), held with the report: not a person of the case until the lead accepts the reporter
    (U §6: who is involved is the lead's decision; gateway/cases/reports.py). Nothing reads
    these as the case's: no intake match, no summary count, no audit data subject. On the
    lead's acceptance each becomes a ``case_person`` with this row's id, so its fields are
    sealed under the case's key scope for that ``case_person`` record from the start; a
    declined report keeps them until the case's dossier is erased, as its own description."""

    __tablename__ = "case_report_person"
    # Listed as the report is (its existence says only that a report named someone).
    __table_args__ = {"info": {"record_readers": "case"}}

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("case_file.id"), index=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("case_report.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    #: Not indexed on purpose: intake never looks a held person up.
    identifier_index: Mapped[str | None] = mapped_column(String(128), nullable=True)
    identifier_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    name_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)


class CaseTeamMember(Base):
    """The partners involved in the case: the need-to-know set the policy uses."""

    __tablename__ = "case_team_member"
    __table_args__ = (
        Index("ix_case_team_member_partner", "partner_id", "case_id"),
        # A partner's team cases in the case list's order (opened, id): migration 0028.
        Index("ix_case_team_member_partner_opened", "partner_id", "case_opened_at", "case_id"),
    )

    case_id: Mapped[str] = mapped_column(ForeignKey("case_file.id"), primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    #: The case's ``opened_at`` (which never changes), so the case list reads a partner's
    #: team cases in its order from an index.
    case_opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    added_by: Mapped[str] = mapped_column(String(300))
    #: Added by the lead only to be asked (U §5.6 "desgevraagd"), not yet one of "de andere
    #: partijen die bij de casus zijn betrokken" (U §6): it sees the case and answers, but is
    #: listed to the lead and itself only, takes no workflow step and is no team member for
    #: the policy, until the lead marks it involved (review9a F3; migration 0048).
    consulted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    @classmethod
    def of(
        cls, case: CaseFile, partner_id: str, *, now: datetime, by: str, consulted: bool = False
    ) -> CaseTeamMember:
        """A new membership of ``case``'s team, with the case's opening moment."""
        return cls(
            case_id=case.id,
            partner_id=partner_id,
            case_opened_at=case.opened_at,
            added_at=now,
            added_by=by,
            consulted=consulted,
        )


class CaseConsent(Base):
    """A consent on file: the corporation's permission (U §5.1) or the OM's consent
    registered by the police (U §5.3), with its scope (data categories) and expiry."""

    __tablename__ = "case_consent"
    # Deleted with an erased dossier (gateway/retention/targets.py ``erasure_delete``): an OM
    # consent tells that a police investigation runs or ran, as ``investigation_running``,
    # which the sweep clears (review4 F4); a corporation's permission was only ever an answer
    # about sharing the dossier that is gone (review5b P2).
    __table_args__ = {"info": {"erasure_delete": True}}

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("case_file.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    partner_id: Mapped[str] = mapped_column(String(100))
    granted: Mapped[bool] = mapped_column(Boolean)
    scope: Mapped[list[str]] = mapped_column(JSON)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(300))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CaseEventRecord(Base):
    """A case event a covenant clause can require (``events`` in the covenant file), e.g. the
    landlord's eviction procedure (U §5.2, §5.3): which, who recorded it and when."""

    __tablename__ = "case_event"
    # Deleted with an erased dossier (``erasure_delete``): a measure's kind tells about the
    # resident ("wonen met een zorgcontract" a care need), with its date (review5b P2).
    __table_args__ = {"info": {"erasure_delete": True}}

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("case_file.id"), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    partner_id: Mapped[str] = mapped_column(String(100))
    occurred_on: Mapped[date | None] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(300))


class CaseCriterion(Base):
    """U §2: one criterion judged for the case, with the reporter's evidence (sealed)."""

    __tablename__ = "case_criterion"
    # Which criteria the lead recorded is its assessment (U §5.1; criterion 4 names
    # psychiatry, addiction and crime): the summary shows them to the lead only, so the
    # retention records list withholds the rows, their number included, from the rest
    # (review2 finding 4; gateway/cases/summary_readers.py).
    __table_args__ = {"info": {"record_readers": "assessment"}}

    case_id: Mapped[str] = mapped_column(ForeignKey("case_file.id"), primary_key=True)
    criterion: Mapped[str] = mapped_column(String(60), primary_key=True)
    #: None only once the dossier is erased (migration 0036).
    holds: Mapped[bool | None] = mapped_column(Boolean, info=ASSESSMENT)
    evidence_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(300))


class CaseTransition(Base):
    """The case's history: every transition made, by whom, with its non-personal facts."""

    __tablename__ = "case_transition"
    # Covering (migration 0025): the steering report counts a covenant's transitions of a
    # period per kind from this index alone, without checking each one's case; and reads
    # the cases that took a step since its period ended (the case id, migration 0042).
    # The summary's ``history`` shows every reader each transition and whether it has a
    # reason (``hasReason``), which is what an erased record's count of values tells.
    __table_args__ = (
        Index(
            "ix_case_transition_covenant_at",
            "covenant_id",
            "at",
            "transition",
            "case_id",
            "record_key",
        ),
        {"info": {"record_readers": "case"}},
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("case_file.id"), index=True)
    #: The case's covenant (a case never changes covenant), written with every transition.
    covenant_id: Mapped[str] = mapped_column(String(100))
    transition: Mapped[str] = mapped_column(String(60))
    from_state: Mapped[str] = mapped_column(String(60))
    to_state: Mapped[str] = mapped_column(String(60))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_partner_id: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(60))
    actor_user: Mapped[str | None] = mapped_column(String(200))
    #: Pruned to FACTS_KEPT_AFTER_ERASURE when the dossier is erased.
    facts: Mapped[dict[str, Any]] = mapped_column(
        JSON, info={"erasure_keep_keys": FACTS_KEPT_AFTER_ERASURE}
    )
    reason_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: The steering report's record key (gateway/cases/cell_key.py, migration 0050): a fixed
    #: random number, never shown, that the report's cell-key perturbation sums per count.
    record_key: Mapped[int] = mapped_column(Integer, default=new_record_key)


class EnforcementMeasure(Base):
    """An instrument of the enforcement matrix (R Bijlage E) applied in the case."""

    __tablename__ = "enforcement_measure"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("case_file.id"), index=True)
    transition_id: Mapped[str] = mapped_column(ForeignKey("case_transition.id"))
    instrument: Mapped[str] = mapped_column(String(40))
    amount_eur: Mapped[int | None] = mapped_column(Integer)
    days: Mapped[int | None] = mapped_column(Integer)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by_partner_id: Mapped[str] = mapped_column(String(100))


class CaseMeeting(Base):
    """A case meeting ("casusoverleg") of one district."""

    __tablename__ = "case_meeting"
    # The covenant's meetings (of one district or all) by date, a page at a time; a
    # district's last meeting held, for the organiser's deadlines (migration 0026).
    __table_args__ = (
        Index("ix_case_meeting_covenant_scheduled", "covenant_id", "scheduled_on", "id"),
        Index(
            "ix_case_meeting_district_scheduled", "covenant_id", "district", "scheduled_on", "id"
        ),
        Index("ix_case_meeting_district_held", "covenant_id", "district", "held_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    covenant_id: Mapped[str] = mapped_column(String(100))
    district: Mapped[str] = mapped_column(String(100), index=True)
    scheduled_on: Mapped[date] = mapped_column(Date)
    organiser_partner_id: Mapped[str] = mapped_column(String(100))
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # partner id -> present (True) / absent with notice (False)
    attendance: Mapped[dict[str, bool]] = mapped_column(JSON)
    minutes_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When the retention sweep erased the meeting's minutes and actions' descriptions (its
    #: key scope shredded) because nothing it discussed is kept (gateway/retention/minutes.py);
    #: None while kept. Writes to an erased meeting answer 410.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MeetingAgendaItem(Base):
    __tablename__ = "meeting_agenda_item"
    # The meetings a case was on the agenda of (the case page).
    __table_args__ = (Index("ix_meeting_agenda_item_case", "case_id", "meeting_id"),)

    meeting_id: Mapped[str] = mapped_column(ForeignKey("case_meeting.id"), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("case_file.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    state_at_agenda: Mapped[str] = mapped_column(String(60))


class MeetingAction(Base):
    """An action agreed in a case meeting, with its owner (a partner) and due date."""

    __tablename__ = "meeting_action"
    # A case's actions are shown to the partners that lead it or are in its team
    # (cases/meetings.py, districts.partner_cases): the readers of its retention records.
    __table_args__ = {"info": {"record_readers": "case"}}

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("case_meeting.id"), index=True)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("case_file.id"))
    owner_partner_id: Mapped[str] = mapped_column(String(100), index=True)
    description_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    due_on: Mapped[date] = mapped_column(Date)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CaseNotice(Base):
    """A partner told of something in a case that it does not act on but must know: the
    lead returned to the corporation, or the corporation recorded a legal measure (R §2.3:
    "neemt de woningcorporatie de regie weer over en informeert ze de gemeente over eventuele
    juridische maatregelen"). In the addressee's inbox until one of its people or its back
    office marks it read."""

    __tablename__ = "case_notice"
    # Deleted with an erased dossier (``erasure_delete``): ``event:<kind>`` names the
    # landlord's measure the notice told of (review5b P2), and nobody can act on a notice of
    # an erased case (the inbox leaves it out; marking it read answers 410).
    __table_args__ = {"info": {"erasure_delete": True}}

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("case_file.id"), index=True)
    partner_id: Mapped[str] = mapped_column(String(100), index=True)
    #: ``transition:<id>`` or ``event:<id>``: what happened (no personal data).
    subject: Mapped[str] = mapped_column(String(80))
    #: The case_transition or case_event row it is about.
    about_id: Mapped[str] = mapped_column(String(36))
    from_partner_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    read_by: Mapped[str | None] = mapped_column(String(300), nullable=True)


class SteeringSnapshot(Base):
    """The steering report's state figures of a covenant as they stood at the end of a
    month (``as_of``: 00:00 of the next month's first day, the covenant's time), taken by the
    retention sweep before it erases anything (gateway/cases/snapshots.py). Counts only, no
    case: the report suppresses small cells when it shows them, as it does computed ones."""

    __tablename__ = "steering_snapshot"

    covenant_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    #: {state: count} and {district: count} of the cases open at ``as_of``.
    open_by_phase: Mapped[dict[str, int]] = mapped_column(JSON)
    open_by_district: Mapped[dict[str, int]] = mapped_column(JSON)
    overdue_deadlines: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: {"phase": {state: key}, "district": {district: key}}: each cell's key (the sum of its
    #: cases' record keys, gateway/cases/cell_key.py; migration 0050). None for a month kept
    #: before it.
    cell_keys: Mapped[dict[str, dict[str, int]] | None] = mapped_column(JSON, nullable=True)
