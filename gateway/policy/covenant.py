"""A covenant as data: the pydantic models and the loader for ``policies/<id>/covenant.yaml``.

Loading validates the file completely before anything else sees it. Every problem is raised
as :class:`~gateway.policy.errors.CovenantError` naming the file, the line and the problem,
so a broken covenant never replaces a working one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from gateway.core import yaml_text
from gateway.policy.checks import LineMap, check_covenant, line_of
from gateway.policy.errors import CovenantError
from gateway.policy.layout import covenant_folders, default_package_dir, id_mismatch

Sensitivity = Literal["low", "medium", "high"]
SpecialCategory = Literal["criminal", "health"]
AnswerForm = Literal["detail", "yes-no"]
Condition = Literal[
    # The requesting partner is in the case team (need to know).
    "case-team",
    # For a corporation dwelling, that corporation has given permission for the case (U §5.1).
    "corporation-permission",
    # While a police investigation runs, an unexpired OM consent for this case covers the
    # category (U §5.3).
    "om-consent-if-investigation",
    # The police (community officer) is part of the case team (U §5.3 sfeerverslag).
    "police-in-case-team",
    # The case lead recorded that pollution of the dwelling is part of the nuisance (U §5.4
    # "als vervuiling van de woning onderdeel is van de overlast"): not recorded, or recorded
    # as not, fails it (``case.dwellingPollution`` in the policy input).
    "dwelling-pollution",
]
#: A recipient's relation to the case, besides its role (DESIGN.md "Conditions and
#: recipients"): the partner that owns the dwelling as its landlord (a housing corporation;
#: an owner-occupied dwelling has none), the partner holding the case's lead (regie), or the
#: partner that recorded a named case event.
Relation = Literal["dwelling-landlord", "case-lead", "event-recorder"]

RoleKind = Literal["casework", "audit", "system"]

#: The persons of a case (``case_person.role``; the cases domain's ``PersonRole`` is this).
PersonRole = Literal["causer", "complainant", "neighbour"]
#: The case's dwelling, as a data subject (its address: ``case_file.address_index``).
DWELLING: Final = "dwelling"
#: Whom a category's data concerns (``categories[].concerns``): a person of the case by its
#: role, or the dwelling. The GDPR art. 15 access report names a category only to a subject
#: it concerns (gateway/audit/reports.py ``access_report``; docs/audit.md).
Concern = Literal[PersonRole, "dwelling"]


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class Source(_Model):
    document: str
    title: str


class PartnerKind(_Model):
    id: str
    description: str = ""


class Role(_Model):
    """A role partners act in. Everything the gateway lets a role do outside the clauses
    is said here (one source: nothing in the code lists roles)."""

    id: str
    name: str = Field(description="The role's name as people read it (Dutch, on the pages).")
    description: str = ""
    kind: RoleKind = Field(
        default="casework",
        description="casework: works cases and may receive data through clauses; audit: reads "
        "the partner's disclosure log, never exchanges or receives case data (the privacy "
        "officer); system: a back-office system that exchanges on its partner's behalf, never "
        "receives data through a clause and never signs in to the pages (the adapter).",
    )
    every_partner: bool = Field(
        default=False, description="Every partner of the covenant must hold this role."
    )
    legal_hold: bool = Field(
        default=False,
        description="May set and lift a legal hold on a case's retention: a casework role on "
        "the cases its partner leads, an audit role on those its partner leads or is in the "
        "team of; a hold is lifted only by the partner that set it.",
    )
    records_facts: bool = Field(
        default=False, description="May record the dated facts retention rules read."
    )

    @property
    def receives_data(self) -> bool:
        """Only casework roles can be a clause's recipients."""
        return self.kind == "casework"


#: Partner ids no covenant may use: ``operator`` is the requester of the audit entries the
#: operator's command line writes (gateway/retention/service.py ``OPERATOR_PARTNER``), and a
#: partner of that name would find them as its own.
RESERVED_PARTNER_IDS = frozenset({"operator"})
#: A partner id: lowercase letters, digits and hyphens, at most 63 characters. The audit log
#: and its readers spell it into stored text and compare it there: a space-delimited list
#: (``dataOwners``), an attribute key (``reader:<partner>`` of the retention sweep's entries,
#: gateway/audit/readers.py ``erasure_readers``, which must be a slug of at most 100
#: characters), and SQL ``LIKE`` conditions, which SQLite compares case-insensitively while
#: Python compares exactly. An id with a capital, a space or a colon would make the two
#: disagree, or be left out of the entry's readers without a word (review of c85d928, F3).
PARTNER_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


