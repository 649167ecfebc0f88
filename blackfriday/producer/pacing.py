"""The --rate cap and how --shape makes it evolve over the run."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

BURST_SHARE = 0.2  # shape burst: the first fifth of the orders come at the full rate...
AFTER_BURST_FACTOR = 0.25  # ...the rest at a quarter of it
RAMP_START_FACTOR = 0.1  # shape ramp: from a tenth of the rate up to the full rate
CATCH_UP_SECONDS = 1.0  # a pacer that fell behind may send at most this much backlog at once


def shape_rate(shape: str, rate: float, progress: float) -> float:
    """Orders per second allowed when `progress` (0..1) of the orders have been submitted."""
    if shape == "burst":  # doors open at midnight: the rush, then a steady trickle
        return rate if progress < BURST_SHARE else rate * AFTER_BURST_FACTOR
    if shape == "ramp":  # the crowd builds up
        return rate * (RAMP_START_FACTOR + (1 - RAMP_START_FACTOR) * progress)
    return rate


class Pacer:
    """Releases order indices no faster than the shaped rate; rate 0 releases them at once."""

    def __init__(self, total: int, rate: float, shape: str, clock: Callable[[], float] = time.monotonic):
        self.total = total
        self.rate = rate
        self.shape = shape
        self.clock = clock
        self.next_due: float | None = None

    def wait_turn(self, index: int, stop: threading.Event) -> bool:
        """Block until index may be submitted; False when a stop was requested meanwhile."""
        if self.rate:
            now = self.clock()
            due = now if self.next_due is None else max(self.next_due, now - CATCH_UP_SECONDS)
            if due > now and stop.wait(due - now):
                return False
            self.next_due = due + 1 / shape_rate(self.shape, self.rate, index / self.total)
        return not stop.is_set()
