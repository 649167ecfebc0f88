"""The producer's benchmark: upload throughput against a plain sequential loop, and memory as orders grow.

    python -m bench.producer_bench                                  # 2,000 orders; memory at 1,000 and 10,000
    python -m bench.producer_bench --orders 500 --memory 500,2000 --concurrency 32

One fresh emulator serves every run, each run into its own bucket (no event notification, so the
figures are the producer's and S3's, not the fan-out's). The sequential loop uploads the very same
bodies, keys and metadata with one client, one PUT after another. The producer runs as
`producer.py --json` in its own process under bench/measure.py, which records its peak RSS.
Prints a table, then one JSON document.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

from bench.pipeline_bench import clean_env, free_port
from blackfriday.clients import AwsGateway
from blackfriday.emulator import lifecycle
from blackfriday.names import StackNames
from blackfriday.producer import UPLOADED_AT_METADATA, UploadPlan
from blackfriday.target import ENDPOINT, Target, local_endpoint_url
from blackfriday.ui import Output

ROOT = Path(__file__).resolve().parent.parent
SEED = 2026
REGION = "us-east-1"


def fresh_bucket(url: str, prefix: str) -> tuple[AwsGateway, str]:
    gateway = AwsGateway(Target(ENDPOINT, REGION, prefix, url))
    bucket = StackNames(prefix, gateway.account_id, REGION).bucket
    gateway.client("s3").create_bucket(Bucket=bucket)
    return gateway, bucket


def sequential_upload(url: str, orders: int) -> dict:
    """The seed-style baseline: one client, one PUT after another, the same objects the producer writes."""
    gateway, bucket = fresh_bucket(url, "bench-sequential")
    s3 = gateway.client("s3")
    plan = UploadPlan(SEED, invalid_rate=0)
    started = time.monotonic()
    for index in range(orders):
        planned = plan.upload(index)
        s3.put_object(
            Bucket=bucket,
            Key=planned.key,
            Body=planned.body,
            ContentType="application/json",
            Metadata={UPLOADED_AT_METADATA: str(time.time_ns() // 10**6)},
        )
    seconds = time.monotonic() - started
    return {"run": "sequential loop", "orders": orders, "seconds": round(seconds, 3), "orders_per_second": round(orders / seconds, 1)}


def producer_run(url: str, orders: int, concurrency: int, workdir: Path) -> dict:
    """producer.py in its own process: its JSON report plus its peak resident memory."""
    prefix = f"bench-c{concurrency}-n{orders}"
    fresh_bucket(url, prefix)
    measure_file = workdir / f"{prefix}.measure.json"
    command = [
        sys.executable, "-m", "bench.measure", str(measure_file), "producer.py",
        "--endpoint-url", url, "--prefix", prefix, "--region", REGION,
        "--orders", str(orders), "--seed", str(SEED), "--invalid-rate", "0", "--concurrency", str(concurrency), "--json",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=ROOT, env=clean_env(), capture_output=True, text=True)
    if result.returncode != 0:
        raise click.ClickException(f"producer.py exited {result.returncode}: {result.stderr.strip()[-500:]}")
    report = json.loads(result.stdout)
    measured = json.loads(measure_file.read_text())
    return {
        "run": f"producer --concurrency {concurrency}",
        "orders": orders,
        "uploaded": report["uploaded"],
        "seconds": report["seconds"],
        "orders_per_second": report["orders_per_second"],
        "ms_per_order": round(1000 * report["seconds"] / report["uploaded"], 3),
        "peak_rss_mb": round(measured["peak_rss_mb"], 1),
    }


def start_emulator(workdir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    url = local_endpoint_url(port)
    log_path = workdir / "emulator.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            lifecycle.serve_command(port), cwd=ROOT, env=clean_env(), stdin=subprocess.DEVNULL,
            stdout=log_file, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        lifecycle.wait_until_healthy(url, process, log_path)
    except Exception:
        process.kill()
        raise
    return process, url


def parse_counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a comma-separated list of order counts") from None
    if any(count < 1 for count in counts):
        raise click.BadParameter("order counts must be at least 1")
    return counts


@click.command()
@click.option("--orders", type=click.IntRange(min=1), default=2000, show_default=True, help="Orders per throughput run.")
@click.option("--concurrency", "concurrencies", default="8,32", show_default=True, help="Producer concurrencies to compare.")
@click.option("--memory", "memory_orders", default="1000,10000", show_default=True, help="Order counts for the memory runs.")
def main(orders, concurrencies, memory_orders):
    """Producer throughput vs a sequential loop, and peak memory as the order count grows."""
    concurrencies, memory_orders = parse_counts(concurrencies), parse_counts(memory_orders)
    out = Output()
    with tempfile.TemporaryDirectory(prefix="producer-bench-") as workdir:
        emulator, url = start_emulator(Path(workdir))
        try:
            out.say(f"Emulator at {url}; {orders:,} orders per throughput run, seed {SEED}")
            baseline = sequential_upload(url, orders)
            throughput = [baseline] + [producer_run(url, orders, c, Path(workdir)) for c in concurrencies]
            memory = [producer_run(url, count, max(concurrencies), Path(workdir)) for count in memory_orders]
        finally:
            emulator.terminate()
            emulator.wait(timeout=15)
    for run in throughput:
        run["speedup"] = round(run["orders_per_second"] / baseline["orders_per_second"], 2)
    out.table(
        f"Upload throughput, {orders:,} orders, same emulator",
        ("run", "seconds", "orders/s", "vs sequential", "peak RSS MB"),
        [(r["run"], r["seconds"], r["orders_per_second"], f"{r['speedup']}x", r.get("peak_rss_mb", "-")) for r in throughput],
    )
    out.table(
        "Producer memory and cost as orders grow",
        ("orders", "seconds", "orders/s", "ms/order", "peak RSS MB"),
        [(f"{r['orders']:,}", r["seconds"], r["orders_per_second"], r["ms_per_order"], r["peak_rss_mb"]) for r in memory],
    )
    out.emit_json({"seed": SEED, "throughput": throughput, "memory": memory})


if __name__ == "__main__":
    main()
