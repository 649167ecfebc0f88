"""The whole story on the local emulator: set up, spike, drain, verify, summarise, tear down.

Each step runs one of the project's own scripts, exactly as a user would, so the output is what
they would see. The producer uploads in the background (its progress goes to a log) while the
consumer drains in the foreground with its live dashboard: a real spike, workers draining while
orders still arrive. Beside them the demo reviewer (approve.py --auto) decides the big orders
that wait for a person; its decisions go to a log too.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from blackfriday.clients import AwsGateway
from blackfriday.deployment.stack import describe_stack
from blackfriday.names import StackNames
from blackfriday.target import resolve_target

ROOT = Path(__file__).resolve().parent
LOGS = ROOT / ".emulator"
REVIEWER_IDLE_SECONDS = 20  # the demo reviewer stops once no order has waited for this long
RUNNING_POLL_SECONDS = 0.5
console = Console()


def step(number: int, title: str, command: list[str]) -> None:
    console.rule(f"[bold]{number}/5 {title}[/bold]  python {' '.join(command)}", align="left")


def run(command: list[str], failure: str) -> None:
    if subprocess.call([sys.executable, *command], cwd=ROOT) != 0:
        raise click.ClickException(failure)


def storefront_url(prefix: str) -> str:
    gateway = AwsGateway(resolve_target("local", None, None, prefix))
    return describe_stack(gateway, StackNames(prefix, gateway.account_id, gateway.region)).storefront_url


def wait_for_first_orders(producer: subprocess.Popen, prefix: str) -> None:
    """Start the workers once the spike has begun, so --until-empty does not find the queues empty at once."""
    gateway = AwsGateway(resolve_target("local", None, None, prefix))
    names = StackNames(prefix, gateway.account_id, gateway.region)
    sqs = gateway.client("sqs")
    url = sqs.get_queue_url(QueueName=names.shipping_queue)["QueueUrl"]
    while producer.poll() is None:
        depth = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
        if int(depth["ApproximateNumberOfMessages"]):
            return
        time.sleep(0.2)


def settle(prefix: str) -> None:
    """Wait until no execution runs: the orders approved last are still being charged."""
    gateway = AwsGateway(resolve_target("local", None, None, prefix))
    names = StackNames(prefix, gateway.account_id, gateway.region)
    running = gateway.client("stepfunctions").get_paginator("list_executions")
    while any(page["executions"] for page in running.paginate(stateMachineArn=names.state_machine_arn, statusFilter="RUNNING")):
        time.sleep(RUNNING_POLL_SECONDS)


def last_line(path: Path) -> str:
    return next((line for line in reversed(path.read_text().splitlines()) if line.strip()), "")


def last_sweep(target: list[str]) -> None:
    """Decide what came to wait after the reviewer's last look (it stopped once nothing had waited for a while)."""
    sweep = subprocess.run([sys.executable, "approve.py", *target, "--auto", "--json"], cwd=ROOT, capture_output=True, text=True)
    if sweep.returncode != 0:
        raise click.ClickException(f"the reviewer's last sweep failed: {sweep.stderr.strip()}")
    review = json.loads(sweep.stdout)
    if review["approved"] or review["rejected"]:
        console.print(f"last sweep: {review['approved']} more approved, {review['rejected']} more rejected")
    else:
        console.print("last sweep: no order was left waiting")


