"""Charts as server-rendered SVG geometry: no script, no chart library, no inline styles
(the CSP forbids them); bars are rects with width attributes, text is real text."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

BAR_AREA = 360  # px of the longest bar


@dataclass(frozen=True)
class Bar:
    key: str
    label: str
    value: int
    width: int
    y: int


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    height: int
    total: int


def bars(
    values: Mapping[str, int], *, label: Callable[[str], str] = str, row_height: int = 28
) -> BarChart:
    biggest = max(values.values(), default=0)
    out = []
    for position, (key, value) in enumerate(sorted(values.items(), key=lambda kv: -kv[1])):
        width = round(BAR_AREA * value / biggest) if biggest else 0
        out.append(
            Bar(
                key=key,
                label=label(key),
                value=value,
                width=max(width, 1 if value else 0),
                y=position * row_height,
            )
        )
    return BarChart(
        bars=out, height=max(len(out) * row_height, row_height), total=sum(values.values())
    )


@dataclass(frozen=True)
class PartnerMonth:
    partner_id: str
    period: str
    requests: int
    denials: int
    requests_width: int
    denials_width: int
    unusual: bool


def partner_months(rows: Iterable[Any]) -> list[PartnerMonth]:
    """Requests and denials per partner per month, scaled to one shared axis."""
    items = list(rows)
    biggest = max((max(r.requests, r.denials) for r in items), default=0)

    def scale(value: int) -> int:
        return round(BAR_AREA * value / biggest) if biggest else 0

    return [
        PartnerMonth(
            partner_id=r.partner_id,
            period=r.period,
            requests=r.requests,
            denials=r.denials,
            requests_width=scale(r.requests),
            denials_width=scale(r.denials),
            unusual=bool(getattr(r, "unusual", False)),
        )
        for r in sorted(items, key=lambda r: (r.period, r.partner_id))
    ]
