"""The pipeline benchmark: the real scripts against a naive seed-style baseline, on one fresh emulator.

    python -m bench.pipeline_bench                       # compare at 100 orders, scale at 1,000 and 10,000
    python -m bench.pipeline_bench --compare-orders 100 --scale 500,2000

For each run: setup_infra, then producer and consumer started together (workers drain while orders
arrive), then status.py --verify, then teardown. It reports orders/s end to end, p50/p95 order
latency (upload -> execution end), producer uploads/s, peak memory of each process, the ratio to
the baseline on the same orders, and per-order time at each scale. JSON goes to bench/results/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from blackfriday.clients import AwsGateway
from blackfriday.emulator import lifecycle
from blackfriday.names import StackNames
from blackfriday.target import ENDPOINT, Target

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SEED = 2026
REGION = "us-east-1"


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def clean_env() -> dict:
    return {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "BF_"))}


def run_json(*command: str) -> dict:
    """Run a script with --json and return its document; fail loudly with its stderr otherwise."""
    result = subprocess.run([sys.executable, *command], cwd=ROOT, env=clean_env(), capture_output=True, text=True)
    if result.returncode not in (0,) and not result.stdout.strip():
        raise click.ClickException(f"{' '.join(command)} exited {result.returncode}: {result.stderr.strip()[-500:]}")
    document = json.loads(result.stdout)
    document["_exit_code"] = result.returncode
    return document


def measured(script_and_args: list[str], workdir: Path, name: str) -> tuple[subprocess.Popen, Path]:
    """Start a process under bench/measure.py; its peak memory lands in workdir/<name>.measure.json."""
    measure_file = workdir / f"{name}.measure.json"
    stdout = open(workdir / f"{name}.out", "w")
    stderr = open(workdir / f"{name}.err", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.measure", str(measure_file), *script_and_args],
        cwd=ROOT,
        env=clean_env(),
        stdout=stdout,
        stderr=stderr,
    )
    return process, measure_file


def latencies_ms(url: str, prefix: str) -> list[float]:
    """Upload (object LastModified) -> end of the order's execution, for every finished execution."""
    gateway = AwsGateway(Target(ENDPOINT, REGION, prefix, url))
    names = StackNames(prefix, gateway.account_id, REGION)
    s3, stepfunctions = gateway.client("s3"), gateway.client("stepfunctions")
    uploaded = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=names.bucket, Prefix="orders/"):
        for item in page.get("Contents", []):
            uploaded[item["Key"].rsplit("/", 1)[-1][: -len(".json")]] = item["LastModified"]
    result = []
    for page in stepfunctions.get_paginator("list_executions").paginate(stateMachineArn=names.state_machine_arn):
        for execution in page["executions"]:
            if execution.get("stopDate") and execution["name"] in uploaded:
                result.append((execution["stopDate"] - uploaded[execution["name"]]).total_seconds() * 1000)
    return result


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def run_once(url: str, kind: str, orders: int, workdir: Path) -> dict:
    prefix = f"{'base' if kind == 'baseline' else 'bench'}{orders}"
    target_args = ["--endpoint-url", url, "--prefix", prefix]
    run_json("setup_infra.py", *target_args, "--json")
    if kind == "baseline":
        consumer_args = ["bench/baseline.py", "consume", *target_args, "--orders", str(orders)]
        producer_args = ["bench/baseline.py", "produce", *target_args, "--orders", str(orders), "--seed", str(SEED)]
    else:
        consumer_args = ["consumer.py", *target_args, "--until-empty", "--no-dashboard", "--json"]
        producer_args = ["producer.py", *target_args, "--orders", str(orders), "--seed", str(SEED), "--invalid-rate", "0", "--json"]
    started = time.monotonic()
    consumer, consumer_measure = measured(consumer_args, workdir, f"{prefix}-consumer")
    producer, producer_measure = measured(producer_args, workdir, f"{prefix}-producer")
    producer.wait()
    consumer.wait()
    seconds = time.monotonic() - started
    producer_stats = json.loads(producer_measure.read_text())
    consumer_stats = json.loads(consumer_measure.read_text())
    if producer_stats["exit_code"] or consumer_stats["exit_code"]:
        raise click.ClickException(f"{kind} run at {orders} orders failed; see {workdir}")
    # The baseline has no analytics workers, so only the pipeline's runs can be held to invariant 4.
    verify = run_json("status.py", *target_args, "--verify", "--json") if kind == "pipeline" else None
    latency = latencies_ms(url, prefix)
    run_json("teardown.py", *target_args, "--keep-emulator", "--yes", "--json")
    return {
        "kind": kind,
        "orders": orders,
        "seconds": round(seconds, 2),
        "orders_per_second": round(orders / seconds, 1),
        "ms_per_order": round(1000 * seconds / orders, 2),
        "producer_uploads_per_second": round(orders / producer_stats["seconds"], 1),
        "latency_p50_ms": round(percentile(latency, 0.50)),
        "latency_p95_ms": round(percentile(latency, 0.95)),
        "producer_peak_rss_mb": round(producer_stats["peak_rss_mb"], 1),
        "consumer_peak_rss_mb": round(consumer_stats["peak_rss_mb"], 1),
        "invariants_hold": verify["holds"] if verify else None,
    }


