"""The adapter loop: read the export, push what is new, long-poll the inbox, answer.

One cycle: (re)read the export when it changed and report its bad rows; push new facts
for the cases this partner is involved in; poll the inbox and answer each item from the
export. ``run_once`` does one cycle without waiting (tests, the demo, cron); ``run`` loops
until SIGINT or SIGTERM and then stops between two calls, never in the middle of an answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from adapters.base import PartnerAdapter, consent_idempotency_key, own_consents
from adapters.exports import (
    MAX_EXPORT_BYTES,
    CaseLookup,
    Export,
    ExportError,
    ExportProblem,
    read_export,
)
from adapters.sdk import (
    ApiError,
    AuthenticationError,
    Conflict,
    InboxItem,
    KetenpoortClient,
    Me,
    TransportError,
)

Say = Callable[[str], None]
T = TypeVar("T")

#: How long a changed export must stand still before it is read (seconds), and how many
#: times the adapter waits for that before it gives up on this cycle.
EXPORT_SETTLE_SECONDS = 1.0
_SETTLE_TRIES = 10

#: What ``AdapterRunner._synced`` holds for a case the export has no record of.
_LEFT_EXPORT = ""


class AdapterStopped(Exception):
    """The adapter cannot go on (wrong key, wrong partner kind, unreadable export)."""


@dataclass
class CycleReport:
    """What one cycle did; ``run_once`` returns it and the CLI turns it into an exit code."""

    answered: int = 0
    permissions: int = 0
    pushed: int = 0
    skipped_rows: int = 0
    failed: int = 0
    waiting: int = 0
    notes: list[str] = field(default_factory=list)


def _covenant_categories(covenant_id: str) -> frozenset[str] | None:
    """The covenant's category ids from the packaged covenants, so pushes go only to
    categories that exist in it; None (push and let the gateway judge) when unknown."""
    try:
        from gateway.policy.covenant import load_covenants

        covenant = load_covenants().get(covenant_id)
    except Exception:  # noqa: BLE001 - an unreadable covenant only disables the filter
        return None
    return frozenset(c.id for c in covenant.categories) if covenant is not None else None


class AdapterRunner:
    def __init__(
        self,
        adapter: PartnerAdapter[Any],
        client: KetenpoortClient,
        export_path: Path,
        *,
        say: Say = print,
        warn: Say = print,
        max_export_bytes: int = MAX_EXPORT_BYTES,
        settle_seconds: float = EXPORT_SETTLE_SECONDS,
    ) -> None:
        self.adapter = adapter
        self.max_export_bytes = max_export_bytes
        self.settle_seconds = settle_seconds
        self.client = client
        self.export_path = export_path
        self.say = say
        self.warn = warn
        self.export: Export[Any] | None = None
        self._export_stamp: tuple[int, int] | None = None
        self._me: Me | None = None
        self._categories: frozenset[str] | None = None
        # (case id, category) -> (content, fact id) of the last fact pushed: a push is due
        # when the export's content differs from the LAST one, not from every one before
        # (review8d F5: a value going back to an earlier one was never pushed again).
        self._pushed: dict[tuple[str, str], tuple[str, str]] = {}
        # case id -> the export's record (as JSON) last brought to the gateway, or
        # _LEFT_EXPORT once the gateway was told the export has no record of the case.
        self._synced: dict[str, str] = {}
        self._parked: set[str] = set()
        self._rejected_pushes: set[tuple[str, str]] = set()
        self._references: dict[str, str] = {}
        # The problems of the current export already reported (a case's conflicting
        # records are found when the case is looked up, every cycle).
        self._reported: set[ExportProblem] = set()

    # --- one cycle ---------------------------------------------------------------------

    async def run_once(self, *, wait_seconds: float = 0) -> CycleReport:
        report = CycleReport()
        await self._prepare(report)
        inbox = await self.client.inbox(wait_seconds=wait_seconds)
        await self._handle_all(inbox.items, report)
        return report

    async def run(self, stop: asyncio.Event, *, wait_seconds: float = 25) -> None:
        """Loop until ``stop`` is set. Only a long poll in flight is abandoned; an answer
        being sent is finished first (and would be safe to repeat: same idempotency key)."""
        while not stop.is_set():
            report = CycleReport()
            try:
                await self._prepare(report)
                inbox = await _unless_stopped(stop, self.client.inbox(wait_seconds=wait_seconds))
                if inbox is None:
                    break
                await self._handle_all(inbox.items, report)
            except TransportError as exc:
                self.warn(f"{exc}; trying again")
                await _sleep_unless(stop, 5.0)
                continue
            if report.waiting and not (report.answered or report.permissions):
                # Only parked items in the inbox: the gateway answers the poll at once, so
                # wait here instead of asking again in a tight loop.
                await _sleep_unless(stop, wait_seconds or 1.0)

    async def _prepare(self, report: CycleReport) -> None:
        await self._introduce()
        await self._reload_export(report)
        await self._push_all(report)

    async def _handle_all(self, items: list[InboxItem], report: CycleReport) -> None:
        for item in items:
            if item.key in self._parked:
                report.waiting += 1
                continue
            await self._handle(item, report)

    # --- the steps ----------------------------------------------------------------------

    async def _introduce(self) -> None:
        if self._me is not None:
            return
        try:
            me = await self.client.me()
        except AuthenticationError as exc:
            raise AdapterStopped(
                f"the gateway does not accept this key for partner {self.client.partner_id!r}: "
                f"{exc.problem.detail}"
            ) from exc
        if me.partner_kind != self.adapter.partner_kind:
            # Fail closed: a police adapter must never answer with a corporation's key.
            raise AdapterStopped(
                f"partner {me.partner_id!r} is a {me.partner_kind}, but this is the "
                f"{self.adapter.command} adapter (for a {self.adapter.partner_kind})"
            )
        self._me = me
        self._categories = _covenant_categories(me.covenant_id)
        self.say(
            f"{self.adapter.command} adapter for {me.partner_id} ({me.covenant_id}) "
            f"at {self.client.gateway_url}"
        )

    def _stamp(self) -> tuple[int, int]:
        try:
            stat = self.export_path.stat()
        except OSError as exc:
            raise AdapterStopped(f"{self.export_path}: cannot read the export ({exc})") from exc
        return stat.st_mtime_ns, stat.st_size

    async def _settled(self, stamp: tuple[int, int]) -> tuple[int, int] | None:
        """The export's stamp once the file has stood still for ``settle_seconds``, or None
        when it keeps changing (review8d S1). A file read while its writer is still at it is
        a shorter export: every case past the cut would be "not in the export", and the
        police adapter withdraws their OM consents. A file last written longer ago (or
        replaced in one step, docs/adapters.md) passes at once."""
        for _ in range(_SETTLE_TRIES):
            age = time.time() - stamp[0] / 1e9
            if age >= self.settle_seconds:
                return stamp
            await asyncio.sleep(self.settle_seconds - max(age, 0.0))
            again = self._stamp()
            if again == stamp:
                return stamp
            stamp = again
        return None

    async def _reload_export(self, report: CycleReport) -> None:
        stamp = self._stamp()
        if stamp == self._export_stamp and self.export is not None:
            return
        settled = await self._settled(stamp)
        if settled is None:
            message = (
                f"{self.export_path}: the export keeps changing; replace it in one step "
                "(write another file in its directory, then rename it over the export)"
            )
            if self.export is None:
                raise AdapterStopped(message)
            self.warn(f"{message}; the export read before is used meanwhile")
            return
        stamp = settled
        try:
            export = read_export(
                self.export_path, self.adapter.record_model, max_bytes=self.max_export_bytes
            )
        except ExportError as exc:
            raise AdapterStopped(str(exc)) from exc
        for problem in export.problems:
            self.warn(f"skipped {problem}")
        report.skipped_rows = len(export.problems)
        self.say(
            f"export {self.export_path.name}: {len(export.rows)} record(s)"
            + (f", {len(export.problems)} bad row(s) skipped" if export.problems else "")
        )
        self.export, self._export_stamp = export, stamp
        self._reported.clear()
        # A changed export may resolve what was waiting (a permission decided, a case added).
        self._parked.clear()

    async def _push_all(self, report: CycleReport) -> None:
        assert self.export is not None
        cases = await self.client.cases(include_closed=False)
        self._references.update((case.id, case.reference) for case in cases)
        for case in cases:
            lookup = self._lookup(case.id, case.reference, report)
            if not lookup.settled:
                # Refused records name the case: change nothing of it at the gateway (no
                # push, no sync, and above all no withdrawal as if it left the export).
                continue
            record = lookup.record
            try:
                if record is None:
                    await self._left_export(case.id, case.reference)
                    continue
                await self._sync(case.id, record)
                await self._push_record(case.id, record, report)
            except ApiError as exc:
                report.failed += 1
                self.warn(f"case {case.reference}: not updated: {exc}")

    def _lookup(self, case_id: str, reference: str | None, report: CycleReport) -> CaseLookup[Any]:
        """The export's record of a case; its problems reported once per export read."""
        assert self.export is not None
        lookup = self.export.lookup(case_id=case_id, case_reference=reference)
        for problem in lookup.problems:
            if problem not in self._reported:
                self._reported.add(problem)
                report.skipped_rows += 1
                self.warn(f"skipped {problem}")
        return lookup

    async def _sync(self, case_id: str, record: Any) -> None:
        fingerprint = record.model_dump_json()
        if self._synced.get(case_id) == fingerprint:
            return
        await self.adapter.sync_case(self.client, case_id, record, self.say)
        self._synced[case_id] = fingerprint

    async def _left_export(self, case_id: str, reference: str) -> None:
        """A case of this partner without a record in the export: the adapter's
        ``case_left_export`` (police: OM consents withdrawn). Once per case, and again
        only if its record came back in between."""
        if self._synced.get(case_id) == _LEFT_EXPORT:
            return
        await self.adapter.case_left_export(self.client, case_id, reference, self.say)
        self._synced[case_id] = _LEFT_EXPORT

    async def _push_record(self, case_id: str, record: Any, report: CycleReport) -> None:
        for push in self.adapter.pushes(record, self._categories):
            content = push.value if push.value is not None else str(push.yes_no)
            slot = (case_id, push.category)
            last = self._pushed.get(slot)
            if (last is not None and last[0] == content) or slot in self._rejected_pushes:
                continue
            # The key names what the push follows: the same content after another fact is
            # a new request (a value back to an earlier one is stored again), while a repeat
            # of this very push (a retry, a crash before it was noted) is one request. The
            # first push of a process follows nothing it knows of: its key is the content's,
            # as before (a restart replays rather than stores it twice).
            after = () if last is None else ("after", last[1])
            try:
                fact = await self.client.push_fact(
                    case_id,
                    push.category,
                    value=push.value,
                    yes_no=push.yes_no,
                    idempotency_key=self.client.idempotency_key_for(
                        "fact", case_id, push.category, content, *after
                    ),
                )
            except ApiError as exc:
                if exc.status >= 500:
                    raise
                # Not in the team (any more), or a category the gateway will not take:
                # report once, do not hammer the gateway with it every cycle.
                self._rejected_pushes.add((case_id, push.category))
                report.failed += 1
                self.warn(f"case {record.case_label}: {push.category} not pushed: {exc}")
                continue
            self._pushed[slot] = (content, fact.id)
            report.pushed += 1
            self.say(f"case {record.case_label}: pushed {push.category}")

    async def _handle(self, item: InboxItem, report: CycleReport) -> None:
        assert self.export is not None
        try:
            reference = await self._reference_of(item)
            lookup = self._lookup(item.case_id, reference, report)
        except ApiError as exc:
            if exc.status >= 500:
                raise
            reference, lookup = None, CaseLookup(None)
        label = reference or item.case_id
        if not lookup.settled:
            self._park(
                item,
                report,
                f"case {label}: {item.kind} waits: the export's records of the case are "
                "refused (see above) until the export changes",
            )
            return
        record = lookup.record
        try:
            if item.kind == "information-request" and item.request_id is not None:
                if record is not None:
                    await self._sync(item.case_id, record)
                await self._answer(item, record, label, report)
            elif item.kind == "permission-request":
                await self._give_permission(item, record, label, report)
            else:
                self._park(item, report, f"case {label}: {item.kind} is not for this adapter")
        except Conflict:
            # Answered meanwhile (by an earlier attempt of ours): nothing left to do.
            self.say(f"case {label}: {item.kind} was already handled")
        except ApiError as exc:
            if exc.status >= 500:
                raise
            report.failed += 1
            self._park(item, report, f"case {label}: {item.kind} failed: {exc}")

    async def _reference_of(self, item: InboxItem) -> str | None:
        """Exports name cases by reference; the inbox may give only the case id."""
        if item.case_reference is not None:
            return item.case_reference
        if item.case_id not in self._references:
            self._references[item.case_id] = (await self.client.case(item.case_id)).reference
        return self._references[item.case_id]

    async def _answer(self, item: InboxItem, record: Any, label: str, report: CycleReport) -> None:
        assert item.request_id is not None
        # Every answer is built and validated whole before anything is sent.
        answers = self.adapter.answers(item.categories, item.answer_forms, record)
        receipt = await self.client.answer(
            item.request_id,
            answers,
            idempotency_key=self.client.idempotency_key_for("answer", item.request_id),
        )
        report.answered += 1
        counts: dict[str, int] = {}
        for status in receipt.items:
            counts[status.state] = counts.get(status.state, 0) + 1
        summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
        withheld = sorted({r for s in receipt.items if s.state == "withheld" for r in s.reasons})
        self.say(
            f"case {label}: answered request {item.request_id} ({summary})"
            + (f"; withheld by the gateway: {', '.join(withheld)}" if withheld else "")
            + f"; receipt #{receipt.receipt.index}"
        )

    async def _give_permission(
        self, item: InboxItem, record: Any, label: str, report: CycleReport
    ) -> None:
        consent = self.adapter.permission(record)
        if consent is None:
            due = f" (answer due {item.due_on.isoformat()})" if item.due_on else ""
            self._park(
                item, report, f"case {label}: permission asked{due}; no decision in the export"
            )
            return
        summary = await self.client.case(item.case_id)
        await self.client.record_consent(
            item.case_id,
            consent,
            idempotency_key=consent_idempotency_key(
                self.client,
                "permission",
                item.case_id,
                earlier=own_consents(self.client, summary.consents, consent.kind),
            ),
        )
        report.permissions += 1
        decision = "granted" if consent.granted else "refused"
        self.say(f"case {label}: permission {decision}")

    def _park(self, item: InboxItem, report: CycleReport, message: str) -> None:
        """Leave an item in the inbox until the export changes, and say so once."""
        self._parked.add(item.key)
        report.waiting += 1
        report.notes.append(message)
        self.warn(message)


async def _unless_stopped(stop: asyncio.Event, call: Awaitable[T]) -> T | None:
    """``call``'s result, or None if ``stop`` is set first (``call`` is then cancelled)."""
    task = asyncio.ensure_future(call)
    stopping = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        stopping.cancel()
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return None


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


def install_stop_signals(stop: asyncio.Event) -> None:
    """SIGINT (Ctrl-C) and SIGTERM (docker stop, systemd) end the loop between two calls."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows' default loop
            loop.add_signal_handler(sig, stop.set)
