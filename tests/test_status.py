"""The whole story at small scale with the real scripts, then status.py: snapshot, one order's journey, --verify.

One spike (invalid, poison and duplicate injections) runs once for the module; the tamper tests each
change one piece of state, check that --verify names the broken invariant, and put the state back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

import approve
import consumer
import status
from blackfriday.domain import DEFAULT_APPROVAL_THRESHOLD_CENTS, PRODUCTS, auto_review, receipt_key
from blackfriday.producer import UploadPlan
from blackfriday.status import in_lifecycle_order
from blackfriday.tables import scan_all
from tests.scripts import run_command

ROOT = Path(__file__).resolve().parent.parent
ORDERS = 120
RUN_TIMEOUT_SECONDS = 300  # a bound for a hung process, far above a normal run
CONSUMER_OPTIONS = ("--until-empty", "--json", "--no-dashboard", "--wait-seconds", "1", "--visibility-timeout", "10")


def test_orders_per_status_come_in_lifecycle_order_with_unknown_statuses_last():
    counts = Counter({"FAILED": 2, "COMPLETED": 5, "UNKNOWN": 1, "RECEIVED": 1, "PAID": 0})
    assert list(in_lifecycle_order(counts).items()) == [("RECEIVED", 1), ("COMPLETED", 5), ("FAILED", 2), ("UNKNOWN", 1)]


def script(*args):
    """status.py or consumer.py, in-process."""
    command = {"status.py": status.main, "consumer.py": consumer.main}[args[0]]
    return run_command(command, *args[1:])


def big_orders(seed: int, count: int, invalid_rate: float, poison_rate: float, duplicate_rate: float) -> set[str]:
    """The valid orders of producer.py's plan at or over the default approval threshold: those that wait for a person."""
    plan = UploadPlan(seed, invalid_rate, poison_rate, duplicate_rate)
    uploads = [plan.upload(index) for index in range(count)]
    return {
        upload.order_id
        for upload in uploads
        if upload.kind == "valid" and json.loads(upload.body)["totalCents"] >= DEFAULT_APPROVAL_THRESHOLD_CENTS
    }


REVIEWER_IDLE_SECONDS = 15  # approve.py --auto beside the consumer stops once nothing waited this long
BIG_ORDERS = big_orders(8, ORDERS, 0.05, 0.03, 0.05)


def executions_running(stack) -> int:
    sfn = stack.gateway.client("stepfunctions")
    pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=stack.info.state_machine_arn, statusFilter="RUNNING")
    return sum(len(page["executions"]) for page in pages)


