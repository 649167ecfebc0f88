"""The pipeline benchmark: the real scripts end to end on the local emulator, its modes side by side in one run.

    python -m bench.pipeline_bench                                  # 2,000 orders: grouped, single, grouped on one core
    python -m bench.pipeline_bench --orders 500 --modes grouped,single
    python -m bench.pipeline_bench --modes grouped --scale 1000,10000   # per-order time as the run grows
    python -m bench.pipeline_bench --compare-orders 100               # also the naive seed-style baseline

Modes, each on a fresh emulator: `grouped` (a process per group of services, the default), `single`
(`--processes 1`, every service in one process), `one-core` (grouped, but the emulator, its Lambda
workers, the producer and the consumer all pinned to CPU 0 with `taskset`). For each run: setup_infra,
then producer and consumer started together (workers drain while orders arrive), status.py --verify,
teardown. It reports orders/s end to end, p50/p95 order latency (upload -> execution end), CPU
milliseconds per order for each kind of process (each emulator process, the Lambda workers, the
consumer, the producer), peak memory, and the machine's load average during the run; it draws
orders finished over time and the shipping queue's depth, modes side by side, into a PNG.
JSON goes to bench/results/, the chart to bench/results/pipeline.png (--chart to choose).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from blackfriday.clients import AwsGateway
from blackfriday.emulator import lifecycle
from blackfriday.emulator.groups import GROUPED, SINGLE
from blackfriday.names import StackNames
from blackfriday.target import ENDPOINT, Target

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SEED = 2026
REGION = "us-east-1"
MODES = {"grouped": (GROUPED, False), "single": (SINGLE, False), "one-core": (GROUPED, True)}  # (processes, pinned)
PIN_TO_ONE_CORE = ["taskset", "-c", "0"]
SAMPLE_SECONDS = 1.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def clean_env() -> dict:
    return {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "BF_"))}


def run_json(*command: str, pin: list[str] = ()) -> dict:
    """Run a script with --json and return its document; fail loudly with its stderr otherwise."""
    result = subprocess.run([*pin, sys.executable, *command], cwd=ROOT, env=clean_env(), capture_output=True, text=True)
    if result.returncode not in (0,) and not result.stdout.strip():
        raise click.ClickException(f"{' '.join(command)} exited {result.returncode}: {result.stderr.strip()[-500:]}")
    document = json.loads(result.stdout)
    document["_exit_code"] = result.returncode
    return document


def measured(script_and_args: list[str], workdir: Path, name: str, pin: list[str] = ()) -> tuple[subprocess.Popen, Path]:
    """Start a process under bench/measure.py; its peak memory and CPU land in workdir/<name>.measure.json."""
    measure_file = workdir / f"{name}.measure.json"
    # The child holds its own copies of the two files: ours close when it has started.
    with open(workdir / f"{name}.out", "w") as stdout, open(workdir / f"{name}.err", "w") as stderr:
        process = subprocess.Popen(
            [*pin, sys.executable, "-m", "bench.measure", str(measure_file), *script_and_args],
            cwd=ROOT,
            env=clean_env(),
            stdout=stdout,
            stderr=stderr,
        )
    return process, measure_file


# --- CPU of the emulator's processes, read from /proc -------------------------------------------------------


def proc_stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(the process's own CPU, CPU of its children it has reaped) in seconds; (0, 0) once it is gone."""
    try:
        fields = proc_stat(pid)
    except OSError:
        return 0.0, 0.0
    # fields[0] is the state (field 3 of proc(5)): utime, stime, cutime, cstime are fields 14-17
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS, (int(fields[13]) + int(fields[14])) / CLOCK_TICKS