class Partner(_Model):
    id: str
    name: str
    kind: str
    roles: list[str]

    @field_validator("id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if PARTNER_ID.fullmatch(value) is None:
            raise ValueError(
                f"partner id {value!r} is not a lowercase slug: lowercase letters, digits "
                "and hyphens, starting with a letter or digit, at most 63 characters"
            )
        if value in RESERVED_PARTNER_IDS:
            raise ValueError(f"partner id {value!r} is reserved for the gateway's operator")
        return value


class Phase(_Model):
    id: str
    description: str = ""


class Purpose(_Model):
    id: str
    name: str
    description: str = ""


class DataCategory(_Model):
    id: str
    name: str
    owner: str = Field(description="The partner kind that holds and provides this data.")
    sensitivity: Sensitivity
    special: SpecialCategory | None = Field(
        default=None, description="GDPR special or criminal-law category, if any."
    )
    answer: AnswerForm = Field(
        default="detail", description="'yes-no' for categories the source phrases as 'whether'."
    )
    concerns: list[Concern] = Field(
        min_length=1,
        description="Whom the data concerns: the case's persons by role (causer, complainant, "
        "neighbour) and/or the dwelling. Required: the access report (GDPR art. 15) names the "
        "category only to a subject it concerns, and a category without it would be shown to "
        "nobody or to everybody.",
    )

    @field_validator("concerns")
    @classmethod
    def _concerns_once(cls, value: list[str]) -> list[str]:
        twice = sorted({c for c in value if value.count(c) > 1})
        if twice:
            raise ValueError(f"names {', '.join(twice)} more than once")
        return value


class CaseEvent(_Model):
    """An event of the case a clause can require, recorded and audited as it happens, e.g.
    the landlord's further measures (U §5.2; R Bijlage F): ``eviction-procedure``."""

    id: str
    name: str
    source: str = Field(description="Section reference, e.g. 'U §5.2'.")
    recorded_by: Literal["dwelling-landlord"] = Field(
        description="Who records it: the relation to the case the recording partner must have."
    )
    category: str = Field(
        description="The data category the event is information of (e.g. the corporation's "
        "tenancy-law measures): the case summary and the audit log show the event to the "
        "roles the category's clauses name in the case's phase, and to the recording "
        "partner (gateway/cases/summary_readers.py)."
    )
    description: str = ""


class Recipient(_Model):
    """A role that may receive, optionally only where its partner has a relation to the case
    (``relation``); ``event`` names the event for ``event-recorder``. In YAML a plain role id
    stands for a recipient without a relation."""

    role: str
    relation: Relation | None = None
    event: str | None = None

    @property
    def condition(self) -> str | None:
        """The dynamic condition the relation adds to the clause for this recipient."""
        if self.relation is None:
            return None
        if self.relation == "event-recorder":
            return f"relation:event-recorder:{self.event}"
        return f"relation:{self.relation}"

    @property
    def label(self) -> str:
        if self.relation is None:
            return self.role
        suffix = f" {self.event}" if self.event else ""
        return f"{self.role} ({self.relation}{suffix})"


class EventCondition(_Model):
    """A condition that a case event (``events`` of the covenant) was recorded."""

    event: str

    @property
    def name(self) -> str:
        return f"event:{self.event}"


class Clause(_Model):
    id: str = Field(description="Cites the source section, e.g. U-5.3-geweld.")
    source: str = Field(description="Section reference, e.g. 'U §5.3'.")
    text: str = Field(description="The source wording the clause encodes.")
    provider: str = Field(description="The partner kind that discloses.")
    recipients: list[Recipient] = Field(
        description="Who may receive: roles, optionally bound to a relation to the case."
    )
    categories: list[str]
    purposes: list[str]
    phases: list[str]
    conditions: list[Condition | EventCondition] = Field(default_factory=list)

    @field_validator("recipients", mode="before")
    @classmethod
    def _role_shorthand(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"role": item} if isinstance(item, str) else item for item in value]
        return value

    @property
    def roles(self) -> list[str]:
        """The recipient roles (each once), whatever their relation."""
        return list(dict.fromkeys(r.role for r in self.recipients))

    @property
    def condition_names(self) -> list[str]:
        """The clause's conditions as named in the compiled data (``event:<id>`` for events)."""
        return [c if isinstance(c, str) else c.name for c in self.conditions]

    @property
    def recipient_labels(self) -> list[str]:
        return [r.label for r in self.recipients]


