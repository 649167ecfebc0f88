"""The live view of a run: a rich dashboard on a terminal, else (or with --no-dashboard) a plain line every few seconds."""

from __future__ import annotations

import time
from collections import deque

from rich.console import Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from blackfriday.consumer.stats import DONE_COUNTERS, Pool, PoolCounter
from blackfriday.consumer.summary import RunSnapshot, done_text, seconds_text
from blackfriday.ui import Output

RATE_WINDOW_SECONDS = 5.0
PLAIN_LINE_SECONDS = 5.0


class RateMeter:
    """Messages per second over the last few seconds, from a growing total."""

    def __init__(self):
        self._points: deque[tuple[float, int]] = deque()

    def rate(self, now: float, total: int) -> float:
        self._points.append((now, total))
        while len(self._points) > 2 and now - self._points[0][0] > RATE_WINDOW_SECONDS:
            self._points.popleft()
        first_time, first_total = self._points[0]
        return (total - first_total) / (now - first_time) if now > first_time else 0.0


class Dashboard:
    def __init__(self, out: Output, live: bool, title: str):
        self.out = out
        self.live = live and out.interactive
        self.title = title
        self.rates = {pool: RateMeter() for pool in Pool}
        self._live: Live | None = None
        self._last_line = 0.0

    def __enter__(self) -> Dashboard:
        if self.live:
            self._live = Live(Text(f"{self.title}: starting…"), console=self.out.human, auto_refresh=False, transient=True)
            self._live.start()
        return self

    def __exit__(self, *exc_info) -> None:
        if self._live is not None:
            self._live.stop()

    def tick(self, summary: RunSnapshot) -> None:
        now = time.monotonic()
        rates = {pool: self.rates[pool].rate(now, summary.counts[pool][PoolCounter.PROCESSED]) for pool in summary.active_pools}
        if self._live is not None:
            self._live.update(self.render(summary, rates), refresh=True)
        elif now - self._last_line >= PLAIN_LINE_SECONDS:
            self._last_line = now
            self.out.say(self.line(summary, rates))

    def render(self, summary: RunSnapshot, rates: dict[Pool, float]) -> Group:
        state = f"stopping ({summary.stopped}): finishing what is in hand" if summary.stopped else "running (Ctrl-C stops cleanly)"
        header = Text(f"{self.title} · {summary.seconds:.0f}s · {summary.workers} worker(s) per pool · {state}", style="bold")
        queues = Table(title="Queues", title_justify="left")
        for column in ("queue", "visible", "in flight", "delayed", "DLQ"):
            queues.add_column(column, justify="left" if column == "queue" else "right")
        for queue, depth in summary.queues.items():
            queues.add_row(
                queue, str(depth.visible), str(depth.in_flight), str(depth.delayed), Text(str(depth.dlq), style="red" if depth.dlq else "")
            )
        pools = Table(title="Pools", title_justify="left")
        for column in ("pool", "in hand", "processed/s", "received", "done", "duplicates", "errors"):
            pools.add_column(column, justify="left" if column in ("pool", "done") else "right")
        for pool in summary.active_pools:
            counts = summary.counts[pool]
            errors = Text(str(counts[PoolCounter.ERRORS]), style="red" if counts[PoolCounter.ERRORS] else "")
            pools.add_row(
                pool, str(summary.in_hand.get(pool, 0)), f"{rates[pool]:.1f}", str(counts[PoolCounter.RECEIVED]),
                done_text(counts, pool, ", "), str(counts[PoolCounter.DUPLICATES]), errors,
            )  # fmt: skip
        parts = [header, queues, pools]
        if Pool.SHIPPING in summary.active_pools:
            executions = Table(title="Executions (upload → completion latency)", title_justify="left")
            for column in ("running", "waiting", "succeeded", "failed", "p50", "p95"):
                executions.add_column(column, justify="right")
            counts = summary.executions
            executions.add_row(str(counts["running"]), str(counts["waiting"]), str(counts["succeeded"]), str(counts["failed"]),
                               seconds_text(summary.latency_p50), seconds_text(summary.latency_p95))  # fmt: skip
            parts.append(executions)
        for pool, message in summary.last_errors.items():
            parts.append(Text(f"last {pool} error: {message}", style="yellow"))
        if summary.monitor_error:
            parts.append(Text(summary.monitor_error, style="yellow"))
        return Group(*parts)

    @staticmethod
    def line(summary: RunSnapshot, rates: dict[Pool, float]) -> str:
        parts = [f"{summary.seconds:.0f}s"]
        for queue, depth in summary.queues.items():
            parts.append(f"{queue} {depth.visible} visible/{depth.in_flight} in flight/DLQ {depth.dlq}")
        for pool in summary.active_pools:
            counts = summary.counts[pool]
            done = " ".join(f"{counter} {counts[counter]}" for counter in DONE_COUNTERS[pool])
            parts.append(
                f"{pool} {rates[pool]:.1f}/s {done} duplicates {counts[PoolCounter.DUPLICATES]} errors {counts[PoolCounter.ERRORS]}"
            )
        if Pool.SHIPPING in summary.active_pools:
            counts = summary.executions
            parts.append(
                f"executions running {counts['running']} waiting {counts['waiting']} "
                f"succeeded {counts['succeeded']} failed {counts['failed']} "
                f"p50 {seconds_text(summary.latency_p50)} p95 {seconds_text(summary.latency_p95)}"
            )
        if summary.stopped:
            parts.append(f"stopping ({summary.stopped})")
        return " | ".join(parts)