def children_of(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(proc_stat(int(entry.name))[1]) == pid:
                    children.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return children


def descendants_cpu(pid: int) -> float:
    """CPU seconds of every live descendant of the process and of what they have reaped (workers forked from a
    Lambda template are the template's children)."""
    total = 0.0
    for child in children_of(pid):
        total += sum(cpu_seconds(child)) + descendants_cpu(child)
    return total


def emulator_cpu(processes: list[lifecycle.EmulatorProcess]) -> dict[str, float]:
    """CPU seconds so far of each emulator process by group, and of the Lambda workers and templates (live and reaped)."""
    usage = {}
    workers = 0.0
    for process in processes:
        own, reaped = cpu_seconds(process.pid)
        usage[f"emulator {process.group}"] = own
        if process.group in ("workflow", "all"):  # the Lambda runtime's process: its descendants are the templates and workers
            workers += reaped + descendants_cpu(process.pid)
    usage["lambda workers"] = workers
    return usage


# --- One run ---------------------------------------------------------------------------------------------------


def latencies_and_finish_times(url: str, prefix: str, started_at: float) -> tuple[list[float], list[float]]:
    """(upload -> execution end in ms for every finished execution, seconds since the start at which each finished)."""
    gateway = AwsGateway(Target(ENDPOINT, REGION, prefix, url))
    names = StackNames(prefix, gateway.account_id, REGION)
    s3, stepfunctions = gateway.client("s3"), gateway.client("stepfunctions")
    uploaded = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=names.bucket, Prefix="orders/"):
        for item in page.get("Contents", []):
            uploaded[item["Key"].rsplit("/", 1)[-1][: -len(".json")]] = item["LastModified"]
    latencies, finished = [], []
    for page in stepfunctions.get_paginator("list_executions").paginate(stateMachineArn=names.state_machine_arn):
        for execution in page["executions"]:
            if execution.get("stopDate") and execution["name"] in uploaded:
                latencies.append((execution["stopDate"] - uploaded[execution["name"]]).total_seconds() * 1000)
                finished.append(execution["stopDate"].timestamp() - started_at)
    return latencies, sorted(finished)


class QueueSampler:
    """Every second: the shipping queue's depth (visible + in flight) and the 1-minute load average."""

    def __init__(self, url: str, prefix: str, started: float):
        gateway = AwsGateway(Target(ENDPOINT, REGION, prefix, url))
        self.sqs = gateway.client("sqs")
        self.queue_url = self.sqs.get_queue_url(QueueName=StackNames(prefix, gateway.account_id, REGION).shipping_queue)["QueueUrl"]
        self.started = started
        self.samples: list[tuple[float, int, float]] = []  # (seconds since start, depth, load average)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stopping.wait(SAMPLE_SECONDS):
            attributes = self.sqs.get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
            )["Attributes"]
            depth = int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])
            self.samples.append((round(time.monotonic() - self.started, 2), depth, os.getloadavg()[0]))

    def __enter__(self) -> QueueSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.thread.join()


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def run_once(emulator: Emulator, kind: str, orders: int, workdir: Path) -> dict:
    url, pin = emulator.url, emulator.pin
    prefix = f"{'base' if kind == 'baseline' else 'bench'}{orders}"
    target_args = ["--endpoint-url", url, "--prefix", prefix]
    run_json("setup_infra.py", *target_args, "--json", pin=pin)
    if kind == "baseline":
        consumer_args = ["bench/baseline.py", "consume", *target_args, "--orders", str(orders)]
        producer_args = ["bench/baseline.py", "produce", *target_args, "--orders", str(orders), "--seed", str(SEED)]
    else:
        consumer_args = ["consumer.py", *target_args, "--until-empty", "--no-dashboard", "--json"]
        producer_args = ["producer.py", *target_args, "--orders", str(orders), "--seed", str(SEED), "--invalid-rate", "0", "--json"]
    if kind == "api":
        # the same spike through the front door: POST /orders, each request timed (bench/api_path.py)
        producer_args = ["bench/api_path.py", *target_args, "--orders", str(orders), "--seed", str(SEED), "--invalid-rate", "0"]
    cpu_before = emulator_cpu(emulator.processes)
    started, started_at = time.monotonic(), time.time()
    with QueueSampler(url, prefix, started) as sampler:
        consumer, consumer_measure = measured(consumer_args, workdir, f"{emulator.mode}-{prefix}-consumer", pin)
        producer, producer_measure = measured(producer_args, workdir, f"{emulator.mode}-{prefix}-producer", pin)
        producer.wait()
        consumer.wait()
        seconds = time.monotonic() - started
    cpu_after = emulator_cpu(emulator.processes)
    producer_stats = json.loads(producer_measure.read_text())
    requests = json.loads(producer_measure.with_suffix("").with_suffix(".out").read_text()) if kind == "api" else None
    consumer_stats = json.loads(consumer_measure.read_text())
    if producer_stats["exit_code"] or consumer_stats["exit_code"]:
        raise click.ClickException(f"{kind} run at {orders} orders failed; see {workdir}")
    # The baseline has no analytics workers, so only the pipeline's runs can be held to invariant 4.
    verify = run_json("status.py", *target_args, "--verify", "--json") if kind != "baseline" else None
    latency, finished = latencies_and_finish_times(url, prefix, started_at)
    run_json("teardown.py", *target_args, "--keep-emulator", "--yes", "--json")
    cpu = {name: cpu_after[name] - cpu_before.get(name, 0.0) for name in cpu_after}
    cpu["consumer"], cpu["producer"] = consumer_stats["cpu_seconds"], producer_stats["cpu_seconds"]
    loads = [load for _, _, load in sampler.samples]
    return {
        "mode": emulator.mode,
        "kind": kind,
        "orders": orders,
        "seconds": round(seconds, 2),
        "orders_per_second": round(orders / seconds, 1),
        "ms_per_order": round(1000 * seconds / orders, 2),
        "producer_uploads_per_second": round(orders / producer_stats["seconds"], 1),
        "request_p50_ms": requests["p50_ms"] if requests else None,  # the API path's POST /orders, retries included
        "request_p95_ms": requests["p95_ms"] if requests else None,
        "latency_p50_ms": round(percentile(latency, 0.50)),
        "latency_p95_ms": round(percentile(latency, 0.95)),
        "cpu_ms_per_order": {name: round(1000 * value / orders, 1) for name, value in cpu.items()},
        "cpu_ms_per_order_total": round(1000 * sum(cpu.values()) / orders, 1),
        "load_average_mean": round(sum(loads) / len(loads), 2) if loads else None,
        "load_average_max": round(max(loads), 2) if loads else None,
        "producer_peak_rss_mb": round(producer_stats["peak_rss_mb"], 1),
        "consumer_peak_rss_mb": round(consumer_stats["peak_rss_mb"], 1),
        "invariants_hold": verify["holds"] if verify else None,
        "finished_at_seconds": [round(value, 2) for value in finished],
        "queue_samples": sampler.samples,
    }


