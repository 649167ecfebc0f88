"""One consumer run: build the pools, watch them, decide when to stop, stop cleanly, sum up.

Stopping: SIGINT/SIGTERM, --duration, --until-empty or a fatal queue error set `stop`. Workers
then receive nothing more, finish the message in hand, delete what is done and give back the rest;
meanwhile the visibility extender, the execution tracker and the queue monitor keep running. A
second signal exits at once (exit 130): messages not yet deleted reappear after their visibility timeout.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from blackfriday.approvals import awaiting_among
from blackfriday.consumer.analytics import AnalyticsHandler, DemandReport, read_demand, write_report
from blackfriday.consumer.monitor import QueueDepth, QueueMonitor
from blackfriday.consumer.pool import PoolSettings, QueuePool
from blackfriday.consumer.shipping import ShippingHandler
from blackfriday.consumer.stats import POOL_COUNTERS, LatencySample, Pool, PoolStats
from blackfriday.consumer.summary import RunSnapshot
from blackfriday.consumer.tracker import ExecutionTracker
from blackfriday.consumer.visibility import VisibilityExtender
from blackfriday.deployment.stack import StackInfo
from blackfriday.errors import describe_client_error

CHECK_SECONDS = 1.0
DRAINED_CHECKS = 2  # --until-empty needs the queues seen drained on consecutive checks, a second apart
JOIN_SLICE_SECONDS = 0.5
EXIT_AT_ONCE = 130
BACKGROUND_THREADS = 3  # visibility extender, execution tracker, queue monitor
MAX_INFLIGHT_AWS = 100
# An emulator runs every execution's interpreter in one Python process: beyond a few dozen open
# executions they only slow each other down (and every other request with them). Measured on the
# 2-core machine, 600 queued orders: 16 open -> 7.6 orders/s, 64 -> 9.5, 128 -> 9.7.
MAX_INFLIGHT_EMULATOR = 64


@dataclass(frozen=True)
class ConsumerSettings:
    queues: tuple[Pool, ...] = tuple(Pool)  # each pool drains the queue of its name
    workers: int = 4
    max_inflight: int = MAX_INFLIGHT_AWS
    wait_seconds: int = 5
    visibility_timeout: int | None = None  # None: each queue's own VisibilityTimeout
    until_empty: bool = False
    duration: float | None = None

    @property
    def connections_needed(self) -> int:
        """Clients' connection pool size: every worker, background thread and the main thread may hold one at once."""
        return self.workers * len(self.queues) + BACKGROUND_THREADS + 1


def queue_visibility_timeout(sqs, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["VisibilityTimeout"])["Attributes"]
    return int(attributes["VisibilityTimeout"])


