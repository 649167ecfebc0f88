"""The Black Friday spike: upload orders to the orders bucket, one object per order, in parallel.

One shared S3 client serves `concurrency` worker threads. The submitting thread generates order
indices lazily and hands them over through a queue of `concurrency` slots, so memory stays flat
whatever the order count; each worker builds its order from (seed, index) and uploads it.

Every decision is a pure function of (seed, index): the order itself (`OrderGenerator`), whether it
is uploaded invalid, as poison or valid, and whether a client retry uploads it twice. Fault counts
are exact: a rate r over N orders injects floor(N*r) or floor(N*r)+1 faults, exactly N*r whenever
that is a whole number (see `StratifiedPicks`).

Each object carries `x-amz-meta-uploaded-at` (epoch milliseconds at the PUT) so the consumer can
measure upload-to-receipt latency.
"""

from __future__ import annotations

import json
import math
import queue
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction

import click
from botocore.exceptions import BotoCoreError, ClientError
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from blackfriday.clients import AwsGateway
from blackfriday.domain import INVALID_KINDS, OrderGenerator, make_invalid, order_key, poison_body
from blackfriday.errors import RunFailure, StackNotReady, UsageProblem, describe_client_error
from blackfriday.names import StackNames
from blackfriday.resources.s3 import bucket_exists
from blackfriday.target import Target
from blackfriday.ui import Output

SHAPES = ("steady", "ramp", "burst")
DEFAULT_CONCURRENCY = 32
MAX_CONCURRENCY = 512  # one thread each; beyond this a single process only adds contention
DEFAULT_INVALID_RATE = 0.02
UPLOADED_AT_METADATA = "uploaded-at"  # S3 returns it as x-amz-meta-uploaded-at (epoch ms)

BURST_SHARE = 0.2  # shape burst: the first fifth of the orders come at the full rate...
AFTER_BURST_FACTOR = 0.25  # ...the rest at a quarter of it
RAMP_START_FACTOR = 0.1  # shape ramp: from a tenth of the rate up to the full rate
CATCH_UP_SECONDS = 1.0  # a pacer that fell behind may send at most this much backlog at once

NAMED_FAILURES = 50  # failures named in the report; the count covers all of them
ABANDON_AFTER_CONSECUTIVE_FAILURES = 50  # the bucket or endpoint is broken: stop instead of failing N times
PLAIN_PROGRESS_SECONDS = 5.0
REFRESH_SECONDS = 0.2


# --- Settings ---------------------------------------------------------------------------------


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
            raise UsageProblem(
                f"--invalid-rate {self.invalid_rate} and --poison-rate {self.poison_rate} add up to more than 1"
            )


def random_seed() -> int:
    return random.SystemRandom().randrange(1, 10**9)


# --- What each order index uploads ------------------------------------------------------------


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

    def __init__(self, seed: int, invalid_rate: float = DEFAULT_INVALID_RATE, poison_rate: float = 0.0,
                 duplicate_rate: float = 0.0):
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


# --- Pacing -----------------------------------------------------------------------------------


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


# --- The run ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    key: str
    error: str


@dataclass
class SpikeReport:
    """What a run did. Counts are of objects in the bucket, except `failed` and `duplicates` (PUTs)."""

    orders: int  # requested
    seed: int
    bucket: str
    submitted: int = 0  # orders handed to a worker (fewer than `orders` after Ctrl-C or abandoning)
    uploaded: int = 0  # orders stored (their first PUT succeeded)
    invalid: int = 0  # of `uploaded`
    poison: int = 0  # of `uploaded`
    duplicates: int = 0  # re-sends that succeeded: each is a second ObjectCreated event
    failed: int = 0  # PUTs that failed after the client's retries, the order's or its re-send
    failed_orders: int = 0  # orders not stored at all (their first PUT failed)
    failures: list[Failure] = field(default_factory=list)  # the first NAMED_FAILURES of them
    seconds: float = 0.0
    interrupted: bool = False
    abandoned: bool = False  # stopped after ABANDON_AFTER_CONSECUTIVE_FAILURES failures in a row

    @property
    def finished(self) -> int:
        """Orders whose upload is over, stored or failed."""
        return self.uploaded + self.failed_orders

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
            "seconds": round(self.seconds, 3),
            "orders_per_second": round(self.orders_per_second, 1),
            "seed": self.seed,
            "bucket": self.bucket,
            "submitted": self.submitted,
            "interrupted": self.interrupted,
            "failures": [{"key": failure.key, "error": failure.error} for failure in self.failures],
        }


def describe_upload_error(error: Exception) -> str:
    if isinstance(error, ClientError):
        return describe_client_error(error)
    if isinstance(error, BotoCoreError):
        return str(error)
    return f"{type(error).__name__}: {error}"


