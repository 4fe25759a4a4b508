"""The cell-key method: the steering report's counts perturbed (review14 F1, F2).

Suppressing counts of 1 to 4 in each report does not protect them across reports: January-
March minus January-February gave March's hidden step and closure, the open cases at two
month-ends and a month's closures gave its hidden openings. This is the perturbation
statistics offices use for tables whose cells can be combined freely (the ABS TableBuilder's
"cell key method", also CBS and the UK ONS): every case and every step carries a fixed random
**record key** (``record_key``, 0 .. 2^31 - 1, drawn when the row is written, migration 0050;
it is in no response, so no partner can compute it); a count's **cell key** is the sum of its
records' keys modulo 2^31 (summed in SQL, from the covering indexes); a fixed **perturbation
table** (:data:`PTABLE`) maps (count, cell key) to a small integer noise. So:

- the same set of records always gets the same noise: asking again, or asking another report
  whose cell holds the same cases, gives the same figure (nothing to average away);
- different sets get independent-looking noise (their keys differ by the keys of the records
  in one and not the other, which are random): a difference of two windows is the true
  difference plus the difference of two independent noises;
- the noise is bounded (:data:`BOUND`), zero mean from a count of 2 up, never negative, and a
  count of 1 or more is never published as 0 (a 0 stays the exact "none"); a published 1, 2
  or 3 can each come from several true counts.

The perturbation is of counts; a figure over them (a share) is computed from the perturbed
ones. A sum (the days of the mean duration) gets noise of its own in proportion to the
cell's durations (:func:`sum_noise`), so a mean times a count is no sum of the durations.
Windows are a fixed set (gateway/cases/steering.py ``report_window``: a month, a quarter, a
year), so a month's count has a handful of noisy estimates at most, not one per run of months
(docs/cases.md, "Differences of windows").
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

#: Record keys and cell keys are in 0 .. KEY_MODULUS - 1.
KEY_MODULUS = 2**31
#: No published count is further than this from the true one.
BOUND = 2
#: The noise of a count, each equally likely, by the true count (3 and up: the last row):
#: zero mean from 2 up (before the floor of a suppressible cell: a shown 5 or 6 is
#: published as at least 7, so there the mean is above the truth), never a negative result,
#: never 0 for a count of 1 or more.
PTABLE: dict[int, tuple[int, ...]] = {
    0: (0,),
    1: (0, 1, 2),
    2: (-1, 0, 1),
    3: (-2, -1, 0, 1, 2),
}


def new_record_key() -> int:
    """A record key: uniform over 0 .. KEY_MODULUS - 1, from the system's CSPRNG."""
    return secrets.randbelow(KEY_MODULUS)


@dataclass(frozen=True)
class Cell:
    """A count and its cell key (the sum of its records' keys modulo KEY_MODULUS)."""

    count: int = 0
    key: int = 0

    def __add__(self, other: Cell) -> Cell:
        return Cell(self.count + other.count, (self.key + other.key) % KEY_MODULUS)

    @classmethod
    def of(cls, count: int, key_sum: int | None) -> Cell:
        return cls(int(count or 0), int(key_sum or 0) % KEY_MODULUS)


def _uniform(key: int, purpose: str) -> float:
    """A number in [0, 1) fixed by the cell key and the purpose, independent-looking across
    keys (a hash, so neighbouring keys give unrelated draws) and across purposes."""
    digest = hashlib.blake2b(f"{purpose}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def noise(cell: Cell, purpose: str = "count") -> int:
    """The cell's noise by :data:`PTABLE`."""
    row = PTABLE[min(cell.count, 3)]
    return row[int(_uniform(cell.key, purpose) * len(row))]


def perturbed(cell: Cell, purpose: str = "count") -> int:
    """The count as published: the true count plus its noise (0 stays 0)."""
    return cell.count + noise(cell, purpose)


def sum_noise(cell: Cell, scale: float) -> float:
    """Noise for a sum over the cell's records (the days of the closed cases): uniform in
    [-scale, scale], fixed by the cell key. With ``scale`` a typical record's value (the
    cell's median duration), the difference of two windows' sums is one case's duration
    give or take as much again."""
    return (2 * _uniform(cell.key, "sum") - 1) * scale


def derived_key(cell: Cell, purpose: str) -> int:
    """A cell key for a count that is not of records with keys of their own (the overdue
    deadlines of the open cases): a function of the records' cell key, so it is the same for
    the same records and unrelated to their own count's noise."""
    return int(_uniform(cell.key, purpose) * KEY_MODULUS)
