"""The steering report's counts of a window, each published at least its parts allow.

Every published count is perturbed (gateway/cases/cell_key.py) and a count of 1 to 4 is
suppressed. A total beside its parts then had a lower bound the noise did not cover (the
second review of the cell-key change): each part shown has at least MIN_GROUP_SIZE cases and
each hidden one at least one, so with five Oost cases and one Noord case open, ``openCases``
published as 4 (a noise of -2 on 6) left 6 as its only possible value, and Noord's hidden
count 1 (about one window in five: 20.4% of 20,000 key draws). The same held for a quarter
beside its months (March's hidden openings from the quarter and February, 20.2%), for
``casesClosed`` beside its judgements and for a year beside its evaluation periods.

So every published count is at least what its parts are known to hold, plus the noise bound:
for each way the report or a smaller window splits it (a total into its districts, phases or
judgements; a quarter or a year into its months; a year into its quarters; a window into its
evaluation periods), the sum of each part's known least (:meth:`WindowFigures.lower`: a
shown part's published value minus the bound, a suppressed one's 1, a group of suppressed
parts at least MIN_GROUP_SIZE as :func:`gateway.cases.steering.hidden_cells` keeps it, 0
exactly), plus BOUND. The truth is then never pinned at the least its parts allow: the total
can be read as up to BOUND + 2 more, so a suppressed part as up to 4 more than its least.
The least is never above the truth (each part's least is at most its truth), so the count
stays within BOUND of it. A part's published value is the one its own window's report
publishes (the same function, the same cell keys), so the bound holds across reports too.

What this leaves (docs/cases.md, "Differences of windows"): noises at opposite ends still
pin a figure now and then (a total at -2 and every part at +2); and a total is published
above its unperturbed value more often than below (the floor adds to its noise's mean).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

from gateway.cases.cell_key import Cell

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

    def add(self, table: dict[str, Cell], key: str, cell: Cell) -> None:
        table[key] = table.get(key, Cell()) + cell


def _sum(cells: Iterable[Cell]) -> Cell:
    return sum(cells, Cell())


def held_least(
    parts: Sequence[tuple[int, int]], hidden: Set[str], names: Sequence[str], min_group: int
) -> int:
    """What a breakdown's parts hold by what is published: each shown part's least, and the
    hidden ones (true count, least each) together at least ``min_group`` when they hold
    that many (:func:`gateway.cases.steering.hidden_cells` hides parts until they do, so a
    reader knows it), else one each that holds any."""
    named = list(zip(names, parts, strict=True))
    shown = sum(least for name, (_, least) in named if name not in hidden)
    held = [part for name, part in named if name in hidden]
    nonzero = sum(1 for count, _ in held if count)
    enough = sum(count for count, _ in held) >= min_group
    structural = max(nonzero, min_group) if enough else nonzero
    return shown + max(structural, sum(least for _, least in held))


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
        than the truth): a shown value minus the bound, else 1 when not 0, or what its
        parts hold (:meth:`parts_least`)."""
        count = self.cell(window, figure).count
        if count == 0:
            return 0
        value = self.value(window, figure)
        if value is not None:
            return value - self.rules.bound
        return max(1, self.parts_least(window, figure))

    def parts_least(self, window: Window, figure: Figure) -> int:
        """The most that any split of the figure into published parts says it holds."""
        return max((least for least in self._splits(window, figure)), default=0)

    def _splits(self, window: Window, figure: Figure) -> Iterable[int]:
        family, key = figure
        for parts in self._smaller(window):
            yield sum(self.lower(part, figure) for part in parts)
        periods = self.periods(window) if family in (CLOSED, *LEGS) else []
        if len(periods) > 1 and key is None:
            yield held_least(
                [(self.cell(p, figure).count, self.lower(p, figure)) for p in periods],
                self.rules.hidden_cells(
                    {str(n): self.cell(p, figure).count for n, p in enumerate(periods)}
                ),
                [str(n) for n in range(len(periods))],
                self.rules.min_group_size,
            )
        elif len(periods) > 1:
            yield sum(self.lower(p, figure) for p in periods)
        if key is not None:
            return
        if family == OPENED:
            districts = self.keys(window, OPENED)
            yield held_least(
                [
                    (self.cell(window, (OPENED, d)).count, self.lower(window, (OPENED, d)))
                    for d in districts
                ],
                self.hidden(window, OPENED),
                districts,
                self.rules.min_group_size,
            )
        if family == CLOSED:
            for leg in LEGS:
                names = [*self.rules.judgements, UNJUDGED]
                counts = self._counts(window, leg)
                yield held_least(
                    [
                        (counts[name], self._leg_least(window, leg, name, counts[name]))
                        for name in names
                    ],
                    self.hidden(window, leg),
                    names,
                    self.rules.min_group_size,
                )
            if self.shown(window, (WITHIN, None)):
                beyond = self._counts(window, WITHIN)["beyond"]
                yield self.lower(window, (WITHIN, None)) + (
                    self.rules.min_group_size if beyond else 0
                )

    def _leg_least(self, window: Window, leg: str, name: str, count: int) -> int:
        """A judgement's least; the unjudged cell is never shown: 1 when it holds any."""
        if name == UNJUDGED:
            return min(count, 1)
        return self.lower(window, (leg, name))

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
