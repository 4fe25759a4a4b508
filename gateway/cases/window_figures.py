"""The steering report's counts of a window, each published at least its parts allow.

Every published count is perturbed (gateway/cases/cell_key.py) and a count of 1 to 4 is
suppressed. A total beside its parts then had a lower bound the noise did not cover (the
second review of the cell-key change): each part shown holds at least MIN_GROUP_SIZE cases,
so with 5 cases open in Oost and 5 in Noord at the end of February (``openCases`` at least
10), a published ``openCases`` of 8 (a noise of -2) left 10 as its only value, and with
March's month-end the same way March's one hidden opening (about one window in five: 20.4%
of 20,000 key draws). The same held for a quarter beside its months (March's hidden
openings from the quarter and February, 20.2%), for ``casesClosed`` beside its judgements
and for a year beside its evaluation periods.

So every published count is at least what each split of it a reader sees holds, plus the
noise bound: a total into its districts, phases or judgements; a quarter or a year into its
months; a year (or a half-year period) into its quarters; a window into its evaluation
periods. What a split holds is read from published values only (:meth:`WindowFigures.lower`):
a shown part's value minus the bound, a 0 exactly, a null total (``casesOpened``,
``casesClosed``: hidden, so 1 to 4) at least 1, a null judgement or a district or step left
out nothing (it is 0 or hidden, and the reader cannot tell which: a least that counted its
truth made the total tell the two apart), and parts published as hidden beside a shown one
together at least MIN_GROUP_SIZE (:func:`held_least`). The truth can then be up to twice the
bound above what a split holds, so no split pins a hidden part. Each part's least is at most
its truth, so the count stays within the bound of it; and a part's value is the one its own
window's report publishes (the same function over the same cell keys).

What this leaves (docs/cases.md, "Differences of windows"): noises at opposite ends still
pin a figure now and then (a total at -2 and every part at +2); the month-end state figures
against the month's flows (``openCases`` against ``casesOpened`` and ``casesClosed``) are no
split of each other; and a raised total is published above its unperturbed value more often
than below.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import TypeVar

from gateway.cases.cell_key import Cell

K = TypeVar("K")

#: A window of the report: its first and its last bucket (inclusive).
Window = tuple[int, int]
#: A figure: its family and its key within it (None: the family's total).
Figure = tuple[str, str | None]

OPENED, TRANSITION, CLOSED, WITHIN = "opened", "transition", "closed", "within"
#: The two legs of the judgements (U §7): the neighbours' and the partners'.
LEGS = ("neighbours", "partners")
#: The cell of the cases closed without a judgement (a decline: nothing was carried out to
#: judge). Never shown, but the total minus the judgements shown includes it.
UNJUDGED = "unjudged"


@dataclass
class Bucket:
    """One bucket's cells (a calendar month of a month, quarter or year; else a span)."""

    opened: dict[str, Cell] = field(default_factory=dict)
    transitions: dict[str, Cell] = field(default_factory=dict)
    #: The closed cases by (neighbours' judgement, partners' judgement), None when none.
    legs: dict[tuple[str | None, str | None], Cell] = field(default_factory=dict)
    within: Cell = field(default_factory=Cell)

    @staticmethod
    def add(table: dict[K, Cell], key: K, cell: Cell) -> None:
        """Add ``cell`` to the table's cell of ``key`` (districts, steps or judgements)."""
        table[key] = table.get(key, Cell()) + cell


def _sum(cells: Iterable[Cell]) -> Cell:
    return sum(cells, Cell())


def held_least(shown: Sequence[int], hidden: Sequence[int], min_group: int) -> int:
    """What a breakdown's parts hold by what is published: each shown part's least, and
    each part published as hidden (so not 0) its own least; beside a shown part the hidden
    ones together at least ``min_group`` (:func:`gateway.cases.steering.hidden_cells` hides
    parts until they do, when it can; with every part hidden it cannot, the second review
    of this change, A: "at least 5" there made a never-suppressed total of 5 read as 7)."""
    held = sum(hidden)
    if shown and hidden:
        held = max(held, min_group)
    return sum(shown) + held


@dataclass(frozen=True)
class Rules:
    """The report's rules, given by gateway/cases/steering.py (no import cycle)."""

    min_group_size: int
    judgements: tuple[str, ...]
    hidden_cells: Callable[..., set[str]]
    #: How a count of a suppressible cell is shown (perturbed and floored, or exact).
    show: Callable[[Cell], int]
    #: The noise bound, 0 for the exact figures (then nothing is raised).
    bound: int
    #: The evaluation periods a report over first day..last day lists (none: none).
    periods: Callable[[date, date], list[tuple[date, date]]]
    #: Whether the period judgements of one leg are shown (``period_legs_shown``).
    period_legs_shown: Callable[[list[tuple[int, dict[str, int]]]], bool] = lambda _: False
    #: Whether a count is raised to what its parts hold (off: the tests' controls).
    floors: bool = True


