"""The producer's API path, for the pipeline benchmark to set beside the S3 path: orders/s and request latency.

`measure_api_path(api_url, ...)` posts a spike through the producer's own engine and ApiSink (the
order API of a deployed stack: `describe_stack(...).api_url`) and times every POST, retries included.
It measures the front door only; draining the accepted orders is the caller's (as for the S3 path).

    python -m bench.api_path --prefix bfbench --orders 1000      # on a stack set up on the local emulator
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import asdict, dataclass

import click

from blackfriday.clients import AwsGateway
from blackfriday.deployment.stack import describe_stack
from blackfriday.names import StackNames
from blackfriday.producer import ApiSink, Spike, SpikeSettings
from blackfriday.producer.plan import PlannedUpload
from blackfriday.target import resolve_target


@dataclass(frozen=True)
class ApiPathFigures:
    orders: int
    accepted: int
    refused: int
    failed: int
    seconds: float
    orders_per_second: float  # orders finished (accepted or refused) per second
    p50_ms: float
    p95_ms: float


class TimedSink:
    """An ApiSink whose every send is timed, whatever its outcome."""

    def __init__(self, sink: ApiSink):
        self.sink = sink
        self.destination = sink.destination
        self.latencies: list[float] = []
        self._lock = threading.Lock()

    def send(self, order: PlannedUpload) -> None:
        started = time.perf_counter()
        try:
            self.sink.send(order)
        finally:
            elapsed = time.perf_counter() - started
            with self._lock:
                self.latencies.append(elapsed)


def percentile_ms(latencies: list[float], share: float) -> float:
    """The nearest-rank percentile, in milliseconds."""
    ordered = sorted(latencies)
    return round(1000 * ordered[max(0, math.ceil(len(ordered) * share) - 1)], 1) if ordered else 0.0


def measure_api_path(
    api_url: str, orders: int = 1000, concurrency: int = 32, seed: int = 2026, invalid_rate: float = 0.02
) -> ApiPathFigures:
    settings = SpikeSettings(orders=orders, seed=seed, concurrency=concurrency, invalid_rate=invalid_rate)
    sink = TimedSink(ApiSink(api_url, concurrency))
    report = Spike(sink, settings).run()
    finished = report.uploaded + report.refused.total()
    return ApiPathFigures(
        orders=orders,
        accepted=report.uploaded,
        refused=report.refused.total(),
        failed=report.failed,
        seconds=round(report.seconds, 3),
        orders_per_second=round(finished / report.seconds, 1) if report.seconds else 0.0,
        p50_ms=percentile_ms(sink.latencies, 0.50),
        p95_ms=percentile_ms(sink.latencies, 0.95),
    )


@click.command()
@click.option("--endpoint-url", help="The emulator or endpoint the stack lives on (default: the local emulator).")
@click.option("--prefix", required=True, help="The stack, already set up.")
@click.option("--orders", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--concurrency", type=click.IntRange(min=1), default=32, show_default=True)
@click.option("--seed", type=int, default=2026, show_default=True)
@click.option("--invalid-rate", type=click.FloatRange(0, 1), default=0.02, show_default=True)
def main(endpoint_url, prefix, orders, concurrency, seed, invalid_rate):
    gateway = AwsGateway(resolve_target(None, endpoint_url, None, prefix))
    info = describe_stack(gateway, StackNames(prefix, gateway.account_id, gateway.region))
    print(json.dumps(asdict(measure_api_path(info.api_url, orders, concurrency, seed, invalid_rate))))


if __name__ == "__main__":
    main()