def spike(orders: int, prefix: str, target: list[str]) -> dict:
    """Producer in the background, consumer in the foreground until the queues are drained after the last upload,
    the demo reviewer beside them until no order waits for approval."""
    LOGS.mkdir(exist_ok=True)
    summary_path, log_path = LOGS / "demo-producer.json", LOGS / "demo-producer.log"
    reviewer_log_path = LOGS / "demo-reviewer.log"
    reviewer_command = ["approve.py", *target, "--auto", "--until-idle", str(REVIEWER_IDLE_SECONDS)]
    producer_command = [
        "producer.py",
        *target,
        "--orders",
        str(orders),
        "--invalid-rate",
        "0.02",
        "--poison-rate",
        "0.002",
        "--duplicate-rate",
        "0.01",
        "--json",
    ]
    consumer_command = ["consumer.py", *target, "--until-empty"]
    step(2, f"The spike: {orders:,} orders, drained while they arrive", consumer_command)
    console.print(f"producer: python {' '.join(producer_command)}  (in the background; progress in {log_path.relative_to(ROOT)})")
    console.print(f"reviewer: python {' '.join(reviewer_command)}  (in the background; decisions in {reviewer_log_path.relative_to(ROOT)})")
    with open(summary_path, "w") as summary, open(log_path, "w") as log, open(reviewer_log_path, "w") as reviewer_log:
        producer = subprocess.Popen([sys.executable, *producer_command], cwd=ROOT, stdout=summary, stderr=log)
        reviewer = subprocess.Popen([sys.executable, *reviewer_command], cwd=ROOT, stdout=reviewer_log, stderr=subprocess.STDOUT)
        try:
            wait_for_first_orders(producer, prefix)
            run(consumer_command, "the consumer failed")
            while producer.poll() is None:  # the workers caught up with a spike that is still arriving
                console.print("queues drained while orders are still arriving: the workers start again")
                run(consumer_command, "the consumer failed")
            console.print(f"queues drained: the reviewer decides what still waits (it stops {REVIEWER_IDLE_SECONDS} s after the last)")
            if reviewer.wait() != 0:
                raise click.ClickException(f"the reviewer failed; see {reviewer_log_path.relative_to(ROOT)}")
            console.print(f"reviewer: {last_line(reviewer_log_path)}")
            last_sweep(target)
            settle(prefix)
            console.print("every decision made: a last consumer pass writes the report with the approved orders' sales")
            run(consumer_command, "the consumer failed")
        except BaseException:
            producer.terminate()
            reviewer.terminate()
            raise
    if producer.wait() != 0:
        raise click.ClickException(f"the producer failed; see {log_path.relative_to(ROOT)}")
    return json.loads(summary_path.read_text())


def show_producer(summary: dict) -> None:
    table = Table(title="What the producer uploaded", title_justify="left")
    table.add_column("")
    table.add_column("value", justify="right")
    for label, key in (
        ("orders", "uploaded"),
        ("of which invalid", "invalid"),
        ("of which poison (not JSON)", "poison"),
        ("duplicate re-sends", "duplicates"),
        ("failed uploads", "failed"),
        ("orders/s", "orders_per_second"),
    ):
        table.add_row(label, f"{summary[key]:,}" if isinstance(summary[key], int) else str(summary[key]))
    console.print(table)


@click.command()
@click.option("--orders", type=click.IntRange(min=1), default=10000, show_default=True, help="Orders in the spike.")
@click.option("--prefix", default="bfdemo", show_default=True, help="Prefix of the demo's own stack (your default stack is left alone).")
@click.option(
    "--keep",
    is_flag=True,
    help="Leave the stack and the emulator running afterwards, to shop in the storefront and explore with status.py.",
)
def main(orders, prefix, keep):
    """Run the Black Friday pipeline end to end on the local emulator."""
    target = ["--target", "local", "--prefix", prefix]
    started = time.monotonic()
    step(1, "Set up the stack", ["setup_infra.py", *target])
    run(["setup_infra.py", *target], "setup failed")
    storefront = storefront_url(prefix)
    console.print(f"Storefront: {storefront}  (open it in a browser: its stock falls live during the spike)")
    summary = spike(orders, prefix, target)
    step(3, "Verify the four invariants", ["status.py", *target, "--verify"])
    verified = subprocess.call([sys.executable, "status.py", *target, "--verify"], cwd=ROOT) == 0
    step(4, "Summary", ["status.py", *target])
    show_producer(summary)
    run(["status.py", *target], "status failed")
    console.print(f"{orders:,} orders end to end in {time.monotonic() - started:,.0f} s (including set-up).")
    if not verified:
        raise click.ClickException(
            f"an invariant failed: the stack is kept for inspection (python status.py --prefix {prefix}); "
            f"remove it with python teardown.py --prefix {prefix}"
        )
    if keep:
        console.print(
            f"Stack kept: shop at {storefront}, explore with python status.py --prefix {prefix}; "
            f"remove with python teardown.py --prefix {prefix}"
        )
        return
    step(5, "Tear down", ["teardown.py", *target, "--yes"])
    run(["teardown.py", *target, "--yes"], "teardown failed")


if __name__ == "__main__":
    main()