class Emulator:
    """A fresh emulator on a free port in one mode (pinned to CPU 0 for `one-core`), stopped on exit."""

    def __init__(self, mode: str, workdir: Path):
        processes, pinned = MODES[mode]
        self.mode = mode
        self.pin = PIN_TO_ONE_CORE if pinned else []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"emulator-{mode}.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [*self.pin, *lifecycle.serve_command(self.port, processes)], cwd=ROOT, env=clean_env(), stdout=log, stderr=subprocess.STDOUT
            )
        self.processes: list[lifecycle.EmulatorProcess] = []

    def __enter__(self) -> Emulator:
        lifecycle.wait_until_healthy(self.url, self.process, self.log_path)
        self.processes = list(lifecycle.status(self.port).processes)
        return self

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


# --- Report ----------------------------------------------------------------------------------------------------


def draw_chart(runs: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (finished_axes, queue_axes) = plt.subplots(1, 2, figsize=(12, 4.5))
    for run in runs:
        label = f"{run['mode']} ({run['orders_per_second']} orders/s, load average {run['load_average_mean']})"
        finished = run["finished_at_seconds"]
        finished_axes.plot(finished, range(1, len(finished) + 1), label=label)
        queue_axes.plot([sample[0] for sample in run["queue_samples"]], [sample[1] for sample in run["queue_samples"]], label=run["mode"])
    finished_axes.set(title=f"Orders finished ({runs[0]['orders']:,} orders)", xlabel="seconds since the start", ylabel="orders finished")
    queue_axes.set(title="Shipping queue depth (visible + in flight)", xlabel="seconds since the start", ylabel="messages")
    for axes in (finished_axes, queue_axes):
        axes.grid(alpha=0.3)
        axes.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)


def summarize(runs: list[dict], scales: list[int]) -> dict:
    by_mode = {}
    for run in runs:
        if run["kind"] == "pipeline":
            by_mode.setdefault(run["mode"], run)
    summary: dict = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}
    if "grouped" in by_mode and "single" in by_mode:
        summary["grouped_vs_single"] = round(by_mode["grouped"]["orders_per_second"] / by_mode["single"]["orders_per_second"], 2)
    if "grouped" in by_mode and "one-core" in by_mode:
        summary["two_cores_vs_one_core"] = round(by_mode["grouped"]["orders_per_second"] / by_mode["one-core"]["orders_per_second"], 2)
    scaled = {run["orders"]: run for run in runs if run["kind"] == "pipeline" and run["mode"] == "grouped" and run["orders"] in scales}
    if len(scaled) >= 2:
        smallest, largest = min(scaled), max(scaled)
        summary["per_order_time_ratio"] = round(scaled[largest]["ms_per_order"] / scaled[smallest]["ms_per_order"], 2)
        summary["consumer_memory_ratio"] = round(scaled[largest]["consumer_peak_rss_mb"] / scaled[smallest]["consumer_peak_rss_mb"], 2)
        summary["scales"] = [smallest, largest]
    baseline = next((run for run in runs if run["kind"] == "baseline"), None)
    if baseline is not None:
        same = next(run for run in runs if run["kind"] == "pipeline" and run["orders"] == baseline["orders"])
        summary["speedup_vs_baseline"] = round(same["orders_per_second"] / baseline["orders_per_second"], 1)
    return summary