class EvaluationPeriods(_Model):
    """When the covenant has its approach evaluated (R §4.3: "een half jaar na
    inwerkingtreding tussentijds geëvalueerd ... Vervolgens ... jaarlijks"): the steering
    report cuts its closed cases into these periods, the first ``firstMonths`` long from the
    report's start, then ``thenMonths`` each."""

    source: str = Field(description="Section reference and wording, e.g. 'R §4.3 (...)'.")
    first_months: int = Field(ge=1, le=120)
    then_months: int = Field(ge=1, le=120)


class Steering(_Model):
    """Who receives the steering report and how it is cut into evaluation periods: one
    source for the API, the pages and the tests (review9a F4)."""

    source: str = Field(description="Section reference and wording of who receives results.")
    readers: list[str] | Literal["every-partner"] = Field(
        description="The partners whose users read the steering report: a list of partner "
        "ids, or 'every-partner' when the source gives the results to all partners."
    )
    evaluation_periods: EvaluationPeriods | None = Field(
        default=None,
        description="The evaluation periods the source sets; none: the report is one period "
        "and lists no evaluationPeriods.",
    )

    def reads(self, partner_id: str) -> bool:
        return self.readers == "every-partner" or partner_id in self.readers


class Covenant(_Model):
    id: str
    name: str
    source: Source
    partner_kinds: list[PartnerKind]
    roles: list[Role]
    partners: list[Partner]
    phases: list[Phase] = Field(default_factory=list)
    purposes: list[Purpose] = Field(default_factory=list)
    categories: list[DataCategory] = Field(default_factory=list)
    events: list[CaseEvent] = Field(
        default_factory=list, description="Case events clauses can require (recorded, audited)."
    )
    clauses: list[Clause] = Field(default_factory=list)
    coordinating_privacy_officer: str | None = Field(
        default=None,
        description="The partner whose privacy officer (audit role) coordinates: it has the "
        "covenant-wide view of the disclosure log; every other privacy officer sees the "
        "disclosures its own partner is accountable for (source, recipient or requester).",
    )
    steering: Steering | None = Field(
        default=None,
        description="Who reads the steering report and its evaluation periods; without it "
        "nobody reads the report (fail closed).",
    )
    # Owned by the workflow (gateway/cases) and retention (gateway/retention) domains;
    # typed loosely here so those domains can tighten them.
    workflow: dict[str, Any] | None = None
    retention: dict[str, Any] | None = None

    def role(self, role_id: str) -> Role | None:
        return next((r for r in self.roles if r.id == role_id), None)

    def role_name(self, role_id: str) -> str:
        """The role's name from the covenant; an unknown id is shown as it is."""
        role = self.role(role_id)
        return role.name if role is not None else role_id

    def steering_readers(self) -> list[Partner]:
        """The partners that receive the steering report (``steering.readers``), in the
        file's order; none without a ``steering`` section."""
        if self.steering is None:
            return []
        if self.steering.readers == "every-partner":
            return list(self.partners)
        return [p for p in self.partners if p.id in self.steering.readers]

    def reads_steering_report(self, partner_id: str) -> bool:
        """Whether ``partner_id``'s users read the steering report (``steering.readers``);
        a covenant that names no readers gives it to nobody (unknown is not yes)."""
        return (
            self.steering is not None
            and self.partner(partner_id) is not None
            and self.steering.reads(partner_id)
        )

    def partner(self, partner_id: str) -> Partner | None:
        return next((p for p in self.partners if p.id == partner_id), None)

    def category(self, category_id: str) -> DataCategory | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def clause(self, clause_id: str) -> Clause | None:
        return next((c for c in self.clauses if c.id == clause_id), None)

    def purpose(self, purpose_id: str) -> Purpose | None:
        return next((p for p in self.purposes if p.id == purpose_id), None)

    def event(self, event_id: str) -> CaseEvent | None:
        return next((e for e in self.events if e.id == event_id), None)

    def category_recipients(self, category: str, phase: str) -> list[Recipient]:
        """The recipients the clauses giving ``category`` name in ``phase``: the role, the
        category and the phase a clause must match for the policy to grant it (the static
        part of a decision, as ``_grants`` in gateway/policy/compiler.py indexes it). The
        case summary shows the landlord's measures (case events) by this rule
        (gateway/cases/summary_readers.py; review9a F2)."""
        return [
            recipient
            for clause in self.clauses
            if category in clause.categories and phase in clause.phases
            for recipient in clause.recipients
        ]

    def criminal_data_holders(self) -> frozenset[str]:
        """The partner kinds that own the covenant's criminal-law categories
        (``categories[].special: criminal``): the police, who alone know whether an
        investigation runs (U §5.3)."""
        return frozenset(c.owner for c in self.categories if c.special == "criminal")

    def criminal_data_partners(self) -> frozenset[str]:
        """The partners of those kinds (the ids of the police partners)."""
        kinds = self.criminal_data_holders()
        return frozenset(p.id for p in self.partners if p.kind in kinds)


