"""The upload engine: `concurrency` worker threads send orders through one sink, in parallel.

The submitting thread generates order indices lazily and hands them over through a queue of
`concurrency` slots, so memory stays flat whatever the order count; each worker builds its order
from (seed, index) with the `UploadPlan` and sends it. A stop (Ctrl-C) ends the submitting; orders
in flight always finish. After ABANDON_AFTER_CONSECUTIVE_FAILURES failed sends in a row the sink is
taken to be broken and the run stops instead of failing every order. An order the sink refuses at
the door (the order API's 422/400 for a planned fault) is finished, not failed, and not re-sent: a
client that got an answer does not retry.
"""

from __future__ import annotations

import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from blackfriday.errors import describe_client_error
from blackfriday.producer.pacing import Pacer
from blackfriday.producer.plan import PlannedUpload, UploadPlan
from blackfriday.producer.report import NAMED_FAILURES, Failure, SpikeReport
from blackfriday.producer.settings import SpikeSettings
from blackfriday.producer.sinks import OrderSink, RefusedAtTheDoor

ABANDON_AFTER_CONSECUTIVE_FAILURES = 50  # the sink is broken: stop instead of failing N times
REFRESH_SECONDS = 0.2  # how often a waiting submitter reports progress


def describe_upload_error(error: Exception) -> str:
    if isinstance(error, ClientError):
        return describe_client_error(error)
    if isinstance(error, BotoCoreError):
        return str(error)
    return f"{type(error).__name__}: {error}"


class Spike:
    """Sends `settings.orders` orders through one sink (one shared client) from `settings.concurrency` threads."""

    def __init__(self, sink: OrderSink, settings: SpikeSettings, clock: Callable[[], float] = time.monotonic):
        self.sink = sink
        self.settings = settings
        self.clock = clock
        self.plan = UploadPlan(settings.seed, settings.invalid_rate, settings.poison_rate, settings.duplicate_rate)
        self.report = SpikeReport(settings.orders, settings.seed, dict(sink.destination))
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
            self.sink.send(planned)
        except RefusedAtTheDoor as refusal:
            with self._lock:
                self._consecutive_failures = 0
                self.report.refused[refusal.kind] += 1
            return False
        except Exception as error:  # noqa: BLE001 - the client already retried; the failure is reported by key
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
