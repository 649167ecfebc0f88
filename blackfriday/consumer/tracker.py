"""The executions this consumer started (or found running at start): the --max-inflight bound, outcomes, latency.

A worker reserves a slot before StartExecution and turns it into a running execution after, so
at most `max_inflight` executions run at once. A poller lists the RUNNING executions (one call,
bounded by the in-flight limit, never a listing of every execution ever run) and describes the
tracked ones that left that list, once each: memory and calls stay flat however long the run.

An execution whose order waits for a person (its row AWAITING_APPROVAL, looked up each poll with
`awaiting_among`) is parked: it holds no slot, and the tracker is settled though it still runs (a
decision may take a day). Once decided it counts again until it ends.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError

from blackfriday.consumer.stats import LatencySample, PoolStats

RUNNING = "RUNNING"
SUCCEEDED = "SUCCEEDED"
POLL_SECONDS = 1.0
SLOT_WAIT_SECONDS = 0.5  # how often a waiting worker looks at the stop flag
LIST_PAGE_SIZE = 1000


def order_id_of(execution_arn: str) -> str:
    """The execution's name, which is its orderId (shipping names every execution after its order)."""
    return execution_arn.rsplit(":", 1)[1]


def nothing_awaits(order_ids: Iterable[str]) -> set[str]:
    return set()


class ExecutionTracker:
    def __init__(
        self,
        stepfunctions,
        state_machine_arn: str,
        max_inflight: int,
        latency: LatencySample,
        stats: PoolStats,
        awaiting_among: Callable[[Iterable[str]], set[str]] = nothing_awaits,
    ):
        self.stepfunctions = stepfunctions
        self.state_machine_arn = state_machine_arn
        self.max_inflight = max_inflight
        self.latency = latency
        self.stats = stats
        self.awaiting_among = awaiting_among  # which of these orderIds wait for a person
        self._running: dict[str, datetime | None] = {}  # execution ARN -> when its order was uploaded
        self._reserved = 0
        self._outcomes: Counter[str] = Counter()  # succeeded / failed
        self._listed_running = 0  # RUNNING executions of the state machine at the last poll, ours or not
        self._parked: set[str] = set()  # listed RUNNING executions whose order waits for a person, ours or not
        self._condition = threading.Condition()

    def _list_running(self) -> set[str]:
        paginator = self.stepfunctions.get_paginator("list_executions")
        pages = paginator.paginate(
            stateMachineArn=self.state_machine_arn, statusFilter=RUNNING, PaginationConfig={"PageSize": LIST_PAGE_SIZE}
        )
        return {execution["executionArn"] for page in pages for execution in page["executions"]}

    def _parked_among(self, listed: set[str]) -> set[str]:
        awaiting = self.awaiting_among(order_id_of(arn) for arn in listed)
        return {arn for arn in listed if order_id_of(arn) in awaiting}

    def adopt_running(self) -> int:
        """Track executions already running (started by an earlier, perhaps killed, consumer)."""
        listed = self._list_running()
        parked = self._parked_among(listed)
        with self._condition:
            for arn in listed:
                self._running.setdefault(arn, None)
            self._listed_running = len(listed)
            self._parked = parked
        return len(listed)

    def _holding(self) -> int:
        """Slots taken: reserved, and running executions not parked (call with the condition held)."""
        return self._reserved + sum(arn not in self._parked for arn in self._running)

    def acquire_slot(self, stop: threading.Event) -> bool:
        """Wait for room under --max-inflight; False when asked to stop while waiting."""
        with self._condition:
            while self._holding() >= self.max_inflight:
                if stop.is_set():
                    return False
                self._condition.wait(SLOT_WAIT_SECONDS)
            self._reserved += 1
            return True

    def release_slot(self) -> None:
        with self._condition:
            self._reserved -= 1
            self._condition.notify()

    def register(self, execution_arn: str, uploaded_at: datetime | None) -> bool:
        """Turn a reserved slot into a running execution; False when it was already tracked (a duplicate
        that Step Functions answered idempotently because the first execution still runs)."""
        with self._condition:
            self._reserved -= 1
            if execution_arn in self._running:
                self._condition.notify()
                return False
            self._running[execution_arn] = uploaded_at
            return True

    def poll(self) -> None:
        listed = self._list_running()
        parked = self._parked_among(listed)
        with self._condition:
            self._listed_running = len(listed)
            self._parked = parked
            self._condition.notify_all()  # a newly parked execution frees its slot
            gone = [arn for arn in self._running if arn not in listed]
        for arn in gone:
            try:
                execution = self.stepfunctions.describe_execution(executionArn=arn)
            except self.stepfunctions.exceptions.ExecutionDoesNotExist:
                self._close(arn, None, None)
                continue
            if execution["status"] != RUNNING:  # a listing can lag behind a fresh start
                self._close(arn, execution["status"], execution.get("stopDate"))

    def _close(self, arn: str, status: str | None, stopped_at: datetime | None) -> None:
        with self._condition:
            uploaded_at = self._running.pop(arn, None)
            if status is not None:
                self._outcomes["succeeded" if status == SUCCEEDED else "failed"] += 1
            self._condition.notify_all()
        if uploaded_at is not None and stopped_at is not None:
            self.latency.add(max(0.0, (stopped_at - uploaded_at).total_seconds()))

    def run(self, shutdown: threading.Event) -> None:
        while not shutdown.wait(POLL_SECONDS):
            try:
                self.poll()
            except (ClientError, BotoCoreError) as error:
                self.stats.error(f"tracking executions of {self.state_machine_arn} failed: {error}")

    @property
    def running(self) -> int:
        with self._condition:
            return len(self._running)

    @property
    def settled(self) -> bool:
        """Nothing is about to start, and every RUNNING execution (ours, or listed by the service) waits for a person."""
        with self._condition:
            return not self._reserved and set(self._running) <= self._parked and self._listed_running == len(self._parked)

    def counts(self) -> dict[str, int]:
        """Outcomes so far; running excludes the executions waiting for a person, which `waiting` counts."""
        with self._condition:
            waiting = len(self._parked)
            running = sum(arn not in self._parked for arn in self._running)
            return {"succeeded": self._outcomes["succeeded"], "failed": self._outcomes["failed"], "running": running, "waiting": waiting}
