"""What a run did, as one object: shown live by the dashboard, as tables at exit, or as --json."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from blackfriday.consumer.analytics import DemandReport
from blackfriday.consumer.monitor import QueueDepth
from blackfriday.ui import Output

if TYPE_CHECKING:
    from blackfriday.consumer.run import Consumer

POOL_COUNTERS = {
    "fulfillment": ("received", "started", "duplicates", "errors", "test_events", "throttled", "processed"),
    "analytics": ("received", "aggregated", "rejected", "duplicates", "errors", "test_events", "conflicts", "processed"),
}
QUEUE_OF_POOL = {"fulfillment": "shipping", "analytics": "analytics"}


def dollars(cents: int) -> str:
    return f"${cents / 100:,.2f}"


def seconds_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}s"


@dataclass
class RunSummary:
    seconds: float
    stopped: str  # why the run ended: until-empty, duration, SIGINT, SIGTERM, failure ("" while running)
    workers: int
    counts: dict[str, dict[str, int]]  # pool -> counter -> value (every counter, zero when the pool did not run)
    in_hand: dict[str, int]
    last_errors: dict[str, str]
    executions: dict[str, int]  # succeeded, failed, running
    latency_p50: float | None
    latency_p95: float | None
    latency_samples: int
    queues: dict[str, QueueDepth]
    failure: str = ""
    report: DemandReport | None = None
    report_key: str | None = None
    active_pools: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def collect(cls, consumer: Consumer, depths: dict[str, QueueDepth], report: DemandReport | None = None, report_key: str | None = None) -> RunSummary:
        pools = {pool.name: pool for pool in consumer.pools.values()}
        counts = {}
        for name, counters in POOL_COUNTERS.items():
            snapshot = pools[name].stats.snapshot() if name in pools else {}
            counts[name] = {counter: snapshot.get(counter, 0) for counter in counters}
        tracker = consumer.tracker
        p50, p95 = consumer.latency.percentiles(50, 95)
        return cls(
            seconds=round(consumer.seconds or consumer.elapsed(), 3),
            stopped=consumer.stop_reason,
            workers=consumer.settings.workers,
            counts=counts,
            in_hand={name: pool.stats.in_hand for name, pool in pools.items()},
            last_errors={name: pool.stats.last_error for name, pool in pools.items() if pool.stats.last_error},
            executions=tracker.counts() if tracker is not None else {"succeeded": 0, "failed": 0, "running": 0},
            latency_p50=p50,
            latency_p95=p95,
            latency_samples=consumer.latency.count,
            queues=depths,
            failure=consumer.failure,
            report=report,
            report_key=report_key,
            active_pools=tuple(pools),
        )

    def to_json(self) -> dict:
        document = {
            "seconds": self.seconds,
            "stopped": self.stopped,
            "workers": self.workers,
            **self.counts,
            "executions": dict(self.executions),
            "latency": {"p50Seconds": self.latency_p50, "p95Seconds": self.latency_p95, "samples": self.latency_samples},
            "dlq": {queue: depth.dlq for queue, depth in self.queues.items()},
            "queues": {queue: {"visible": depth.visible, "inFlight": depth.in_flight, "delayed": depth.delayed} for queue, depth in self.queues.items()},
            "errors": self.last_errors,
            "report": None,
        }
        if self.report is not None:
            document["report"] = {"key": self.report_key, **self.report.to_json()}
        return document

    def per_second(self, pool: str) -> float:
        return self.counts[pool]["processed"] / self.seconds if self.seconds else 0.0

    def render(self, out: Output) -> None:
        reason = f" ({self.stopped})" if self.stopped else ""
        out.say(f"Consumer ran {self.seconds:.1f}s with {self.workers} worker(s) per pool{reason}.")
        fulfillment, analytics = self.counts["fulfillment"], self.counts["analytics"]
        rows = []
        if "fulfillment" in self.active_pools:
            rows.append(("fulfillment", fulfillment["received"], f"{fulfillment['started']} started", fulfillment["duplicates"], fulfillment["errors"], f"{self.per_second('fulfillment'):.1f}"))
        if "analytics" in self.active_pools:
            done = f"{analytics['aggregated']} aggregated, {analytics['rejected']} rejected"
            rows.append(("analytics", analytics["received"], done, analytics["duplicates"], analytics["errors"], f"{self.per_second('analytics'):.1f}"))
        out.table("Pools", ("pool", "received", "done", "duplicates", "errors", "messages/s"), rows)
        out.table(
            "Queues",
            ("queue", "visible", "in flight", "DLQ"),
            [(queue, depth.visible, depth.in_flight, depth.dlq) for queue, depth in self.queues.items()],
        )
        if "fulfillment" in self.active_pools:
            executions = self.executions
            out.table(
                "Executions",
                ("running", "succeeded", "failed", "latency p50", "latency p95"),
                [(executions["running"], executions["succeeded"], executions["failed"], seconds_text(self.latency_p50), seconds_text(self.latency_p95))],
            )
        for pool, message in self.last_errors.items():
            out.warn(f"last {pool} error: {message}")
        if self.report is not None:
            self.render_report(out)

    def render_report(self, out: Output) -> None:
        report = self.report
        def sold(sales):
            return (sales.orders, sales.units, dollars(sales.sales_cents)) if sales else (0, 0, dollars(0))

        rows = [(sku, demand.orders, demand.units, dollars(demand.demand_cents), *sold(report.sales.get(sku))) for sku, demand in report.skus.items()]
        rows.append(("total", report.totals.orders, report.totals.units, dollars(report.totals.demand_cents), *sold(report.sales_totals)))
        columns = ("sku", "ordered", "units wanted", "demand", "completed", "units sold", "sales")
        out.table(f"Demand (every valid order) and sales (COMPLETED orders) per SKU (report {self.report_key})", columns, rows)
        out.say(f"{report.rejected} order(s) rejected by validation (not aggregated).")
