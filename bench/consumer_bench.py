"""The consumer's benchmark: its peak memory (and pace) as the backlog grows from 1,000 to 10,000 orders.

    python -m bench.consumer_bench                                  # both pools, 1,000 then 10,000 orders
    python -m bench.consumer_bench --orders 500,5000 --queues analytics

One fresh emulator serves every run, each run on its own stack (deployed with setup_infra's code).
producer.py first uploads the whole backlog, then consumer.py --until-empty drains it in its own
process under bench/measure.py, which records the consumer's peak resident memory. The consumer
keeps no per-order state (a bounded latency sample, executions bounded by --max-inflight), so its
memory should stay flat while the order count grows tenfold. `--queues analytics` leaves the
workflow out, which makes a 10,000-order run minutes instead of most of an hour on the emulator.
Each run ends with the four invariants checked (blackfriday.verify). Prints a table, then one JSON
document, also written to bench/results/consumer_bench.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import click

from bench.pipeline_bench import clean_env
from bench.producer_bench import parse_counts, start_emulator
from blackfriday.clients import AwsGateway
from blackfriday.deployment.deploy import deploy
from blackfriday.deployment.stack import describe_stack
from blackfriday.names import StackNames
from blackfriday.target import ENDPOINT, Target
from blackfriday.ui import Output
from blackfriday.verify import verify

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "consumer_bench.json"
SEED = 2026
REGION = "us-east-1"
STOP_SECONDS = 30


def run_script(command: list[str]) -> dict:
    result = subprocess.run([sys.executable, *command], cwd=ROOT, env=clean_env(), capture_output=True, text=True)
    if result.returncode != 0:
        raise click.ClickException(f"{command[0]} exited {result.returncode}: {result.stderr.strip()[-800:]}")
    return json.loads(result.stdout)


def consumer_run(url: str, orders: int, queues: str, workers: int, workdir: Path) -> dict:
    prefix = "cb" + uuid.uuid4().hex[:10]
    gateway = AwsGateway(Target(ENDPOINT, REGION, prefix, url))
    names = StackNames(prefix, gateway.account_id, REGION)
    deploy(gateway, names)
    target = ["--endpoint-url", url, "--prefix", prefix, "--region", REGION]
    run_script(["producer.py", *target, "--orders", str(orders), "--seed", str(SEED), "--json"])
    measure_file = workdir / f"{prefix}.measure.json"
    summary = run_script(
        ["-m", "bench.measure", str(measure_file), "consumer.py", *target,
         "--queues", queues, "--workers", str(workers), "--until-empty", "--no-dashboard", "--wait-seconds", "1", "--json"]
    )  # fmt: skip
    measured = json.loads(measure_file.read_text())
    checked = [
        invariant for invariant in verify(gateway, names, describe_stack(gateway, names)) if "shipping" in queues or invariant.number == 4
    ]
    handled = (
        summary["shipping"]["started"] if "shipping" in queues else summary["analytics"]["aggregated"] + summary["analytics"]["rejected"]
    )
    return {
        "orders": orders,
        "queues": queues,
        "seconds": summary["seconds"],
        "orders_per_second": round(handled / summary["seconds"], 1),
        "ms_per_order": round(1000 * summary["seconds"] / handled, 2),
        "latency_p50_s": summary["latency"]["p50Seconds"],
        "latency_p95_s": summary["latency"]["p95Seconds"],
        "peak_rss_mb": round(measured["peak_rss_mb"], 1),
        "shipping": summary["shipping"],
        "analytics": summary["analytics"],
        "executions": summary["executions"],
        # Analytics only: the workflow never ran, so only the analytics report can be checked.
        "invariants_hold": all(invariant.holds for invariant in checked),
        "problems": [problem for invariant in checked for problem in invariant.problems][:5],
    }


def stop_emulator(emulator: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if it has not exited: after a long run its shutdown can outlast any patience."""
    emulator.terminate()
    try:
        emulator.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        emulator.kill()
        emulator.wait()


@click.command()
@click.option("--orders", "order_counts", default="1000,10000", show_default=True, help="Backlog sizes, comma-separated.")
@click.option(
    "--queues",
    type=click.Choice(["shipping,analytics", "analytics"]),
    default="shipping,analytics",
    show_default=True,
    help="Pools to run.",
)
@click.option("--workers", type=click.IntRange(min=1), default=4, show_default=True, help="Workers per pool.")
def main(order_counts, queues, workers):
    counts = parse_counts(order_counts)
    out = Output()
    with tempfile.TemporaryDirectory(prefix="consumer-bench-") as directory:
        workdir = Path(directory)
        emulator, url = start_emulator(workdir)
        try:
            runs = []
            for orders in counts:
                runs.append(consumer_run(url, orders, queues, workers, workdir))
                out.say(
                    f"{orders} orders: {runs[-1]['seconds']}s, consumer peak RSS {runs[-1]['peak_rss_mb']} MB, "
                    f"invariants {'hold' if runs[-1]['invariants_hold'] else 'FAIL'}"
                )
        finally:
            stop_emulator(emulator)
    smallest, largest = runs[0], runs[-1]
    document = {
        "runs": runs,
        "memory_ratio": round(largest["peak_rss_mb"] / smallest["peak_rss_mb"], 2),
        "per_order_time_ratio": round(largest["ms_per_order"] / smallest["ms_per_order"], 2),
    }
    out.table(
        f"consumer.py --queues {queues} draining a backlog",
        ("orders", "seconds", "orders/s", "ms/order", "p50 s", "p95 s", "peak RSS MB", "invariants"),
        [
            (
                run["orders"],
                run["seconds"],
                run["orders_per_second"],
                run["ms_per_order"],
                run["latency_p50_s"],
                run["latency_p95_s"],
                run["peak_rss_mb"],
                "hold" if run["invariants_hold"] else "FAIL",
            )
            for run in runs
        ],
    )
    out.say(f"peak RSS ratio {largest['orders']}/{smallest['orders']} orders: {document['memory_ratio']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    out.emit_json(document)


if __name__ == "__main__":
    main()
