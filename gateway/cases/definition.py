"""A covenant's workflow as data: the pydantic models and the loader for
``policies/<covenant-id>/workflow.yaml``.

The file names the states (the covenant's phases), the allowed transitions with who may make
them and the guards that must hold, the deadlines, and (Rijswijk) the enforcement matrix.
The engine in :mod:`gateway.cases.workflow` enforces it; nothing about a covenant's process
is hard-coded in Python except the meaning of each named guard.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from gateway.cases.guards import GUARDS
from gateway.core import yaml_text
from gateway.core.dutch_date import DUTCH_TIME
from gateway.core.errors import GatewayError
from gateway.policy.layout import covenant_folders, id_mismatch

PeriodUnit = Literal["hours", "calendar-days", "working-days", "weeks", "months"]
#: When a deadline's period starts: ``first-report``, the earliest receipt (``receivedAt``) of
#: the case's reports (R Bijlage D fase 1 "Zodra een melding ... wordt ontvangen"; it moves
#: back when an older report joins); ``first-registration``, the case's opening, i.e. the
#: registration of its first report in the gateway, which never moves (U §5.1 "Op het moment
#: dat een aanmelding binnen komt" at U Centraal; review8a F3); ``state-entered``, the entry
#: of the state the deadline runs in.
DeadlineStart = Literal["first-report", "first-registration", "state-entered"]
Holiday = Literal[
    "new-years-day",
    "good-friday",
    "easter-monday",
    "kings-day",
    "liberation-day",
    "ascension-day",
    "whit-monday",
    "christmas-day",
    "boxing-day",
]
LeadRule = Literal["source-partner", "partner-kind"]
#: ``leadTo`` names a partner kind, or this relation: the corporation that owns the case's
#: dwelling (R §2.3: "neemt de woningcorporatie de regie weer over").
DWELLING_CORPORATION = "dwelling-corporation"
TeamSeed = Literal["lead", "source-partner", "dwelling-corporation"]
#: Facts a transition request may carry; a transition lists the ones it requires.
Fact = Literal[
    "reason",
    "oggz-check",
    "both-sides-heard",
    "mediation-screening",
    "breach-established",
    "amount-eur",
    "days",
    "measure",
    "result",
    "adult",
    "ground",
]
Instrument = Literal[
    "warning",
    "intention",
    "behavioural-order",
    "last-chance-contract",
    "penalty",
    "administrative-enforcement",
    "temporary-eviction",
    "temporary-eviction-extension",
    "permanent-eviction",
]


class WorkflowError(GatewayError):
    """A workflow file is missing or invalid; the gateway refuses to start with it."""

    status = 500
    problem = "workflow-invalid"
    title = "Workflow definition invalid"


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class Period(_Model):
    amount: int | None = Field(default=None, ge=1)
    unit: PeriodUnit
    # Take the amount from the ``days`` fact of the transition that entered the state
    # (the temporary eviction runs for the days the mayor decided).
    amount_from_days: bool = False
    # Algemene termijnenwet art. 1: a period ending on a Saturday, Sunday or holiday ends
    # on the next working day; art. 2: a period of at least three days holds at least two
    # working days (WorkingCalendar.extend_per_termijnenwet).
    roll_to_working_day: bool = False

    @model_validator(mode="after")
    def _amount_given(self) -> Period:
        if (self.amount is None) == (not self.amount_from_days):
            raise ValueError("give either 'amount' or 'amountFromDays: true'")
        return self


class Calendar(_Model):
    timezone: str = DUTCH_TIME.key
    holidays: list[Holiday]

    @field_validator("timezone")
    @classmethod
    def _dutch(cls, value: str) -> str:
        # One calendar for every date of a covenant: the retention register, the erasure
        # warnings, the pages and the date checks all count in Dutch dates
        # (gateway.core.dutch_date), so a workflow counting its deadlines in another zone
        # would disagree with them about what day it is. Refused, not half honoured.
        if value != DUTCH_TIME.key:
            raise ValueError(f"the covenant's calendar is Dutch: timezone '{DUTCH_TIME.key}'")
        return value


class State(_Model):
    id: str
    description: str = ""
    final: bool = False
    events_inform: list[str] = Field(
        default_factory=list,
        description="Partner kinds told (a notice in their inbox) of every case event "
        "recorded while the case is in this state (R §2.3: the corporation 'informeert ... de "
        "gemeente over eventuele juridische maatregelen').",
    )


class Actor(_Model):
    """One way to be allowed: a partner of one of ``partner_kinds`` acting in one of ``roles``.

    ``lead`` means the acting partner must hold the lead (regie) of the case; ``team`` that it
    must be in the case team (the lead always is).
    """

    partner_kinds: list[str]
    roles: list[str]
    lead: bool = False
    team: bool = True


class Guard(_Model):
    name: str
    source: str = Field(description="The section the guard encodes, e.g. 'R Bijlage E'.")


class Transition(_Model):
    id: str
    description: str = ""
    description_nl: str = Field(
        min_length=1, description="What the transition means, in Dutch, for the pages."
    )
    source: str
    from_states: list[str] = Field(alias="from")
    to: str
    actors: list[Actor]
    guards: list[Guard] = Field(default_factory=list)
    requires: list[Fact] = Field(default_factory=list)
    records: Instrument | None = Field(
        default=None, description="The enforcement instrument this transition applies."
    )
    lead_to: str | None = Field(
        default=None,
        description="Move the lead (regie) to the partner of this kind, or with "
        "'dwelling-corporation' to the corporation that owns the dwelling.",
    )
    informs: list[str] = Field(
        default_factory=list,
        description="Partner kinds told of the transition by a notice in their inbox.",
    )
    complexity: Literal["simple", "complex"] | None = Field(
        default=None, description="Classifies the case (R §3.2)."
    )
    extends_state: bool = Field(
        default=False,
        description=(
            "The transition stays in its state and adds its days to the state's days, counted "
            "from when the state was first entered (R Bijlage E: '10 dagen en aanvullend met "
            "maximaal 18 dagen')."
        ),
    )
    keeps_state_clock: bool = Field(
        default=False,
        description="The transition stays in its state and records an event without "
        "restarting the state's deadlines (U §4: an administrative intervention considered).",
    )

    @model_validator(mode="after")
    def _extends_its_own_state(self) -> Transition:
        if self.extends_state and (self.from_states != [self.to] or "days" not in self.requires):
            raise ValueError(
                f"transition '{self.id}' extends a state: it leaves only that state and "
                "requires 'days'"
            )
        if self.keeps_state_clock and self.from_states != [self.to]:
            raise ValueError(f"transition '{self.id}' keeps the state's clock: it stays in it")
        return self


class Deadline(_Model):
    id: str
    description: str
    source: str
    start: DeadlineStart
    open_in: list[str] = Field(description="States in which the deadline runs.")
    period: Period
    # The deadline is met once a consent of this kind is on file (corporation's answer).
    # Only the corporation's: the whole team reads a case's deadlines, and one met by an OM
    # consent would tell them that an investigation runs (U §5.3; summary_readers.py).
    met_by_consent: Literal["corporation-permission"] | None = None
    responsible: Literal["lead", "dwelling-corporation"] = "lead"

    @model_validator(mode="after")
    def _one_state_for_state_entered(self) -> Deadline:
        if self.start == "state-entered" and len(self.open_in) != 1:
            raise ValueError("a deadline that starts when a state is entered runs in one state")
        return self


class Criterion(_Model):
    id: str
    text: str


class Classification(_Model):
    """U §2: at least ``minimum`` criteria must hold, or an acute override with a reason."""

    source: str
    minimum: int = Field(ge=1)
    criteria: list[Criterion]
    acute_override: bool = True


class EnforcementMatrix(_Model):
    """R Bijlage E, the limits the escalation guards enforce."""

    source: str
    penalty_per_breach_max_eur: int = Field(gt=0)
    penalty_total_max_eur: int = Field(gt=0)
    temporary_eviction_days: int = Field(gt=0)
    temporary_eviction_extension_max_days: int = Field(gt=0)


class Meetings(_Model):
    source: str
    interval: Period
    organiser_kind: str


class Intake(_Model):
    source: str
    lead: LeadRule
    lead_kind: str | None = None
    team: list[TeamSeed]
    # U §5.2: when the corporation itself reports its own dwelling it commissions the case,
    # so its permission is on file from the start.
    reporter_corporation_permits: bool = False
    # R §2.3: for a rented (corporation) dwelling the landlord is the first point of contact:
    # the transition by which it takes up a report that came in elsewhere (guard
    # 'landlord-first' refuses the next steps until it is on the case's history).
    landlord_first_step: str | None = None
    # R §2.3: "Bij koop- of particuliere woningen is de gemeente het eerste aanspreekpunt":
    # per tenure that is not the corporation's, the partner kind that leads a case a report
    # opens, whoever received the report. A tenure not listed keeps the ``lead`` rule; when
    # the map is set, a tenure that is neither listed nor a corporation's is refused.
    first_contact: dict[Literal["owner-occupied", "private-rental"], str] = Field(
        default_factory=dict
    )

    def first_contact_kind(self, ownership: str) -> str | None:
        """The partner kind ``firstContact`` names for ``ownership``, if any."""
        return next((kind for t, kind in self.first_contact.items() if t == ownership), None)


class WorkflowDefinition(_Model):
    covenant: str
    source: str
    calendar: Calendar
    initial_state: str
    states: list[State]
    transitions: list[Transition]
    deadlines: list[Deadline] = Field(default_factory=list)
    intake: Intake
    classification: Classification | None = None
    enforcement_matrix: EnforcementMatrix | None = None
    meetings: Meetings
    target: Deadline | None = None

    @model_validator(mode="after")
    def _references_resolve(self) -> WorkflowDefinition:
        ids = {s.id for s in self.states}
        if len(ids) != len(self.states):
            raise ValueError("duplicate state id")
        if self.initial_state not in ids:
            raise ValueError(f"initialState '{self.initial_state}' is not a state")
        if self.state(self.initial_state).final:
            # A case would open closed: in a final state without the moment it closed
            # (workflow.py sets closed_at when a case enters a final state, and the reports
            # read "closed_at unset" as "not final"), and with no step out of it.
            raise ValueError(f"initialState '{self.initial_state}' is final: a case must open")
        seen: set[str] = set()
        for t in self.transitions:
            if t.id in seen:
                raise ValueError(f"duplicate transition id '{t.id}'")
            seen.add(t.id)
            for state in [*t.from_states, t.to]:
                if state not in ids:
                    raise ValueError(f"transition '{t.id}' names unknown state '{state}'")
            if any(self.state(s).final for s in t.from_states):
                raise ValueError(f"transition '{t.id}' leaves a final state")
        step = self.intake.landlord_first_step
        if step is not None and step not in seen:
            raise ValueError(f"intake.landlordFirstStep '{step}' is not a transition")
        for d in [*self.deadlines, *([self.target] if self.target else [])]:
            for state in d.open_in:
                if state not in ids:
                    raise ValueError(f"deadline '{d.id}' names unknown state '{state}'")
        return self

    def state(self, state_id: str) -> State:
        return next(s for s in self.states if s.id == state_id)

    def transition(self, transition_id: str) -> Transition | None:
        return next((t for t in self.transitions if t.id == transition_id), None)

    def transitions_from(self, state_id: str) -> list[Transition]:
        return [t for t in self.transitions if state_id in t.from_states]

    @property
    def final_states(self) -> frozenset[str]:
        return frozenset(s.id for s in self.states if s.final)

    @property
    def all_deadlines(self) -> list[Deadline]:
        return [*self.deadlines, *([self.target] if self.target else [])]


def parse_workflow(text: str, file: Path | str = "<workflow>") -> WorkflowDefinition:
    try:
        raw = yaml_text.safe_load(text)
    except yaml.YAMLError as exc:
        raise WorkflowError(f"{file}: not valid YAML ({type(exc).__name__})") from None
    try:
        definition = WorkflowDefinition.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise WorkflowError(f"{file}: {where}: {error['msg']}") from None
    for t in definition.transitions:
        for guard in t.guards:
            if guard.name not in GUARDS:
                raise WorkflowError(
                    f"{file}: transition '{t.id}' uses unknown guard '{guard.name}'"
                )
    return definition


def load_workflows(directory: Path | None = None) -> dict[str, WorkflowDefinition]:
    """``<id>/workflow.yaml`` of every covenant folder in ``directory`` (default: the
    packaged ones), by covenant id; a workflow names its folder's covenant."""
    workflows: dict[str, WorkflowDefinition] = {}
    for folder in covenant_folders(directory):
        file = folder.workflow
        definition = parse_workflow(file.read_text(encoding="utf-8"), file)
        if definition.covenant != folder.id:
            raise WorkflowError(f"{file}: {id_mismatch('covenant', definition.covenant, folder)}")
        workflows[definition.covenant] = definition
    return workflows