def print_tables(runs: list[dict], summary: dict) -> None:
    wide = Console(width=200)
    table = Table(title="Pipeline benchmark (local emulator)")
    for column in (
        "mode",
        "run",
        "orders",
        "seconds",
        "orders/s",
        "p50 ms",
        "p95 ms",
        "POST p50/p95 ms",
        "CPU ms/order",
        "load avg",
        "consumer MB",
        "invariants",
    ):
        table.add_column(column)
    for run in runs:
        table.add_row(
            run["mode"],
            run["kind"],
            str(run["orders"]),
            str(run["seconds"]),
            str(run["orders_per_second"]),
            str(run["latency_p50_ms"]),
            str(run["latency_p95_ms"]),
            f"{run['request_p50_ms']} / {run['request_p95_ms']}" if run["request_p50_ms"] is not None else "",
            str(run["cpu_ms_per_order_total"]),
            f"{run['load_average_mean']} (max {run['load_average_max']})",
            str(run["consumer_peak_rss_mb"]),
            {True: "hold", False: "FAIL", None: "n/a"}[run["invariants_hold"]],
        )
    wide.print(table)
    cpu = Table(title="CPU ms per order, by kind of process")
    kinds = sorted({kind for run in runs for kind in run["cpu_ms_per_order"]})
    for column in ("mode", "run", "orders", *kinds):
        cpu.add_column(column)
    for run in runs:
        cpu.add_row(run["mode"], run["kind"], str(run["orders"]), *(str(run["cpu_ms_per_order"].get(kind, "")) for kind in kinds))
    wide.print(cpu)
    wide.print(summary)


@click.command()
@click.option("--orders", type=click.IntRange(min=1), default=2000, show_default=True, help="Orders per run of each mode.")
@click.option(
    "--api-path/--no-api-path",
    default=True,
    show_default=True,
    help="Also run the spike through the order API (producer --via api) on the grouped emulator.",
)
@click.option("--modes", default="grouped,single,one-core", show_default=True, help="Emulator modes, run one after the other.")
@click.option("--scale", default="", help="Also run the grouped mode at these order counts (e.g. 1000,10000).")
@click.option(
    "--compare-orders",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Orders for the naive baseline vs the pipeline (0: skip).",
)
@click.option("--chart", type=click.Path(dir_okay=False, path_type=Path), default=RESULTS / "pipeline.png", show_default=True)
def main(orders, modes, scale, compare_orders, chart, api_path):
    """Benchmark the pipeline on the emulator's modes side by side, and across scales."""
    modes = [mode for mode in modes.split(",") if mode]
    unknown = [mode for mode in modes if mode not in MODES]
    if unknown:
        raise click.BadParameter(f"unknown mode(s) {', '.join(unknown)}: use {', '.join(MODES)}", param_hint="--modes")
    if "one-core" in modes and shutil.which("taskset") is None:
        raise click.UsageError("the one-core mode needs taskset (util-linux)")
    scales = [int(value) for value in scale.split(",") if value]
    workdir = Path(tempfile.mkdtemp(prefix="bf-bench-"))
    console = Console(stderr=True)
    plan = [(mode, "pipeline", orders) for mode in modes]
    if api_path:
        plan.append(("grouped", "api", orders))
    plan += [("grouped", "pipeline", count) for count in scales if count != orders or "grouped" not in modes]
    if compare_orders:
        plan += [("grouped", "baseline", compare_orders), ("grouped", "pipeline", compare_orders)]
    runs = []
    for mode, kind, count in plan:
        console.print(f"running {kind} at {count} orders on the {mode} emulator (load average {os.getloadavg()[0]:.2f})…")
        with Emulator(mode, workdir) as emulator:
            runs.append(run_once(emulator, kind, count, workdir))
        console.print({key: value for key, value in runs[-1].items() if key not in ("finished_at_seconds", "queue_samples")})
    summary = summarize(runs, scales)
    document = {"runs": runs, "summary": summary, "workdir": str(workdir)}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "pipeline.json").write_text(json.dumps(document, indent=2))
    draw_chart([run for run in runs if run["kind"] == "pipeline" and run["orders"] == orders], chart)
    print_tables(runs, summary)
    console.print(f"chart: {chart}; JSON: {RESULTS / 'pipeline.json'}")


if __name__ == "__main__":
    main()