@click.command()
@click.option("--compare-orders", type=click.IntRange(min=1), default=100, show_default=True, help="Orders for the side-by-side run against the baseline.")
@click.option("--scale", default="1000,10000", show_default=True, help="Order counts for the scaling runs.")
def main(compare_orders, scale):
    """Benchmark the pipeline against the naive baseline and across scales."""
    scales = [int(value) for value in scale.split(",") if value]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    workdir = Path(tempfile.mkdtemp(prefix="bf-bench-"))
    log = open(workdir / "emulator.log", "wb")
    emulator = subprocess.Popen(lifecycle.serve_command(port), cwd=ROOT, env=clean_env(), stdout=log, stderr=subprocess.STDOUT)
    console = Console(stderr=True)
    try:
        lifecycle.wait_until_healthy(url, emulator, workdir / "emulator.log")
        runs = []
        for kind, orders in [("baseline", compare_orders), ("pipeline", compare_orders)] + [("pipeline", n) for n in scales if n != compare_orders]:
            console.print(f"running {kind} at {orders} orders…")
            runs.append(run_once(url, kind, orders, workdir))
            console.print(runs[-1])
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)
    baseline, pipeline = runs[0], runs[1]
    # Growth is judged on the scaling runs alone (1,000 vs 10,000 by default), not the small comparison.
    by_scale = {run["orders"]: run for run in runs[1:] if run["orders"] in scales} or {pipeline["orders"]: pipeline}
    smallest, largest = min(by_scale), max(by_scale)
    summary = {
        "speedup_vs_baseline": round(pipeline["orders_per_second"] / baseline["orders_per_second"], 1),
        "speedup_of_largest_run_vs_baseline": round(by_scale[largest]["orders_per_second"] / baseline["orders_per_second"], 1),
        "per_order_time_ratio": round(by_scale[largest]["ms_per_order"] / by_scale[smallest]["ms_per_order"], 2),
        "consumer_memory_ratio": round(by_scale[largest]["consumer_peak_rss_mb"] / by_scale[smallest]["consumer_peak_rss_mb"], 2),
        "producer_memory_ratio": round(by_scale[largest]["producer_peak_rss_mb"] / by_scale[smallest]["producer_peak_rss_mb"], 2),
        "scales": [smallest, largest],
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
    }
    document = {"runs": runs, "summary": summary}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "pipeline.json").write_text(json.dumps(document, indent=2))
    table = Table(title="Pipeline benchmark (local emulator)")
    for column in ("run", "orders", "seconds", "orders/s", "ms/order", "uploads/s", "p50 ms", "p95 ms", "producer MB", "consumer MB", "invariants"):
        table.add_column(column)
    for run in runs:
        table.add_row(
            run["kind"], str(run["orders"]), str(run["seconds"]), str(run["orders_per_second"]), str(run["ms_per_order"]),
            str(run["producer_uploads_per_second"]), str(run["latency_p50_ms"]), str(run["latency_p95_ms"]),
            str(run["producer_peak_rss_mb"]), str(run["consumer_peak_rss_mb"]), {True: "hold", False: "FAIL", None: "n/a"}[run["invariants_hold"]],
        )
    wide = Console(width=170)
    wide.print(table)
    wide.print(summary)
    print(json.dumps(document))


if __name__ == "__main__":
    main()
