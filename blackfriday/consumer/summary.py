"""What a run looks like at one moment, as a value: shown live by the dashboard, as tables at exit, or as --json.

The consumer builds the snapshot (`Consumer.snapshot`); nothing here knows the consumer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from blackfriday.consumer.analytics import DemandReport
from blackfriday.consumer.monitor import QueueDepth
from blackfriday.consumer.stats import DONE_COUNTERS, Pool, PoolCounter
from blackfriday.ui import Output


def dollars(cents: int) -> str:
    return f"${cents / 100:,.2f}"


def seconds_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}s"


def done_text(counts: dict[PoolCounter, int], pool: Pool, separator: str) -> str:
    """What the pool got done: "10 started", or "8 aggregated, 2 rejected"."""
    return separator.join(f"{counts[counter]} {counter}" for counter in DONE_COUNTERS[pool])


@dataclass(frozen=True)
class RunSnapshot:
    seconds: float
    stopped: str  # why the run ended or is ending: until-empty, duration, SIGINT, SIGTERM, failure ("" while running)
    workers: int
    counts: dict[Pool, dict[PoolCounter, int]]  # every pool's every counter, zero when the pool did not run
    in_hand: dict[Pool, int]
    last_errors: dict[Pool, str]
    executions: dict[str, int]  # succeeded, failed, running, waiting (for a person's approval)
    latency_p50: float | None
    latency_p95: float | None
    latency_samples: int
    queues: dict[str, QueueDepth]
    failure: str = ""
    monitor_error: str = ""  # the queue monitor's last error, while it lasts
    report: DemandReport | None = None
    report_key: str | None = None
    active_pools: tuple[Pool, ...] = field(default_factory=tuple)

    def to_json(self) -> dict:
        document = {
            "seconds": self.seconds,
            "stopped": self.stopped,
            "workers": self.workers,
            **self.counts,
            "executions": dict(self.executions),
            "latency": {"p50Seconds": self.latency_p50, "p95Seconds": self.latency_p95, "samples": self.latency_samples},
            "dlq": {queue: depth.dlq for queue, depth in self.queues.items()},
            "queues": {
                queue: {"visible": depth.visible, "inFlight": depth.in_flight, "delayed": depth.delayed}
                for queue, depth in self.queues.items()
            },
            "errors": self.last_errors,
            "report": None,
        }
        if self.report is not None:
            document["report"] = {"key": self.report_key, **self.report.to_json()}
        return document

    def per_second(self, pool: Pool) -> float:
        return self.counts[pool][PoolCounter.PROCESSED] / self.seconds if self.seconds else 0.0

    def render(self, out: Output) -> None:
        reason = f" ({self.stopped})" if self.stopped else ""
        out.say(f"Consumer ran {self.seconds:.1f}s with {self.workers} worker(s) per pool{reason}.")
        rows = []
        for pool in self.active_pools:
            counts = self.counts[pool]
            rows.append(
                (
                    pool,
                    counts[PoolCounter.RECEIVED],
                    done_text(counts, pool, ", "),
                    counts[PoolCounter.DUPLICATES],
                    counts[PoolCounter.ERRORS],
                    f"{self.per_second(pool):.1f}",
                )
            )
        out.table("Pools", ("pool", "received", "done", "duplicates", "errors", "messages/s"), rows)
        out.table(
            "Queues",
            ("queue", "visible", "in flight", "DLQ"),
            [(queue, depth.visible, depth.in_flight, depth.dlq) for queue, depth in self.queues.items()],
        )
        if Pool.SHIPPING in self.active_pools:
            executions = self.executions
            out.table(
                "Executions",
                ("running", "waiting for approval", "succeeded", "failed", "latency p50", "latency p95"),
                [(executions["running"], executions["waiting"], executions["succeeded"], executions["failed"],
                  seconds_text(self.latency_p50), seconds_text(self.latency_p95))],
            )  # fmt: skip
            if executions["waiting"]:
                out.say(f"{executions['waiting']} order(s) wait for a person's approval: python approve.py lists them.")
        for pool, message in self.last_errors.items():
            out.warn(f"last {pool} error: {message}")
        if self.report is not None:
            self.render_report(out)

    def render_report(self, out: Output) -> None:
        report = self.report

        def sold(sales):
            return (sales.orders, sales.units, dollars(sales.sales_cents)) if sales else (0, 0, dollars(0))

        rows = [
            (sku, demand.orders, demand.units, dollars(demand.demand_cents), *sold(report.sales.get(sku)))
            for sku, demand in report.skus.items()
        ]
        rows.append(("total", report.totals.orders, report.totals.units, dollars(report.totals.demand_cents), *sold(report.sales_totals)))
        columns = ("sku", "ordered", "units wanted", "demand", "completed", "units sold", "sales")
        out.table(f"Demand (every valid order) and sales (COMPLETED orders) per SKU (report {self.report_key})", columns, rows)
        out.say(f"{report.rejected} order(s) rejected by validation (not aggregated).")
