"""What order index i sends, for a seed and the fault rates: a pure function of (seed, index).

The order itself comes from `OrderGenerator`; whether it is sent invalid, as poison or valid, and
whether a client retry sends it twice, are seeded picks too. Fault counts are exact: a rate r over N
orders injects floor(N*r) or floor(N*r)+1 faults, exactly N*r whenever that is a whole number
(see `StratifiedPicks`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction

from blackfriday.domain import INVALID_KINDS, OrderGenerator, make_invalid, order_key, poison_body
from blackfriday.producer.settings import DEFAULT_INVALID_RATE


def as_fraction(rate: float) -> Fraction:
    """0.02 as exactly 1/50, so the stratum arithmetic below has no rounding."""
    return Fraction(repr(rate))


class StratifiedPicks:
    """Picks exactly one index in every stratum of 1/rate consecutive indices, at a seeded random place.

    Index i lies in stratum k = floor(i * rate); the pick of stratum k depends only on (seed, k), so
    `rank(i)` is a pure function of (seed, i) and the picks among the first N indices number
    floor(N*rate) or one more: exactly N*rate when that is whole. Random places, exact counts.
    """

    def __init__(self, generator: OrderGenerator, rate: Fraction, purpose: str):
        self.generator = generator
        self.rate = rate
        self.purpose = purpose

    def rank(self, index: int) -> int | None:
        """k when index is the pick of its stratum k (the k-th pick overall), else None."""
        if self.rate == 0:
            return None
        numerator, denominator = self.rate.numerator, self.rate.denominator
        stratum = index * numerator // denominator
        first = -(-stratum * denominator // numerator)  # ceil(stratum / rate)
        end = -(-(stratum + 1) * denominator // numerator)
        pick = first + self.generator.rng(stratum, self.purpose).randrange(end - first)
        return stratum if index == pick else None


@dataclass(frozen=True)
class PlannedUpload:
    index: int
    order_id: str
    key: str
    body: bytes
    kind: str  # "valid", "invalid" or "poison"
    duplicate: bool  # uploaded a second time under the same key, as a client retry would


class UploadPlan:
    """What order index i uploads, for a seed and the fault rates: the same on every run."""

    def __init__(self, seed: int, invalid_rate: float = DEFAULT_INVALID_RATE, poison_rate: float = 0.0, duplicate_rate: float = 0.0):
        self.generator = OrderGenerator(seed)
        invalid, poison = as_fraction(invalid_rate), as_fraction(poison_rate)
        faulty = invalid + poison
        # Faulty orders are picked first; a second pick among them makes exactly the poison share
        # poison, so neither kind steals from the other's count.
        self.faults = StratifiedPicks(self.generator, faulty, "fault")
        self.poison_among_faults = StratifiedPicks(self.generator, poison / faulty if faulty else Fraction(0), "poison")
        self.duplicates = StratifiedPicks(self.generator, as_fraction(duplicate_rate), "duplicate")

    def kind(self, index: int) -> str:
        fault_rank = self.faults.rank(index)
        if fault_rank is None:
            return "valid"
        return "poison" if self.poison_among_faults.rank(fault_rank) is not None else "invalid"

    def upload(self, index: int) -> PlannedUpload:
        order = self.generator.order(index)
        order_id = order["orderId"]
        kind = self.kind(index)
        if kind == "poison":
            body = poison_body(order_id)
        else:
            if kind == "invalid":
                order = make_invalid(order, self.generator.rng(index, "invalid-kind").choice(INVALID_KINDS))
            body = json.dumps(order, separators=(",", ":")).encode()
        duplicate = self.duplicates.rank(index) is not None
        return PlannedUpload(index, order_id, order_key(order_id), body, kind, duplicate)
