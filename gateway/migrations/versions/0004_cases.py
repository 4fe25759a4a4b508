"""Cases: dwellings, cases, persons, reports, team, consents, criteria, history, enforcement
measures, case meetings with agenda and actions.

Revision ID: 0004_cases
Revises: 0001_foundation
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_cases"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "dwelling",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("covenant_id", sa.String(100), nullable=False),
        sa.Column("address_index", sa.String(128), nullable=False),
        sa.Column("ownership", sa.String(20), nullable=False),
        sa.Column("corporation_id", sa.String(100), nullable=True),
        sa.Column("district", sa.String(100), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_dwelling"),
        sa.UniqueConstraint("covenant_id", "address_index", name="uq_dwelling_covenant_id"),
    )
    op.create_table(
        "case_file",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("reference", sa.String(40), nullable=False),
        sa.Column("covenant_id", sa.String(100), nullable=False),
        sa.Column("dwelling_id", sa.String(36), nullable=False),
        sa.Column("district", sa.String(100), nullable=False),
        sa.Column("address_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(60), nullable=False),
        _ts("state_entered_at"),
        sa.Column("state_days", sa.Integer(), nullable=True),
        _ts("opened_at"),
        _ts("first_report_at"),
        _ts("closed_at", nullable=True),
        sa.Column("lead_partner_id", sa.String(100), nullable=False),
        sa.Column("case_manager", sa.String(200), nullable=True),
        sa.Column("complexity", sa.String(20), nullable=True),
        sa.Column("acute_override", sa.Boolean(), nullable=False),
        sa.Column("acute_reason_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("oggz_target_group", sa.Boolean(), nullable=True),
        sa.Column("oggz_referred", sa.Boolean(), nullable=True),
        sa.Column("both_sides_heard", sa.Boolean(), nullable=False),
        sa.Column("investigation_running", sa.Boolean(), nullable=False),
        sa.Column("neighbours_judgement", sa.String(20), nullable=True),
        sa.Column("partners_judgement", sa.String(20), nullable=True),
        sa.Column("aftercare_decision", sa.String(20), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dwelling_id"], ["dwelling.id"], name="fk_case_file_dwelling_id_dwelling"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_case_file"),
        sa.UniqueConstraint("reference", name="uq_case_file_reference"),
    )
    for column in ("covenant_id", "dwelling_id", "district", "state", "lead_partner_id"):
        op.create_index(f"ix_case_file_{column}", "case_file", [column])

    op.create_table(
        "case_person",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("identifier_index", sa.String(128), nullable=True),
        sa.Column("identifier_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("name_sealed", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_file.id"], name="fk_case_person_case_id_case_file"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_case_person"),
    )
    op.create_index("ix_case_person_case_id", "case_person", ["case_id"])
    op.create_index("ix_case_person_identifier_index", "case_person", ["identifier_index"])

    op.create_table(
        "case_report",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("source_partner_id", sa.String(100), nullable=False),
        sa.Column("channel", sa.String(30), nullable=False),
        _ts("received_at"),
        _ts("registered_at"),
        sa.Column("description_sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_file.id"], name="fk_case_report_case_id_case_file"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_case_report"),
    )
    op.create_index("ix_case_report_case_id", "case_report", ["case_id"])

    op.create_table(
        "case_team_member",
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("partner_id", sa.String(100), nullable=False),
        _ts("added_at"),
        sa.Column("added_by", sa.String(300), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_file.id"], name="fk_case_team_member_case_id_case_file"
        ),
        sa.PrimaryKeyConstraint("case_id", "partner_id", name="pk_case_team_member"),
    )

    op.create_table(
        "case_consent",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("partner_id", sa.String(100), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        _ts("expires_at", nullable=True),
        _ts("recorded_at"),
        sa.Column("recorded_by", sa.String(300), nullable=False),
        _ts("withdrawn_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_file.id"], name="fk_case_consent_case_id_case_file"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_case_consent"),
    )
    op.create_index("ix_case_consent_case_id", "case_consent", ["case_id"])

    op.create_table(
        "case_criterion",
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("criterion", sa.String(60), nullable=False),
        sa.Column("holds", sa.Boolean(), nullable=False),
        sa.Column("evidence_sealed", sa.LargeBinary(), nullable=True),
        _ts("recorded_at"),
        sa.Column("recorded_by", sa.String(300), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_file.id"], name="fk_case_criterion_case_id_case_file"
        ),
        sa.PrimaryKeyConstraint("case_id", "criterion", name="pk_case_criterion"),
    )

    op.create_table(
        "case_transition",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("transition", sa.String(60), nullable=False),
        sa.Column("from_state", sa.String(60), nullable=False),
        sa.Column("to_state", sa.String(60), nullable=False),
        _ts("at"),
        sa.Column("actor_partner_id", sa.String(100), nullable=False),
        sa.Column("actor_role", sa.String(60), nullable=False),
        sa.Column("actor_user", sa.String(200), nullable=True),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("reason_sealed", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_file.id"], name="fk_case_transition_case_id_case_file"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_case_transition"),
    )
    op.create_index("ix_case_transition_case_id", "case_transition", ["case_id"])

    op.create_table(
        "enforcement_measure",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("transition_id", sa.String(36), nullable=False),
        sa.Column("instrument", sa.String(40), nullable=False),
        sa.Column("amount_eur", sa.Integer(), nullable=True),
        sa.Column("days", sa.Integer(), nullable=True),
        _ts("decided_at"),
        sa.Column("decided_by_partner_id", sa.String(100), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_file.id"], name="fk_enforcement_measure_case_id_case_file"
        ),
        sa.ForeignKeyConstraint(
            ["transition_id"],
            ["case_transition.id"],
            name="fk_enforcement_measure_transition_id_case_transition",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_enforcement_measure"),
    )
    op.create_index("ix_enforcement_measure_case_id", "enforcement_measure", ["case_id"])

    op.create_table(
        "case_meeting",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("covenant_id", sa.String(100), nullable=False),
        sa.Column("district", sa.String(100), nullable=False),
        sa.Column("scheduled_on", sa.Date(), nullable=False),
        sa.Column("organiser_partner_id", sa.String(100), nullable=False),
        _ts("held_at", nullable=True),
        sa.Column("attendance", sa.JSON(), nullable=False),
        sa.Column("minutes_sealed", sa.LargeBinary(), nullable=True),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_case_meeting"),
    )
    op.create_index("ix_case_meeting_covenant_id", "case_meeting", ["covenant_id"])
    op.create_index("ix_case_meeting_district", "case_meeting", ["district"])

    op.create_table(
        "meeting_agenda_item",
        sa.Column("meeting_id", sa.String(36), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("state_at_agenda", sa.String(60), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["case_meeting.id"],
            name="fk_meeting_agenda_item_meeting_id_case_meeting",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_file.id"], name="fk_meeting_agenda_item_case_id_case_file"
        ),
        sa.PrimaryKeyConstraint("meeting_id", "case_id", name="pk_meeting_agenda_item"),
    )

    op.create_table(
        "meeting_action",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("meeting_id", sa.String(36), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=True),
        sa.Column("owner_partner_id", sa.String(100), nullable=False),
        sa.Column("description_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        _ts("done_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["case_meeting.id"], name="fk_meeting_action_meeting_id_case_meeting"
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_file.id"], name="fk_meeting_action_case_id_case_file"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_meeting_action"),
    )
    op.create_index("ix_meeting_action_meeting_id", "meeting_action", ["meeting_id"])
    op.create_index("ix_meeting_action_owner_partner_id", "meeting_action", ["owner_partner_id"])


def downgrade() -> None:
    for table in (
        "meeting_action",
        "meeting_agenda_item",
        "case_meeting",
        "enforcement_measure",
        "case_transition",
        "case_criterion",
        "case_consent",
        "case_team_member",
        "case_report",
        "case_person",
        "case_file",
        "dwelling",
    ):
        op.drop_table(table)
