"""What a spike is asked to do, with the checks that span several options."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from blackfriday.errors import UsageProblem

SHAPES = ("steady", "ramp", "burst")
DEFAULT_CONCURRENCY = 32
MAX_CONCURRENCY = 512  # one thread each; beyond this a single process only adds contention
DEFAULT_INVALID_RATE = 0.02


@dataclass(frozen=True)
class SpikeSettings:
    orders: int
    seed: int
    concurrency: int = DEFAULT_CONCURRENCY
    rate: float = 0.0  # orders per second; 0 = as fast as possible
    shape: str = "steady"
    invalid_rate: float = DEFAULT_INVALID_RATE
    poison_rate: float = 0.0
    duplicate_rate: float = 0.0

    def __post_init__(self):
        """Checks that span options (click checks each option's own range first)."""
        if self.orders < 1:
            raise UsageProblem(f"--orders must be at least 1, got {self.orders}")
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise UsageProblem(f"--concurrency must be between 1 and {MAX_CONCURRENCY}, got {self.concurrency}")
        if not math.isfinite(self.rate) or self.rate < 0:
            raise UsageProblem(f"--rate must be a non-negative number of orders per second, got {self.rate}")
        if self.shape not in SHAPES:
            raise UsageProblem(f"--shape must be one of {', '.join(SHAPES)}, got {self.shape!r}")
        for option, value in (
            ("--invalid-rate", self.invalid_rate),
            ("--poison-rate", self.poison_rate),
            ("--duplicate-rate", self.duplicate_rate),
        ):
            if not 0 <= value <= 1:  # also rejects NaN
                raise UsageProblem(f"{option} must be between 0 and 1, got {value}")
        if self.invalid_rate + self.poison_rate > 1:
            raise UsageProblem(f"--invalid-rate {self.invalid_rate} and --poison-rate {self.poison_rate} add up to more than 1")


def random_seed() -> int:
    return random.SystemRandom().randrange(1, 10**9)
