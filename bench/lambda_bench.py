"""Lambda cold starts on the emulator: this checkout against a baseline checkout, side by side, same workload.

    git worktree add /tmp/baseline <commit>
    python -m bench.lambda_bench --baseline-tree /tmp/baseline            # 24 functions, 3 rounds each
    python -m bench.lambda_bench --baseline-tree /tmp/baseline --functions 40 --rounds 5

Each round starts a fresh single-process emulator from each tree in turn (`python -m blackfriday.emulator
serve` with that tree as its working directory), deploys --functions functions from one zip (a handler that
imports boto3 and makes a DynamoDB client at import, as the pipeline's do), then invokes every function once,
all at the same time: every invoke is a cold start. Measured: the seconds until the last answer, and the CPU
of the Lambda processes (everything the emulator process started, live and reaped) per cold start. Prints a
table, then one JSON document with the ratios (this tree / baseline); it also goes to bench/results/.
"""

from __future__ import annotations

import io
import json
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import click

from bench.emulator_bench import HANDLER, PREFIX, REGION, parallel, stock_table_and_role
from bench.pipeline_bench import RESULTS, ROOT, clean_env, cpu_seconds, descendants_cpu, free_port
from blackfriday.clients import AwsGateway
from blackfriday.emulator import lifecycle
from blackfriday.target import ENDPOINT, Target, local_endpoint_url
from blackfriday.ui import Output


def one_zip() -> bytes:
    """The same bytes for every function, so they share one code hash, as the stacks' functions do across prefixes."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr(zipfile.ZipInfo("app.py", date_time=(1980, 1, 1, 0, 0, 0)), HANDLER)
    return archive.getvalue()


def cold_start_round(tree: Path, functions: int, workdir: Path) -> dict:
    port = free_port()
    url = local_endpoint_url(port)
    log_path = workdir / f"emulator-{tree.name}-{port}.log"
    command = [sys.executable, "-m", "blackfriday.emulator", "serve", "--port", str(port), "--processes", "1"]
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(command, cwd=tree, env=clean_env(), stdout=log_file, stderr=subprocess.STDOUT)
    try:
        lifecycle.wait_until_healthy(url, process, log_path)
        gateway = AwsGateway(Target(ENDPOINT, REGION, PREFIX, url))
        table, role_arn = stock_table_and_role(gateway)
        lambda_client = gateway.client("lambda")
        code = one_zip()
        names = [f"{PREFIX}-cold-{index}" for index in range(functions)]
        for name in names:
            lambda_client.create_function(
                FunctionName=name, Runtime="python3.13", Role=role_arn, Handler="app.handler",
                Code={"ZipFile": code}, Environment={"Variables": {"TABLE": table}},
            )  # fmt: skip
        cpu_before = sum(cpu_seconds(process.pid)[1:]) + descendants_cpu(process.pid)

        def invoke(index: int) -> None:
            response = lambda_client.invoke(FunctionName=names[index], Payload=json.dumps({"orderId": f"o-{index}"}))
            if "FunctionError" in response:
                raise RuntimeError(response["Payload"].read().decode())

        seconds = parallel(functions, functions, invoke)
        lambda_cpu = sum(cpu_seconds(process.pid)[1:]) + descendants_cpu(process.pid) - cpu_before
        return {"seconds": round(seconds, 2), "cpu_ms_per_cold_start": round(lambda_cpu * 1000 / functions, 1)}
    finally:
        process.terminate()
        process.wait(timeout=30)


@click.command()
@click.option(
    "--baseline-tree", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path), help="A checkout to compare with."
)
@click.option("--functions", default=24, show_default=True, type=click.IntRange(1, 64), help="Functions (cold starts) per round.")
@click.option("--rounds", default=3, show_default=True, type=click.IntRange(1), help="Rounds per tree, alternating.")
def main(baseline_tree, functions, rounds):
    """Cold-start time and CPU of the emulator's Lambdas, this checkout against a baseline checkout."""
    trees = {"baseline": baseline_tree.resolve(), "this tree": ROOT}
    runs: dict[str, list[dict]] = {label: [] for label in trees}
    with tempfile.TemporaryDirectory(prefix="lambda-bench-") as workdir:
        for _ in range(rounds):
            for label, tree in trees.items():
                runs[label].append(cold_start_round(tree, functions, Path(workdir)))
    medians = {
        label: {key: statistics.median(run[key] for run in results) for key in ("seconds", "cpu_ms_per_cold_start")}
        for label, results in runs.items()
    }
    ratio = {key: round(medians["this tree"][key] / medians["baseline"][key], 2) for key in ("seconds", "cpu_ms_per_cold_start")}
    document = {
        "functions": functions,
        "rounds": rounds,
        "baseline_tree": str(trees["baseline"]),
        "runs": runs,
        "medians": medians,
        "ratio_this_to_baseline": ratio,
    }
    out = Output()
    rows = [(label, str(medians[label]["seconds"]), str(medians[label]["cpu_ms_per_cold_start"])) for label in trees]
    rows.append(("ratio", str(ratio["seconds"]), str(ratio["cpu_ms_per_cold_start"])))
    out.table(
        f"{functions} cold starts at once (median of {rounds} rounds)",
        ("tree", "seconds to the last answer", "Lambda CPU ms per cold start"),
        rows,
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "lambda_bench.json").write_text(json.dumps(document, indent=2))
    out.emit_json(document)


if __name__ == "__main__":
    main()