class WindowFigures:
    """The counts of every window made of consecutive buckets, as the report publishes them.

    ``starts`` are the buckets' first days and ``end`` the day after the last; when
    ``months`` they are calendar months, so a window of several is split into its months
    (and a year into its quarters) as a smaller report would publish them."""

    def __init__(
        self,
        buckets: Sequence[Bucket],
        starts: Sequence[date],
        end: date,
        *,
        months: bool,
        rules: Rules,
    ) -> None:
        self.buckets, self.starts, self.end = list(buckets), list(starts), end
        self.months, self.rules = months, rules
        self.value = cache(self._value)
        self.lower = cache(self._lower)
        self._cell = cache(self._cell_of)
        self._hidden = cache(self._hidden_of)
        self._periods = cache(self._periods_of)

    # -- what a window holds --------------------------------------------------------------

    def cell(self, window: Window, figure: Figure) -> Cell:
        return self._cell(window, figure)

    def _cell_of(self, window: Window, figure: Figure) -> Cell:
        family, key = figure
        first, last = window
        if first != last:
            return _sum(self._cell((b, b), figure) for b in range(first, last + 1))
        bucket = self.buckets[first]
        if family == OPENED:
            return _sum(bucket.opened.values()) if key is None else bucket.opened.get(key, Cell())
        if family == TRANSITION:
            return bucket.transitions.get(str(key), Cell())
        if family == WITHIN:
            return bucket.within
        if family == CLOSED:
            return _sum(bucket.legs.values())
        leg = LEGS.index(family)
        return _sum(cell for pair, cell in bucket.legs.items() if pair[leg] == key)

    def keys(self, window: Window, family: str) -> list[str]:
        """The keys of a family with cases in the window (districts, steps)."""
        first, last = window
        found: set[str] = set()
        for bucket in self.buckets[first : last + 1]:
            found |= set(bucket.opened if family == OPENED else bucket.transitions)
        return sorted(found)

    def _counts(self, window: Window, family: str) -> dict[str, int]:
        """A breakdown's true counts, as :func:`hidden_cells` takes them."""
        if family in (OPENED, TRANSITION):
            return {k: self.cell(window, (family, k)).count for k in self.keys(window, family)}
        if family == WITHIN:
            within = self.cell(window, (WITHIN, None)).count
            return {"within": within, "beyond": self.cell(window, (CLOSED, None)).count - within}
        counts = {j: self.cell(window, (family, j)).count for j in self.rules.judgements}
        counts[UNJUDGED] = self.cell(window, (CLOSED, None)).count - sum(counts.values())
        return counts

    def hidden(self, window: Window, family: str) -> set[str]:
        """The keys of a breakdown the window's own report does not show."""
        return self._hidden(window, family)

    def _hidden_of(self, window: Window, family: str) -> set[str]:
        counts = self._counts(window, family)
        if family in LEGS:
            return self.rules.hidden_cells(counts, {UNJUDGED})
        return self.rules.hidden_cells(counts)

    def shown(self, window: Window, figure: Figure) -> bool:
        """Whether the window's own report shows the figure (a count of 0 is shown as 0,
        except a judgement: null, as :func:`gateway.cases.steering._tally` has it)."""
        family, key = figure
        count = self.cell(window, figure).count
        if key is None and family in (OPENED, CLOSED):
            return not self.rules.hidden_cells({"n": count})
        if family == WITHIN:
            return self.shown(window, (CLOSED, None)) and not self.hidden(window, WITHIN)
        if family in LEGS:
            return count > 0 and key not in self.hidden(window, family)
        return str(key) not in self.hidden(window, family)

    # -- what the report publishes --------------------------------------------------------

    def _value(self, window: Window, figure: Figure) -> int | None:
        """The figure as the window's report publishes it: null when not shown, 0 exactly,
        else its shown count and at least what its parts are known to hold plus the bound."""
        if not self.shown(window, figure):
            return None
        cell = self.cell(window, figure)
        if cell.count == 0:
            return 0
        shown = self.rules.show(cell)
        if not self.rules.bound or not self.rules.floors:
            return shown
        return max(shown, self.rules.bound + self.parts_least(window, figure))

    def _lower(self, window: Window, figure: Figure) -> int:
        """The least the figure's true count can be by what the reports publish (never more
        than the truth, and a function of published values alone): a shown value minus the
        bound, 0 for a 0; a null total (``casesOpened``, ``casesClosed``: hidden, so 1 to 4)
        at least 1; else what its splits hold. A null judgement or a district or step left
        out is 0 or hidden, which the reader cannot tell apart, so it holds nothing more."""
        value = self.value(window, figure)
        if value is not None:
            return max(value - self.rules.bound, 0)
        known = 1 if figure in ((OPENED, None), (CLOSED, None)) else 0
        return max(known, self.parts_least(window, figure))

    def parts_least(self, window: Window, figure: Figure) -> int:
        """The most that any split of the figure into published parts says it holds."""
        return max((least for least in self._splits(window, figure)), default=0)

    def _splits(self, window: Window, figure: Figure) -> Iterable[int]:
        """The least of the figure by each split of it a reader sees, from what is published
        only (the second review of this change, B: a least that counted a hidden part's
        truth, "1 when it holds any", made the total tell a null part's 0 from its 1)."""
        family, key = figure
        for parts in self._smaller(window):
            yield sum(self.lower(part, figure) for part in parts)
        periods = self.periods(window) if family in (CLOSED, *LEGS) else []
        if len(periods) > 1:
            yield self._periods_least(window, periods, figure)
        if key is not None:
            return
        if family == OPENED:
            # A district left out is 0 or hidden: the reader cannot tell which.
            yield sum(self.lower(window, (OPENED, d)) for d in self.keys(window, OPENED))
        if family == CLOSED:
            # A null judgement is 0 or hidden, the unjudged cases and those beyond the target
            # are never published: each counts what its own splits say, else nothing.
            for leg in LEGS:
                yield sum(self.lower(window, (leg, j)) for j in self.rules.judgements)
            yield self.lower(window, (WITHIN, None))

    def _periods_least(self, window: Window, periods: list[Window], figure: Figure) -> int:
        """What the window's evaluation periods hold, as its report publishes them: each
        period's ``casesClosed`` (null: hidden, so 1 to 4 or, beside a shown period, the
        hidden ones together at least MIN_GROUP_SIZE), a leg's judgements only where the
        report shows them (``period_legs_shown``), else what their months hold."""
        family, key = figure
        if key is None:
            counts = {str(n): self.cell(p, figure).count for n, p in enumerate(periods)}
            hidden = self.rules.hidden_cells(counts)
            shown = [self.lower(p, figure) for n, p in enumerate(periods) if str(n) not in hidden]
            held = [
                max(1, self.parts_least(p, figure))
                for n, p in enumerate(periods)
                if str(n) in hidden
            ]
            return held_least(shown, held, self.rules.min_group_size)
        if self.period_legs_shown(periods, family):
            return sum(self.lower(p, figure) for p in periods)
        return sum(self.parts_least(p, figure) for p in periods)

    def period_legs_shown(self, periods: list[Window], leg: str) -> bool:
        """Whether the report over the periods shows a leg's judgements per period."""
        return self.rules.period_legs_shown(
            [
                (
                    self.cell(p, (CLOSED, None)).count,
                    {j: self.cell(p, (leg, j)).count for j in self.rules.judgements},
                )
                for p in periods
            ]
        )

    # -- the windows a window splits into -------------------------------------------------

    def _smaller(self, window: Window) -> list[list[Window]]:
        """The splits of a window of months into windows a report covers: its months, and
        its calendar quarters when it is made of them (a year, a half-year period)."""
        first, last = window
        if not self.months or first == last:
            return []
        splits = [[(b, b) for b in range(first, last + 1)]]
        length = last - first + 1
        if length > 3 and length % 3 == 0 and self.starts[first].month % 3 == 1:
            splits.append([(b, b + 2) for b in range(first, last + 1, 3)])
        return splits

    def periods(self, window: Window) -> list[Window]:
        """The evaluation periods a report over the window lists, as windows of buckets."""
        return self._periods(window)

    def _periods_of(self, window: Window) -> list[Window]:
        first, last = window
        last_day = self.starts[last + 1] if last + 1 < len(self.starts) else self.end
        spans = self.rules.periods(self.starts[first], last_day - timedelta(days=1))
        out = []
        for begin, finish in spans:
            if begin not in self.starts:
                return []  # periods that are not whole buckets (only days asked in tests)
            out.append((self.starts.index(begin), min(bisect_right(self.starts, finish) - 1, last)))
        return out
