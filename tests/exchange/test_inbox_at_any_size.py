"""The inbox at any size (issue 20): a fixed number of statements whatever the number of open
cases, and the same items in the same order as the former case-by-case reads (kept word for
word in tests/exchange/inbox_oracle.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, select, update

from gateway.auth.principal import Principal
from gateway.cases.models import CaseFile, CaseTeamMember, Dwelling
from gateway.context import GatewayContext
from gateway.exchange import inbox
from gateway.exchange.schemas import Inbox, InboxItem
from gateway.retention.models import RetentionCase
from tests.cases.builders import principal
from tests.cases.history import seed_history
from tests.exchange import inbox_oracle

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
UTRECHT = "utrecht-extreme-woonoverlast"
RIJSWIJK = "rijswijk-woonoverlast"

#: The lead's people (reporter decisions, notices) and the corporations' (permission requests,
#: reporter decisions of the cases they lead), their adapters (permission requests only).
PRINCIPALS = [
    ("u-centraal", "casemanagement", "casemanager", UTRECHT),
    ("u-centraal", "casemanagement", "adapter", UTRECHT),
    ("mitros", "housing-corporation", "woonconsulent", UTRECHT),
    ("mitros", "housing-corporation", "adapter", UTRECHT),
    ("portaal", "housing-corporation", "woonconsulent", UTRECHT),
    ("politie-midden-nederland", "police", "adapter", UTRECHT),
    ("gemeente-rijswijk", "municipality", "casemanager", RIJSWIJK),
    ("rijswijk-wonen", "housing-corporation", "woonconsulent", RIJSWIJK),
    ("vidomes", "housing-corporation", "adapter", RIJSWIJK),
]

Reader = Callable[[GatewayContext, Principal], Inbox]


@contextmanager
def _counting(context: GatewayContext) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(context.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(context.engine, "before_cursor_execute", count)


def _seed(context: GatewayContext, covenant: str, cases: int, seed: int, **kwargs: Any) -> None:
    seed_history(
        context.engine,
        context.cases.workflow(covenant),
        cases=cases,
        now=NOW,
        seed=seed,
        **kwargs,
    )


def _landlords_asked(context: GatewayContext) -> None:
    """Each open case of a corporation dwelling waiting for its landlord's permission, the
    landlord in the team: as Utrecht's intake puts it there (workflow ``intake.team``) and
    ``request-permission`` moves the case. The seeded states and teams are drawn at random,
    and a corporation is asked only in those states and where it is in the team (review4), so
    the one-case inbox would otherwise have no permission work, and its read would skip the
    consents (a statement fewer)."""
    (asking,) = {
        state
        for deadline in context.cases.workflow(UTRECHT).deadlines
        if deadline.met_by_consent == "corporation-permission"
        for state in deadline.open_in
    }
    with context.session_factory.begin() as session:
        landlords = session.execute(
            select(CaseFile, Dwelling.corporation_id)
            .join(Dwelling, Dwelling.id == CaseFile.dwelling_id)
            .where(Dwelling.corporation_id.is_not(None), CaseFile.closed_at.is_(None))
        ).all()
        members = set(session.execute(select(CaseTeamMember.case_id, CaseTeamMember.partner_id)))
        for case, corporation in landlords:
            case.state = asking
            if (case.id, corporation) not in members:
                session.add(CaseTeamMember.of(case, corporation, now=NOW, by="test"))


def _statements(context: GatewayContext, reader: Reader, who: Principal) -> tuple[int, Inbox]:
    reader(context, who)  # warm: first use of each statement, the runtime's caches
    with _counting(context) as statements:
        result = reader(context, who)
    return len(statements), result


def test_the_inbox_takes_the_same_statements_for_one_open_case_as_for_thirty(
    context: GatewayContext,
) -> None:
    """Fails if the inbox reads case by case again: the former reads (the oracle) take more
    statements for 30 open cases than for one, which this test shows as its control."""
    lead = principal("u-centraal", "casemanagement", "casemanager", UTRECHT)
    corporation = principal("mitros", "housing-corporation", "woonconsulent", UTRECHT)
    _seed(context, UTRECHT, 1, seed=1, open_share=1.0)
    _landlords_asked(context)
    one = {
        (name, who.partner_id): _statements(context, reader, who)
        for name, reader in (("new", inbox.read_inbox), ("old", inbox_oracle.read_inbox))
        for who in (lead, corporation)
    }
    _seed(context, UTRECHT, 29, seed=2, open_share=1.0)
    _landlords_asked(context)
    thirty = {
        (name, who.partner_id): _statements(context, reader, who)
        for name, reader in (("new", inbox.read_inbox), ("old", inbox_oracle.read_inbox))
        for who in (lead, corporation)
    }
    for who in (lead, corporation):
        key = ("new", who.partner_id)
        assert thirty[key][0] == one[key][0], (who.partner_id, one[key][0], thirty[key][0])
        # The same items as the former reads, so the thirty cases were really read: word for
        # word on SQLite; on PostgreSQL in the order the inbox defines, as the former reads
        # had no ORDER BY and their order there is the plan's (an index on the open cases,
        # migration 0026, changed it from the table's order).
        former = thirty[("old", who.partner_id)][1]
        if context.engine.dialect.name == "sqlite":
            assert thirty[key][1] == former
        assert thirty[key][1].items == _in_case_order(context, former.items)
        # Control: the former reads took statements per open case.
        old = ("old", who.partner_id)
        assert thirty[old][0] > one[old][0], (who.partner_id, one[old][0], thirty[old][0])
    kinds = {
        item.kind
        for key in (("new", "u-centraal"), ("new", "mitros"))
        for item in thirty[key][1].items
    }
    assert {"reporter-decision", "permission-request"} <= kinds, kinds


def _in_case_order(context: GatewayContext, items: list[InboxItem]) -> list[InboxItem]:
    """The former reads' items with their cases put in the order the inbox now defines (oldest
    first report first, ties by id). The former reads had no ORDER BY on the cases: SQLite's
    plan gave exactly this order, PostgreSQL's the table's. The sort is stable, so each case's
    own items keep their order (permission deadlines earliest first, reports by
    registration), as do the kinds' blocks."""
    with context.session_factory() as session:
        first = {
            case_id: at
            for case_id, at in session.execute(select(CaseFile.id, CaseFile.first_report_at))
        }
    blocks = ["permission-request", "reporter-decision"]

    def key(item: InboxItem) -> tuple[int, Any, str]:
        if item.kind not in blocks:
            return (len(blocks), None, "")
        assert item.case_id is not None
        return (blocks.index(item.kind), first[item.case_id], item.case_id)

    ordered = [i for i in items if i.kind in blocks]
    ordered.sort(key=key)
    rest = [i for i in items if i.kind not in blocks]
    reporter = [i for i in ordered if i.kind == "reporter-decision"][: inbox.MAX_ITEMS]
    return [i for i in ordered if i.kind == "permission-request"] + reporter + rest