class Spike:
    """Uploads `settings.orders` orders to `bucket` through one shared S3 client."""

    def __init__(self, s3, bucket: str, settings: SpikeSettings, clock: Callable[[], float] = time.monotonic):
        self.s3 = s3
        self.bucket = bucket
        self.settings = settings
        self.clock = clock
        self.plan = UploadPlan(settings.seed, settings.invalid_rate, settings.poison_rate, settings.duplicate_rate)
        self.report = SpikeReport(settings.orders, settings.seed, bucket)
        self._lock = threading.Lock()
        self._consecutive_failures = 0

    def run(self, stop: threading.Event | None = None, on_progress: Callable[[SpikeReport], None] = lambda report: None) -> SpikeReport:
        """Upload every order unless `stop` is set; in-flight uploads always finish before this returns."""
        stop = stop or threading.Event()
        work: queue.Queue[int | None] = queue.Queue(maxsize=self.settings.concurrency)
        workers = [
            threading.Thread(target=self._work, args=(work,), name=f"upload-{number}", daemon=True)
            for number in range(self.settings.concurrency)
        ]
        started = self.clock()
        for worker in workers:
            worker.start()
        pacer = Pacer(self.settings.orders, self.settings.rate, self.settings.shape, self.clock)
        for index in range(self.settings.orders):
            if self.report.abandoned or not pacer.wait_turn(index, stop):
                break
            if not self._hand_over(work, index, stop, on_progress):
                break
            self.report.submitted += 1
            on_progress(self.report)
        # A Ctrl-C after the last order was handed over only hurries nothing: the run is complete.
        self.report.interrupted = stop.is_set() and self.report.submitted < self.settings.orders
        if self.report.interrupted or self.report.abandoned:
            self.report.submitted -= self._take_back(work)
        for _ in workers:
            work.put(None)
        for worker in workers:
            while worker.is_alive():
                worker.join(REFRESH_SECONDS)
                on_progress(self.report)
        self.report.seconds = self.clock() - started
        return self.report

    def _hand_over(self, work: queue.Queue, index: int, stop: threading.Event, on_progress) -> bool:
        while not stop.is_set() and not self.report.abandoned:
            try:
                work.put(index, timeout=REFRESH_SECONDS)
                return True
            except queue.Full:
                on_progress(self.report)
        return False

    def _take_back(self, work: queue.Queue) -> int:
        """Orders queued but not started when submitting stopped: they are not uploaded at all."""
        taken = 0
        while True:
            try:
                work.get_nowait()
                taken += 1
            except queue.Empty:
                return taken

    def _work(self, work: queue.Queue) -> None:
        while (index := work.get()) is not None:
            try:
                planned = self.plan.upload(index)
            except Exception as error:  # noqa: BLE001 - a worker never dies: the order is reported as failed
                self._record_failure(f"order #{index}", error, order_lost=True)
                continue
            if self._put(planned, resend=False) and planned.duplicate:
                self._put(planned, resend=True)

    def _put(self, planned: PlannedUpload, resend: bool) -> bool:
        try:
            self.s3.put_object(
                Bucket=self.bucket,
                Key=planned.key,
                Body=planned.body,
                ContentType="application/json",
                Metadata={UPLOADED_AT_METADATA: str(time.time_ns() // 10**6)},
            )
        except Exception as error:  # noqa: BLE001 - botocore already retried; the failure is reported by key
            self._record_failure(planned.key, error, order_lost=not resend)
            return False
        with self._lock:
            self._consecutive_failures = 0
            if resend:
                self.report.duplicates += 1
            else:
                self.report.uploaded += 1
                self.report.invalid += planned.kind == "invalid"
                self.report.poison += planned.kind == "poison"
        return True

    def _record_failure(self, key: str, error: Exception, order_lost: bool) -> None:
        with self._lock:
            self.report.failed += 1
            self.report.failed_orders += order_lost
            if len(self.report.failures) < NAMED_FAILURES:
                self.report.failures.append(Failure(key, describe_upload_error(error)))
            self._consecutive_failures += 1
            if self._consecutive_failures >= ABANDON_AFTER_CONSECUTIVE_FAILURES:
                self.report.abandoned = True


# --- Ctrl-C -----------------------------------------------------------------------------------


@contextmanager
def stop_on_interrupt() -> Iterator[threading.Event]:
    """The first Ctrl-C sets the event (stop submitting, finish in-flight uploads); a second one quits."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop  # signals reach the main thread only; whoever runs us there owns Ctrl-C
        return

    def request_stop(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = signal.signal(signal.SIGINT, request_stop)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


# --- On screen --------------------------------------------------------------------------------


class ProgressView:
    """A rich progress bar on a terminal; a plain line every few seconds otherwise."""

    def __init__(self, out: Output, total: int, clock: Callable[[], float] = time.monotonic):
        self.out = out
        self.total = total
        self.clock = clock
        self.started = clock()
        self.last_line = self.started
        self.progress: Progress | None = None

    def __enter__(self):
        if self.out.interactive:
            self.progress = Progress(
                TextColumn("Uploading"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[speed]} orders/s"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[failed]}"),
                console=self.out.human,
            )
            self.progress.start()
            self.task = self.progress.add_task("upload", total=self.total, speed="0", failed="")
        return self

    def __exit__(self, *exc_info):
        if self.progress is not None:
            self.progress.stop()

    def update(self, report: SpikeReport) -> None:
        now = self.clock()
        elapsed = now - self.started
        speed = report.uploaded / elapsed if elapsed > 0 else 0.0
        if self.progress is not None:
            failed = f"[red]{report.failed} failed[/red]" if report.failed else ""
            self.progress.update(self.task, completed=report.finished, speed=f"{speed:,.0f}", failed=failed)
        elif now - self.last_line >= PLAIN_PROGRESS_SECONDS:
            self.last_line = now
            remaining = (self.total - report.finished) / speed if speed else float("inf")
            eta = f"ETA {remaining:,.0f}s" if math.isfinite(remaining) else "ETA unknown"
            self.out.say(
                f"uploaded {report.uploaded:,}/{self.total:,} orders, {speed:,.0f} orders/s, "
                f"{report.failed} failed, {eta}"
            )


def show_summary(out: Output, report: SpikeReport) -> None:
    out.table(
        "Producer run",
        ("", "value"),
        (
            ("Orders requested", f"{report.orders:,}"),
            ("Uploaded", f"{report.uploaded:,}"),
            ("  of which invalid", f"{report.invalid:,}"),
            ("  of which poison", f"{report.poison:,}"),
            ("Duplicate re-sends", f"{report.duplicates:,}"),
            ("Failed uploads", f"{report.failed:,}"),
            ("Seconds", f"{report.seconds:,.1f}"),
            ("Orders/s", f"{report.orders_per_second:,.1f}"),
            ("Seed", f"{report.seed} (reproduce with --seed {report.seed})"),
            ("Bucket", report.bucket),
        ),
    )
    # One line per failure, never a table cell: a key must stay whole to be searched for.
    for failure in report.failures:
        out.say(f"[red]failed[/red] {escape(failure.key)}: {escape(failure.error)}")
    if report.failed > len(report.failures):
        out.say(f"[red]failed[/red] … and {report.failed - len(report.failures)} more")


# --- The command ------------------------------------------------------------------------------


def orders_bucket(gateway: AwsGateway, target: Target) -> str:
    """The stack's orders bucket, the one resource the producer needs; StackNotReady (exit 2) without it."""
    names = StackNames(target.prefix, gateway.account_id, target.region)
    if not bucket_exists(gateway.client("s3"), names.bucket):
        raise StackNotReady(
            f"the orders bucket {names.bucket} does not exist (prefix {target.prefix!r}): run `python setup_infra.py` first"
        )
    return names.bucket


def run_spike(target: Target, settings: SpikeSettings, out: Output) -> SpikeReport:
    """What `producer.py` does: check the stack, upload, show progress and the summary, set the exit code."""
    gateway = AwsGateway(target, max_pool_connections=settings.concurrency)
    gateway.check_reachable()
    bucket = orders_bucket(gateway, target)
    out.say(f"Target: {target.describe()}")
    out.say(
        f"Uploading {settings.orders:,} orders to s3://{bucket}/ (seed {settings.seed}, "
        f"concurrency {settings.concurrency}, rate {f'{settings.rate:g}/s {settings.shape}' if settings.rate else 'unlimited'})"
    )
    spike = Spike(gateway.client("s3"), bucket, settings)
    with stop_on_interrupt() as stop, ProgressView(out, settings.orders) as view:
        report = spike.run(stop, view.update)
    show_summary(out, report)
    if out.as_json:
        out.emit_json(report.as_json())
    if report.interrupted:
        # Exit 130 as for any Ctrl-C: a script chaining `producer.py && consumer.py` must see a cut-short spike.
        out.warn(f"Stopped at Ctrl-C: {report.uploaded:,} of {report.orders:,} orders uploaded, the rest not sent.")
        raise click.Abort()
    if report.abandoned:
        raise RunFailure(
            f"stopped after {ABANDON_AFTER_CONSECUTIVE_FAILURES} uploads in a row failed "
            f"({report.failures[-1].error if report.failures else 'no error recorded'})"
        )
    if report.failed:
        raise RunFailure(f"{report.failed} upload(s) failed after retries; they are named in the summary")
    return report