@pytest.fixture(scope="module")
def story(emulator_url, deploy_own_stack):
    # GIVEN a stack with the default approval threshold, a spike with every injection uploaded (by a producer
    # process) while the consumer drains it and the demo reviewer (approve.py --auto) decides the big orders
    stack = deploy_own_stack()
    target = ["--endpoint-url", emulator_url, "--prefix", stack.names.prefix]
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "BF_"))}
    producer = subprocess.Popen(
        [sys.executable, "producer.py", *target, "--orders", str(ORDERS), "--seed", "8",
         "--invalid-rate", "0.05", "--poison-rate", "0.03", "--duplicate-rate", "0.05", "--json"],
        cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    reviewer = subprocess.Popen(
        [sys.executable, "approve.py", *target, "--auto", "--until-idle", str(REVIEWER_IDLE_SECONDS), "--json"],
        cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    drained = script("consumer.py", *target, *CONSUMER_OPTIONS)
    produced = json.loads(producer.communicate(timeout=RUN_TIMEOUT_SECONDS)[0])
    assert producer.returncode == 0 and drained.exit_code == 0, drained.stderr[-2000:]
    # the consumer may have caught up before the last upload: a second pass drains the rest
    again = script("consumer.py", *target, *CONSUMER_OPTIONS)
    assert again.exit_code == 0, again.stderr[-2000:]
    beside, reviewer_errors = reviewer.communicate(timeout=RUN_TIMEOUT_SECONDS)
    assert reviewer.returncode == 0, reviewer_errors
    # a last sweep decides what arrived after the reviewer went idle (nothing, unless this machine is slow)
    sweep = run_command(approve.main, *target, "--auto", "--json")
    assert sweep.exit_code == 0, sweep.stderr
    reviewed = [json.loads(beside), json.loads(sweep.stdout)]
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while executions_running(stack):  # the approved orders are being charged
        assert time.monotonic() < deadline, "executions still running after every approval was decided"
        time.sleep(0.5)
    # the report's sales are those COMPLETED when it is written: a last pass writes it with the approved orders in
    final = script("consumer.py", *target, *CONSUMER_OPTIONS)
    assert final.exit_code == 0, final.stderr[-2000:]
    return stack, target, produced, reviewed


@pytest.mark.emulator
def test_the_demo_reviewer_decided_every_big_order_once(story):
    stack, target, produced, reviewed = story
    # THEN every valid order at or over $1,000 was decided exactly once, by the policy, and none waits
    assert len(BIG_ORDERS) == 16
    decided = {key: sum(review[key] for review in reviewed) for key in ("approved", "rejected", "refused")}
    rejected_by_policy = {order_id for order_id in BIG_ORDERS if not auto_review(order_id)}
    rows = {row["orderId"]["S"]: row for row in stack.gateway.client("dynamodb").scan(TableName=stack.info.tables["orders"])["Items"]}
    waited = {order_id for order_id, row in rows.items() if "approvalRequestedAt" in row}
    assert waited == BIG_ORDERS - {order_id for order_id in BIG_ORDERS if rows[order_id].get("errorName", {}).get("S") == "OutOfStock"}
    assert decided == {"approved": len(waited - rejected_by_policy), "rejected": len(waited & rejected_by_policy), "refused": 0}
    assert {order_id: rows[order_id]["decidedBy"]["S"] for order_id in waited} == dict.fromkeys(waited, "auto-reviewer")
    assert {
        order_id for order_id in waited if rows[order_id]["status"]["S"] == "FAILED" and rows[order_id]["errorName"]["S"] == "Rejected"
    } == (waited & rejected_by_policy)
    status_line = script("status.py", *target)
    assert "No order waits for approval." in status_line.stdout


@pytest.mark.emulator
def test_verify_passes_after_the_story_with_every_injection(story):
    stack, target, produced, _ = story
    assert (produced["uploaded"], produced["invalid"], produced["poison"], produced["duplicates"]) == (120, 6, 3, 6)
    # WHEN the invariants are checked from the system's own state
    result = script("status.py", *target, "--verify", "--json")
    # THEN all four hold, and the exit code says so
    document = json.loads(result.stdout)
    assert result.exit_code == 0, result.stdout
    assert [(item["number"], item["holds"], item["problems"]) for item in document["invariants"]] == [
        (1, True, []),
        (2, True, []),
        (3, True, []),
        (4, True, []),
    ]


@pytest.mark.emulator
def test_snapshot_counts_every_order_once(story):
    stack, target, produced, _ = story
    result = script("status.py", *target, "--json")
    snapshot = json.loads(result.stdout)
    assert result.exit_code == 0
    readable = produced["uploaded"] - produced["poison"]
    assert sum(snapshot["orders"].values()) == readable
    assert set(snapshot["orders"]) <= {"COMPLETED", "FAILED"}
    assert snapshot["awaiting_approval"] == 0
    assert snapshot["executions"]["SUCCEEDED"] == snapshot["orders"].get("COMPLETED", 0)
    assert snapshot["executions"]["FAILED"] == snapshot["orders"].get("FAILED", 0)
    assert snapshot["executions"]["RUNNING"] == 0
    # AND the failures are counted by the reason each FAILED order recorded, the invalid uploads among them
    rows = scan_all(stack.gateway.client("dynamodb"), stack.info.tables["orders"])
    recorded = Counter(row["errorName"]["S"] for row in rows if row["status"]["S"] == "FAILED")
    assert snapshot["failed_by_reason"] == dict(recorded.most_common())
    assert sum(recorded.values()) == snapshot["orders"]["FAILED"]
    assert recorded["ValidationError"] == produced["invalid"]
    assert list(snapshot["failed_by_reason"].values()) == sorted(recorded.values(), reverse=True)  # the most common first
    # AND a person reads them with what each means
    table = script("status.py", *target).stdout
    assert "Why orders failed" in table
    assert f"│ ValidationError │ {recorded['ValidationError']}" in table
    assert snapshot["queues"]["shipping"] == {"visible": 0, "in_flight": 0, "dlq": produced["poison"]}
    assert len(snapshot["stock"]) == 6


def completed_and_failed(stack):
    dynamodb = stack.gateway.client("dynamodb")
    rows = dynamodb.scan(TableName=stack.info.tables["orders"])["Items"]
    completed = sorted(row["orderId"]["S"] for row in rows if row["status"]["S"] == "COMPLETED")
    failed = sorted(row["orderId"]["S"] for row in rows if row["status"]["S"] == "FAILED")
    return completed, failed


@pytest.mark.emulator
def test_order_journey_of_a_completed_and_of_a_failed_order(story):
    stack, target, _, _ = story
    completed, failed = completed_and_failed(stack)
    # WHEN one completed order's journey is shown
    journey = json.loads(script("status.py", *target, "--order", completed[0], "--json").stdout)
    # THEN it has its object, a succeeded execution, its COMPLETED row and its receipt
    assert journey["object"]["uploaded"] is True
    assert journey["execution"]["status"] == "SUCCEEDED"
    assert journey["row"]["status"] == "COMPLETED"
    assert journey["receipt"]["orderId"] == completed[0]
    assert journey["failure_reason"] is None
    # AND its JSON log lines from every function it ran in, in the saga's order (a big order asked for approval)
    approval = ("request_approval",) if completed[0] in BIG_ORDERS else ()
    steps = ("validate_order", "reserve_inventory", *approval, "process_payment", "generate_receipt", "send_notification")
    assert [line["logGroup"] for line in journey["log_lines"]] == [stack.names.log_group(step) for step in steps]
    assert {(line["orderId"], line["execution"]) for line in journey["log_lines"]} == {(completed[0], completed[0])}
    # AND a failed order shows the step it ended in and why
    journey = json.loads(script("status.py", *target, "--order", failed[0], "--json").stdout)
    assert journey["execution"]["status"] == "FAILED"
    assert journey["execution"]["last_step"] == "OrderFailed"
    assert journey["execution"]["error"] in ("ValidationError", "OutOfStock", "PaymentDeclined", "Rejected")
    assert journey["failure_reason"].startswith(journey["execution"]["error"] + ":")
    assert journey["receipt"] is None


@pytest.mark.emulator
def test_an_unknown_order_is_one_line_exit_1(story):
    _, target, _, _ = story
    result = script("status.py", *target, "--order", "no-such-order")
    assert (result.exit_code, result.stderr) == (1, "Error: no order no-such-order in this stack\n")


@pytest.mark.emulator
def test_verify_names_invariant_1_when_a_receipt_is_deleted(story):
    stack, target, _, _ = story
    s3 = stack.gateway.client("s3")
    order_id = completed_and_failed(stack)[0][0]
    receipt = s3.get_object(Bucket=stack.info.bucket, Key=receipt_key(order_id))["Body"].read()
    s3.delete_object(Bucket=stack.info.bucket, Key=receipt_key(order_id))
    try:
        # WHEN a receipt disappears
        result = script("status.py", *target, "--verify")
    finally:
        s3.put_object(Bucket=stack.info.bucket, Key=receipt_key(order_id), Body=receipt)
    # THEN --verify exits 1 naming the invariant and the order (and the money no longer adds up)
    assert result.exit_code == 1
    assert f"COMPLETED orders without a receipt: {order_id}" in result.stdout
    assert result.stderr.startswith("Error: invariants failing: 1 (every order ends in exactly one place), 4 (")


@pytest.mark.emulator
def test_verify_names_invariant_3_when_a_stock_count_changes(story):
    stack, target, _, _ = story
    dynamodb = stack.gateway.client("dynamodb")
    table = stack.info.tables["inventory"]
    sku = "GC-50"
    before = dynamodb.get_item(TableName=table, Key={"sku": {"S": sku}})["Item"]["stock"]["N"]
    dynamodb.update_item(
        TableName=table,
        Key={"sku": {"S": sku}},
        UpdateExpression="SET stock = stock - :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    try:
        # WHEN one unit of stock vanishes
        result = script("status.py", *target, "--verify")
    finally:
        dynamodb.update_item(
            TableName=table, Key={"sku": {"S": sku}}, UpdateExpression="SET stock = :n", ExpressionAttributeValues={":n": {"N": before}}
        )
    # THEN --verify exits 1 naming invariant 3 and the SKU
    sold = PRODUCTS[sku].initial_stock - int(before)
    assert result.exit_code == 1
    assert (
        f"{sku}: initial {PRODUCTS[sku].initial_stock} - final {int(before) - 1} = {sold + 1}, "
        f"but COMPLETED orders and orders awaiting approval hold {sold} units" in result.stdout
    )
    assert result.stderr == "Error: invariants failing: 3 (stock moves only by the units of COMPLETED orders and never goes below zero)\n"


def test_a_failed_release_is_named_by_verify_and_repaired_exactly_once(story):
    stack, target, _, _ = story
    dynamodb = stack.gateway.client("dynamodb")
    order_id, sku = completed_and_failed(stack)[1][0], "SP-YOGAMAT"
    # GIVEN a FAILED order left as a ReleaseInventory out of retries leaves it: its unit still taken, no releasedAt
    dynamodb.update_item(
        TableName=stack.info.tables["inventory"],
        Key={"sku": {"S": sku}},
        UpdateExpression="SET stock = stock - :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    dynamodb.update_item(
        TableName=stack.info.tables["orders"],
        Key={"orderId": {"S": order_id}},
        UpdateExpression="SET reservedItems = :items, releaseError = :error REMOVE releasedAt",
        ExpressionAttributeValues={":items": {"M": {sku: {"N": "1"}}}, ":error": {"S": "States.TaskFailed: forced"}},
    )
    # WHEN --verify runs THEN it names the order under invariant 3
    result = script("status.py", *target, "--verify")
    assert result.exit_code == 1
    assert f"FAILED orders still holding their reservation (release failed; status.py --repair returns it): {order_id}" in result.stdout
    # WHEN --repair runs twice THEN the first gives the unit back, the second nothing
    first = script("status.py", *target, "--repair", "--json")
    second = script("status.py", *target, "--repair", "--json")
    assert (first.exit_code, json.loads(first.stdout)) == (0, {order_id: {sku: 1}})
    assert (second.exit_code, json.loads(second.stdout)) == (0, {})
    # AND every invariant holds again
    assert script("status.py", *target, "--verify").exit_code == 0


def test_a_report_written_before_orders_completed_is_named_as_stale_with_those_orders():
    from blackfriday.order_rows import OrderRow
    from blackfriday.verify import completed_after

    # GIVEN a report written at 01:00:27 and three COMPLETED orders, two of them approved and completed later
    rows = {
        "early": OrderRow(completed_at="2026-11-26T01:00:20.000Z"),
        "approved-1": OrderRow(completed_at="2026-11-26T01:00:33.013Z"),
        "approved-2": OrderRow(completed_at="2026-11-26T01:05:00.000Z"),
    }
    # THEN exactly the two that completed after it are named (and none without a report time)
    assert completed_after(rows, set(rows), "2026-11-26T01:00:27Z") == {"approved-1", "approved-2"}
    assert completed_after(rows, set(rows), None) == set()