class Consumer:
    def __init__(self, gateway, stack: StackInfo, settings: ConsumerSettings):
        self.gateway = gateway
        self.stack = stack
        self.settings = settings
        self.stop = threading.Event()  # workers: receive nothing more
        self.shutdown = threading.Event()  # background threads: the pools are done
        self.stop_reason = ""
        self.failure = ""
        self.latency = LatencySample()
        sqs = gateway.client("sqs")
        self.extender = VisibilityExtender(sqs)
        self.monitor = QueueMonitor(sqs, {pool: stack.queues[pool] for pool in Pool})
        self.pools: dict[Pool, QueuePool] = {}
        self.tracker: ExecutionTracker | None = None
        for pool in Pool:  # in one order whatever --queues says, for the tables
            if pool in settings.queues:
                self.pools[pool] = self._build_pool(pool)
        self.started_at = time.monotonic()
        self.seconds = 0.0

    def _build_pool(self, pool: Pool) -> QueuePool:
        info = self.stack.queues[pool]
        timeout = self.settings.visibility_timeout or queue_visibility_timeout(self.gateway.client("sqs"), info.url)
        stats = PoolStats(pool)
        if pool is Pool.SHIPPING:
            stepfunctions = self.gateway.client("stepfunctions")
            dynamodb, orders_table = self.gateway.client("dynamodb"), self.stack.tables["orders"]
            self.tracker = ExecutionTracker(
                stepfunctions,
                self.stack.state_machine_arn,
                self.settings.max_inflight,
                self.latency,
                stats,
                awaiting_among=lambda order_ids: awaiting_among(dynamodb, orders_table, order_ids),
            )
            handler = ShippingHandler(stepfunctions, self.tracker, stats)
        else:
            handler = AnalyticsHandler(self.gateway.client("dynamodb"), self.stack.tables["analytics"], stats)
        settings = PoolSettings(self.settings.workers, self.settings.wait_seconds, timeout)
        return QueuePool(self.gateway, info, settings, handler, self.extender, self.stop, self._fail, stats)

    # --- stopping ----------------------------------------------------------------------------

    def request_stop(self, reason: str) -> None:
        if not self.stop.is_set():
            self.stop_reason = reason
            self.stop.set()

    def _fail(self, message: str) -> None:
        self.failure = self.failure or message
        self.request_stop("failure")

    def _on_signal(self, signum, frame) -> None:
        if self.stop.is_set():
            # os._exit: worker threads may sit in a long poll; nothing they hold is deleted.
            os.write(2, b"\nSecond interrupt: exiting now; messages not yet deleted reappear after their visibility timeout.\n")
            os._exit(EXIT_AT_ONCE)
        self.request_stop(signal.Signals(signum).name)

    def elapsed(self) -> float:
        return time.monotonic() - self.started_at

    def drained(self) -> bool:
        """Every selected queue empty (nothing visible, in flight or delayed), nothing in hand, no execution open
        but those waiting for a person (they may wait a day: approve.py decides them)."""
        if any(pool.stats.in_hand for pool in self.pools.values()):
            return False
        if self.tracker is not None and not self.tracker.settled:
            return False
        depths = self.monitor.sample()
        return all(depths[pool].drained for pool in self.pools)

    # --- the run -----------------------------------------------------------------------------

    def _background(self, target) -> threading.Thread:
        thread = threading.Thread(target=target, args=(self.shutdown,), name=target.__qualname__, daemon=True)
        thread.start()
        return thread

    def run(self, on_tick: Callable[[RunSnapshot], None] | None = None) -> RunSnapshot:
        """Run until a stop; `on_tick(snapshot)` is called about once a second (the dashboard).

        Must be called from the main thread (it installs the SIGINT/SIGTERM handlers)."""
        previous = {signum: signal.signal(signum, self._on_signal) for signum in (signal.SIGINT, signal.SIGTERM)}
        try:
            if self.tracker is not None:
                self.tracker.adopt_running()
            self.started_at = time.monotonic()
            background = [self._background(self.extender.run), self._background(self.monitor.run)]
            if self.tracker is not None:
                background.append(self._background(self.tracker.run))
            for pool in self.pools.values():
                pool.start()
            self._watch(on_tick)
            for pool in self.pools.values():
                while pool.is_alive():
                    pool.join(JOIN_SLICE_SECONDS)
                pool.give_back_released()
            self.shutdown.set()
            for thread in background:
                thread.join()
            self.seconds = self.elapsed()
            return self._summarise()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _watch(self, on_tick) -> None:
        drained_checks = 0
        while not self.stop.wait(CHECK_SECONDS):
            if on_tick is not None:
                on_tick(self.snapshot(self.monitor.latest))
            if self.settings.duration is not None and self.elapsed() >= self.settings.duration:
                self.request_stop("duration")
            elif self.settings.until_empty:
                try:
                    drained_checks = drained_checks + 1 if self.drained() else 0
                except (ClientError, BotoCoreError):
                    drained_checks = 0  # the monitor reports the error; ask again next time
                if drained_checks >= DRAINED_CHECKS:
                    self.request_stop("until-empty")

    def _summarise(self) -> RunSnapshot:
        if self.tracker is not None:
            try:
                self.tracker.poll()  # outcomes of executions that closed since the last poll
            except (ClientError, BotoCoreError) as error:
                self.tracker.stats.error(f"tracking executions failed: {error}")
        depths = self.monitor.sample()
        report = report_key = None
        if Pool.ANALYTICS in self.pools:
            try:
                report = read_demand(self.gateway.client("dynamodb"), self.stack.tables["analytics"], self.stack.tables["orders"])
                report_key = write_report(self.gateway.client("s3"), self.stack.bucket, report)
            except ClientError as error:  # the summary is still shown; the run ends with exit 1
                self.failure = self.failure or describe_client_error(error, f"the analytics report of {self.stack.bucket}")
        return self.snapshot(depths, report, report_key)

    def snapshot(self, depths: dict[str, QueueDepth], report: DemandReport | None = None, report_key: str | None = None) -> RunSnapshot:
        """The run as a value, for the dashboard while it lasts and for the summary at its end."""
        counts = {}
        for pool, counters in POOL_COUNTERS.items():
            pool_counts = self.pools[pool].stats.snapshot() if pool in self.pools else {}
            counts[pool] = {counter: pool_counts.get(counter, 0) for counter in counters}
        p50, p95 = self.latency.percentiles(50, 95)
        return RunSnapshot(
            seconds=round(self.seconds or self.elapsed(), 3),
            stopped=self.stop_reason,
            workers=self.settings.workers,
            counts=counts,
            in_hand={pool: queue_pool.stats.in_hand for pool, queue_pool in self.pools.items()},
            last_errors={pool: queue_pool.stats.last_error for pool, queue_pool in self.pools.items() if queue_pool.stats.last_error},
            executions=self.tracker.counts() if self.tracker is not None else {"succeeded": 0, "failed": 0, "running": 0, "waiting": 0},
            latency_p50=p50,
            latency_p95=p95,
            latency_samples=self.latency.count,
            queues=depths,
            failure=self.failure,
            monitor_error=self.monitor.last_error,
            report=report,
            report_key=report_key,
            active_pools=tuple(self.pools),
        )
