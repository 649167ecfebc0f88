"""What a spike did: counts, the failures it names, and the --json document."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

NAMED_FAILURES = 50  # failures named in the report; the count covers all of them


@dataclass(frozen=True)
class Failure:
    key: str
    error: str


@dataclass
class SpikeReport:
    """What a run did. Counts are of orders stored, except `failed` and `duplicates` (sends) and `refused`."""

    orders: int  # requested
    seed: int
    destination: dict[str, str]  # the sink's, e.g. {"bucket": "..."}
    submitted: int = 0  # orders handed to a worker (fewer than `orders` after Ctrl-C or abandoning)
    uploaded: int = 0  # orders stored (their first send succeeded)
    invalid: int = 0  # of `uploaded`
    poison: int = 0  # of `uploaded`
    duplicates: int = 0  # re-sends that succeeded: each is a second ObjectCreated event
    failed: int = 0  # sends that failed after the client's retries, the order's or its re-send
    failed_orders: int = 0  # orders not stored at all (their first send failed)
    failures: list[Failure] = field(default_factory=list)  # the first NAMED_FAILURES of them
    refused: Counter = field(default_factory=Counter)  # planned kind ("invalid", "poison") -> orders the sink refused at the door
    seconds: float = 0.0
    interrupted: bool = False
    abandoned: bool = False  # stopped after too many failures in a row

    @property
    def finished(self) -> int:
        """Orders whose upload is over: stored, refused at the door or failed."""
        return self.uploaded + self.refused.total() + self.failed_orders

    @property
    def orders_per_second(self) -> float:
        return self.uploaded / self.seconds if self.seconds > 0 else 0.0

    def as_json(self) -> dict:
        return {
            "orders": self.orders,
            "uploaded": self.uploaded,
            "failed": self.failed,
            "invalid": self.invalid,
            "poison": self.poison,
            "duplicates": self.duplicates,
            "refused_at_door": {kind: self.refused[kind] for kind in ("invalid", "poison")},
            "seconds": round(self.seconds, 3),
            "orders_per_second": round(self.orders_per_second, 1),
            "seed": self.seed,
            **self.destination,
            "submitted": self.submitted,
            "interrupted": self.interrupted,
            "failures": [{"key": failure.key, "error": failure.error} for failure in self.failures],
        }