def lead_checkable_roles(clauses: Iterable[Clause]) -> frozenset[str]:
    """The roles ``clauses`` name as recipients without a relation or bound to the lead's
    own (``case-lead``): readers outside the policy check no other relation, so such a
    recipient does not count (fail closed)."""
    return frozenset(
        recipient.role
        for clause in clauses
        for recipient in clause.recipients
        if recipient.relation in (None, "case-lead")
    )


def default_covenant_dir() -> Path:
    """The packaged covenant folders (``policies/``; gateway/policy/layout.py)."""
    return default_package_dir()


def _map_lines(file: Path, node: yaml.Node, path: tuple[str | int, ...], lines: LineMap) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                raise CovenantError(file, key_node.start_mark.line + 1, f"duplicate key '{key}'")
            seen.add(key)
            lines[(*path, key)] = key_node.start_mark.line + 1
            _map_lines(file, value_node, (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _map_lines(file, item, (*path, index), lines)


def parse_covenant(text: str, file: Path | str = "<covenant>") -> Covenant:
    """Parse and validate covenant YAML text; ``file`` is only used in error messages."""
    file = Path(file)
    try:
        loader = yaml_text.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                raise CovenantError(file, 1, "the file is empty")
            lines: LineMap = {}
            _map_lines(file, node, (), lines)
            raw = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise CovenantError(file, line, f"not valid YAML: {exc.problem}") from None
    if not isinstance(raw, dict):
        raise CovenantError(file, 1, "a covenant must be a mapping")
    try:
        covenant = Covenant.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        where = ".".join(str(part) for part in loc)
        raise CovenantError(file, line_of(lines, loc), f"{where}: {error['msg']}") from None
    check_covenant(covenant, file, lines)
    return covenant


def load_covenant(path: Path) -> Covenant:
    """Load and validate one covenant file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CovenantError(path, None, f"cannot read: {exc.strerror}") from None
    return parse_covenant(text, path)


def load_covenants(directory: Path | None = None) -> dict[str, Covenant]:
    """Load ``<id>/covenant.yaml`` of every covenant folder in ``directory`` (default: the
    packaged covenants; the layout is checked by gateway/policy/layout.py).

    A covenant's id is its folder's name. Partner ids must be unique across all covenants:
    one gateway serves several covenants and a partner id identifies one organisation in
    one covenant.
    """
    covenants: dict[str, Covenant] = {}
    partner_owner: dict[str, str] = {}
    for folder in covenant_folders(directory):
        file = folder.covenant
        covenant = load_covenant(file)
        if covenant.id != folder.id:
            raise CovenantError(file, 1, id_mismatch("id", covenant.id, folder))
        for partner in covenant.partners:
            if partner.id in partner_owner:
                raise CovenantError(
                    file,
                    None,
                    f"partner id '{partner.id}' is also used by covenant "
                    f"'{partner_owner[partner.id]}'",
                )
            partner_owner[partner.id] = covenant.id
        covenants[covenant.id] = covenant
    return covenants