@pytest.mark.parametrize("who", PRINCIPALS, ids=lambda p: f"{p[0]}-{p[2]}")
def test_the_inbox_equals_the_former_case_by_case_reads(
    context: GatewayContext, who: tuple[str, str, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A varied history in both covenants: open cases in every state, closed ones, reports
    by the lead, by team members and by outsiders, decided and undecided, consents before
    and after the state was entered, cases led by a corporation; more than ``MAX_ITEMS``
    reports awaiting the Utrecht lead (the cut must keep the same ones: the oldest cases')."""
    _seed(context, UTRECHT, 4000, seed=20, open_share=0.5)
    _seed(context, RIJSWIJK, 300, seed=21, open_share=0.4)
    partner, kind, role, covenant = who
    caller = principal(partner, kind, role, covenant)
    got = inbox.read_inbox(context, caller)
    former = inbox_oracle.read_inbox(context, caller)
    if context.engine.dialect.name == "sqlite":
        assert got == former  # word for word, order and cut included
    # Every item the former reads had, before their cut, in the order the inbox defines.
    monkeypatch.setattr(inbox_oracle, "MAX_ITEMS", 10**6)
    uncut = inbox_oracle.read_inbox(context, caller)
    assert got.items == _in_case_order(context, uncut.items)
    if role == "casemanager" and covenant == UTRECHT:
        assert len(uncut.items) > inbox.MAX_ITEMS
        assert len([i for i in got.items if i.kind == "reporter-decision"]) == inbox.MAX_ITEMS
    if kind == "housing-corporation" and covenant == UTRECHT:  # U §5.1; Rijswijk has none
        assert any(i.kind == "permission-request" for i in got.items)


def test_cases_erased_under_retention_leave_the_inbox(context: GatewayContext) -> None:
    """An open case without activity is erased under retention (docs/retention.md) and takes
    no permission and no reporter decision any more (410): its items leave the corporation's
    and the lead's inbox; the other cases' items stay (the control: every erased case had
    items before, so the test removes something)."""
    lead = principal("u-centraal", "casemanagement", "casemanager", UTRECHT)
    corporation = principal("mitros", "housing-corporation", "woonconsulent", UTRECHT)
    _seed(context, UTRECHT, 120, seed=3, open_share=1.0)
    before = {who.partner_id: inbox.read_inbox(context, who).items for who in (lead, corporation)}
    kinds = {"permission-request", "reporter-decision"}
    with_items = sorted({i.case_id for items in before.values() for i in items if i.kind in kinds})
    assert len(with_items) >= 4, with_items
    erased = set(with_items[::2])
    with context.session_factory.begin() as session:
        # As the sweep marks an erasure (some seeded cases are registered, some not yet).
        erasure = {"erased_at": NOW, "erased_rule_id": "U-open-zonder-activiteit"}
        registered = set(
            session.scalars(select(RetentionCase.case_id).where(RetentionCase.case_id.in_(erased)))
        )
        session.execute(
            update(RetentionCase).where(RetentionCase.case_id.in_(registered)).values(erasure)
        )
        for case_id in erased - registered:
            session.add(
                RetentionCase(
                    case_id=case_id, covenant_id=UTRECHT, scope=f"case:{case_id}", **erasure
                )
            )
        # And on the case itself, as the sweep's overwrite does (gateway/cases/live.py).
        session.execute(update(CaseFile).where(CaseFile.id.in_(erased)).values(erased_at=NOW))
    for who in (lead, corporation):
        after = inbox.read_inbox(context, who).items
        assert after == [i for i in before[who.partner_id] if i.case_id not in erased]
    assert any(i.kind == "permission-request" for i in before["mitros"] if i.case_id in erased)
    assert any(i.kind == "reporter-decision" for i in before["u-centraal"] if i.case_id in erased)
