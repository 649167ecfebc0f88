"""The deployed workflow on the real emulator: Lambdas run from their zips, Step Functions executes the ASL.

One stack and ONE batch of executions for the module keeps this fast: every scenario runs at the same
time, each on SKUs no other scenario touches, so each test can assert exact stock, records and messages:

- a valid order (HM-LAMP x2), approved by the gateway;
- an invalid order (zero quantity of KT-BLENDER);
- a declined payment (TY-DRONE x1);
- a payment that times out once, then succeeds on retry (HP-SPEAKER x1);
- 20 concurrent orders for the last DB-TV-65 (stock set to 1 directly in DynamoDB).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from blackfriday.domain import PRODUCTS, OrderGenerator, make_invalid, order_key, payment_id, payment_outcome, receipt_key
from blackfriday.functions import FUNCTION_SPECS
from blackfriday.observability import SERVICE_NAME, order_log_lines

pytestmark = pytest.mark.emulator

SCARCE_SKU = "DB-TV-65"
CONTENDERS = 20
EXECUTIONS_DEADLINE_SECONDS = 180  # a hang fails the test instead of blocking the suite; not a timing assertion
LAMBDA_ENVIRONMENT_ERRORS = {"Lambda.Unknown", "Runtime.ExitError", "Sandbox.Timedout"}  # retried by every Task


def order_for(tag: str, outcome: str, items: list[tuple[str, int]]) -> dict:
    """A valid order whose id (searched from `tag`) gets `outcome` from the simulated gateway."""
    order = OrderGenerator(seed=11).order(0)
    order["orderId"] = next(f"{tag}-{n}" for n in range(10_000) if payment_outcome(f"{tag}-{n}") == outcome)
    order["items"] = [{"sku": sku, "quantity": count, "unitPriceCents": PRODUCTS[sku].price_cents} for sku, count in items]
    order["totalCents"] = sum(count * PRODUCTS[sku].price_cents for sku, count in items)
    return order


@dataclass
class Run:
    """Everything the batch left behind, read once."""

    orders: dict[str, dict]  # scenario -> order (contenders: "contender-<i>")
    executions: dict[str, dict]  # orderId -> DescribeExecution
    stock_before: dict[str, int]
    stock_after: dict[str, int]
    records: dict[str, dict]  # orderId -> Orders item
    notifications: dict[str, list[dict]]  # orderId -> SNS envelopes on the notifications queue
    stack: object  # the DeployedStack: gateway, names, info

    def execution(self, scenario: str) -> dict:
        return self.executions[self.orders[scenario]["orderId"]]

    def record(self, scenario: str) -> dict:
        return self.records[self.orders[scenario]["orderId"]]

    def messages(self, scenario: str) -> list[tuple[str, dict]]:
        """(topic, message) pairs the notifications queue got for this scenario's order."""
        envelopes = self.notifications.get(self.orders[scenario]["orderId"], [])
        return [(envelope["TopicArn"], json.loads(envelope["Message"])) for envelope in envelopes]


def stock_levels(dynamodb, table: str) -> dict[str, int]:
    pages = dynamodb.get_paginator("scan").paginate(TableName=table, ProjectionExpression="sku, stock")
    return {item["sku"]["S"]: int(item["stock"]["N"]) for page in pages for item in page["Items"]}


def start(stepfunctions, state_machine_arn: str, bucket: str, order: dict) -> str:
    # The fulfillment worker's input: the order plus where it was read from; the execution is named after the order.
    execution_input = {"order": order, "source": {"bucket": bucket, "key": order_key(order["orderId"])}}
    return stepfunctions.start_execution(stateMachineArn=state_machine_arn, name=order["orderId"], input=json.dumps(execution_input))[
        "executionArn"
    ]


def wait_for(stepfunctions, state_machine_arn: str, execution_arns: list[str]) -> dict[str, dict]:
    """Every execution's DescribeExecution once none runs any more, by execution name."""
    deadline = time.monotonic() + EXECUTIONS_DEADLINE_SECONDS
    running = stepfunctions.get_paginator("list_executions")
    while any(page["executions"] for page in running.paginate(stateMachineArn=state_machine_arn, statusFilter="RUNNING")):
        assert time.monotonic() < deadline, "executions still running"
        time.sleep(0.5)
    described = [stepfunctions.describe_execution(executionArn=arn) for arn in execution_arns]
    return {execution["name"]: execution for execution in described}


def drain(sqs, queue_url: str, expected: int) -> dict[str, list[dict]]:
    """SNS envelopes by their orderId attribute; reads until `expected` arrived and the queue is empty."""
    by_order: dict[str, list[dict]] = {}
    received = 0
    deadline = time.monotonic() + EXECUTIONS_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        wait_seconds = 1 if received >= expected else 0  # once all arrived, one last wait proves nothing more comes
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds).get("Messages", [])
        if not messages and received >= expected:
            break
        for message in messages:
            envelope = json.loads(message["Body"])
            by_order.setdefault(envelope["MessageAttributes"]["orderId"]["Value"], []).append(envelope)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            received += 1
    return by_order


@pytest.fixture(scope="module")
def run(workflow_stack) -> Run:
    gateway, info = workflow_stack.gateway, workflow_stack.info
    dynamodb, stepfunctions = gateway.client("dynamodb"), gateway.client("stepfunctions")
    inventory, orders_table = info.tables["inventory"], info.tables["orders"]
    # GIVEN one unit of the doorbuster left, and an order per scenario
    dynamodb.update_item(
        TableName=inventory,
        Key={"sku": {"S": SCARCE_SKU}},
        UpdateExpression="SET stock = :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    orders = {
        "valid": order_for("valid", "approved", [("HM-LAMP", 2)]),
        "invalid": make_invalid(order_for("invalid", "approved", [("KT-BLENDER", 1)]), "zero_quantity"),
        "declined": order_for("declined", "declined", [("TY-DRONE", 1)]),
        "flaky": order_for("flaky", "flaky", [("HP-SPEAKER", 1)]),
        **{f"contender-{i}": order_for(f"contender{i}", "approved", [(SCARCE_SKU, 1)]) for i in range(CONTENDERS)},
    }
    stock_before = stock_levels(dynamodb, inventory)
    # WHEN every order's execution starts at once, as concurrent fulfillment workers would start them
    with ThreadPoolExecutor(max_workers=len(orders)) as pool:
        arns = list(pool.map(lambda order: start(stepfunctions, info.state_machine_arn, info.bucket, order), orders.values()))
    executions = wait_for(stepfunctions, info.state_machine_arn, arns)
    records = {
        order["orderId"]: dynamodb.get_item(TableName=orders_table, Key={"orderId": {"S": order["orderId"]}}, ConsistentRead=True).get(
            "Item", {}
        )
        for order in orders.values()
    }
    # Each order tells the notifications queue exactly once: a confirmation or a failure.
    notifications = drain(gateway.client("sqs"), info.notifications.url, expected=len(orders))
    return Run(orders, executions, stock_before, stock_levels(dynamodb, inventory), records, notifications, workflow_stack)


def test_a_valid_order_completes_with_receipt_confirmation_and_stock_taken(run):
    order = run.orders["valid"]
    order_id = order["orderId"]
    # THEN the execution succeeded and the order is COMPLETED with one charge
    assert run.execution("valid")["status"] == "SUCCEEDED"
    record = run.record("valid")
    assert record["status"] == {"S": "COMPLETED"}
    assert (record["paymentId"], record["chargedCents"], record["chargeCount"]) == ({"S": payment_id(order_id)}, {"N": "5800"}, {"N": "1"})
    # AND its receipt holds the total
    s3 = run.stack.gateway.client("s3")
    receipt = json.loads(s3.get_object(Bucket=run.stack.info.bucket, Key=receipt_key(order_id))["Body"].read())
    assert (receipt["orderId"], receipt["totalCents"], receipt["paymentId"]) == (order_id, 5800, payment_id(order_id))
    # AND one confirmation reached the notifications queue from OrderEvents, with the total as an attribute
    [envelope] = run.notifications[order_id]
    assert envelope["TopicArn"] == run.stack.info.topics["order_events"]
    assert envelope["MessageAttributes"]["totalCents"] == {"Type": "Number", "Value": "5800"}
    assert json.loads(envelope["Message"])["event"] == "OrderConfirmed"
    assert json.loads(envelope["Message"])["receiptKey"] == receipt_key(order_id)
    # AND its stock went down by its units
    assert run.stock_before["HM-LAMP"] - run.stock_after["HM-LAMP"] == 2


def test_stock_moves_only_for_completed_orders(run):
    # THEN only the valid order, the retried payment and the one doorbuster winner took stock:
    # the invalid order touched none and the declined payment's reservation was given back
    expected = dict(
        run.stock_before, **{"HM-LAMP": run.stock_before["HM-LAMP"] - 2, "HP-SPEAKER": run.stock_before["HP-SPEAKER"] - 1, SCARCE_SKU: 0}
    )
    assert run.stock_after == expected


def assert_failed_and_told(run, scenario: str, error: str) -> None:
    order_id = run.orders[scenario]["orderId"]
    execution = run.execution(scenario)
    assert (execution["status"], execution["error"]) == ("FAILED", error)
    record = run.record(scenario)
    assert record["status"] == {"S": "FAILED"}
    assert record["errorName"] == {"S": error}
    assert record["reason"]["S"].startswith(f"{error}: ")
    assert "chargedCents" not in record
    assert run.messages(scenario) == [
        (
            run.stack.info.topics["order_errors"],
            {"event": "OrderFailed", "orderId": order_id, "errorName": error, "reason": record["reason"]["S"]},
        )
    ]


def test_an_invalid_order_fails_with_validation_error_and_takes_no_stock(run):
    assert_failed_and_told(run, "invalid", "ValidationError")
    assert run.record("invalid")["reason"] == {"S": "ValidationError: item 1: quantity must be a positive integer, got 0"}
    assert "reservedItems" not in run.record("invalid")
    assert run.stock_after["KT-BLENDER"] == run.stock_before["KT-BLENDER"]


def test_failed_orders_have_no_receipt(run):
    s3 = run.stack.gateway.client("s3")
    receipts = {item["Key"] for item in s3.list_objects_v2(Bucket=run.stack.info.bucket, Prefix="receipts/").get("Contents", [])}
    completed = {order["orderId"] for order in run.orders.values() if run.records[order["orderId"]]["status"] == {"S": "COMPLETED"}}
    assert receipts == {receipt_key(order_id) for order_id in completed}
    assert len(completed) == 3  # the valid order, the retried payment, the doorbuster's winner


def lambda_failures(run, scenario: str) -> list[str]:
    stepfunctions = run.stack.gateway.client("stepfunctions")
    pages = stepfunctions.get_paginator("get_execution_history").paginate(executionArn=run.execution(scenario)["executionArn"])
    return [
        event["lambdaFunctionFailedEventDetails"]["error"]
        for page in pages
        for event in page["events"]
        if event["type"] == "LambdaFunctionFailed"
    ]


def test_business_failures_are_no_lambda_errors(run):
    # GIVEN the orders that failed for business reasons: invalid, declined, and 19 out of stock
    business = [
        scenario
        for scenario in run.orders
        if scenario in ("invalid", "declined") or (scenario.startswith("contender-") and run.execution(scenario)["status"] == "FAILED")
    ]
    assert len(business) == 2 + CONTENDERS - 1
    # THEN no Lambda invocation of theirs failed: each rejection was the step's result, routed by a Choice
    # (a cold worker the loaded emulator had to kill is the environment's fault, retried, and not the order's)
    failures = {
        scenario: [error for error in lambda_failures(run, scenario) if error not in LAMBDA_ENVIRONMENT_ERRORS] for scenario in business
    }
    assert failures == {scenario: [] for scenario in business}


def test_an_orders_log_lines_are_json_across_every_function_it_ran_in(run):
    # GIVEN the valid order WHEN its lines are fetched from every function's log group
    order_id = run.orders["valid"]["orderId"]
    names = run.stack.names
    groups = [names.log_group(item.short_name) for item in FUNCTION_SPECS]
    lines = order_log_lines(run.stack.gateway.client("logs"), groups, order_id)
    # THEN each step logged its outcome as JSON naming the order and its execution, in the saga's order
    steps = [(line["logGroup"], line["message"]) for line in lines]
    assert steps == [
        (names.log_group(step), "step done")
        for step in ("validate_order", "reserve_inventory", "process_payment", "generate_receipt", "send_notification")
    ]
    assert {(line["orderId"], line["execution"], line["service"]) for line in lines} == {(order_id, order_id, SERVICE_NAME)}


def test_a_declined_payment_fails_and_gives_the_reservation_back(run):
    assert_failed_and_told(run, "declined", "PaymentDeclined")
    record = run.record("declined")
    # The reservation was taken, then released exactly: the stock is as it was.
    assert record["reservedItems"] == {"M": {"TY-DRONE": {"N": "1"}}}
    assert "releasedAt" in record
    assert run.stock_after["TY-DRONE"] == run.stock_before["TY-DRONE"]


def test_a_gateway_timeout_is_retried_and_the_order_completes(run):
    execution = run.execution("flaky")
    assert execution["status"] == "SUCCEEDED"
    assert run.record("flaky")["status"] == {"S": "COMPLETED"}
    assert run.record("flaky")["chargeCount"] == {"N": "1"}
    # The history shows the timeout, then the retried payment succeeding.
    stepfunctions = run.stack.gateway.client("stepfunctions")
    events = stepfunctions.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)["events"]
    failures = [event["lambdaFunctionFailedEventDetails"]["error"] for event in events if event["type"] == "LambdaFunctionFailed"]
    # A cold worker the loaded emulator had to kill (Runtime.ExitError) is retried too; only the timeout is the order's.
    assert [error for error in failures if error not in LAMBDA_ENVIRONMENT_ERRORS] == ["PaymentGatewayTimeout"]
    assert [event["type"] for event in events].count("LambdaFunctionSucceeded") == 5


def test_twenty_orders_for_the_last_unit_complete_exactly_once(run):
    contenders = [scenario for scenario in run.orders if scenario.startswith("contender-")]
    outcomes = Counter((run.execution(scenario)["status"], run.execution(scenario).get("error")) for scenario in contenders)
    assert outcomes == {("SUCCEEDED", None): 1, ("FAILED", "OutOfStock"): CONTENDERS - 1}
    assert run.stock_after[SCARCE_SKU] == 0
    statuses = Counter(run.record(scenario)["status"]["S"] for scenario in contenders)
    assert statuses == {"COMPLETED": 1, "FAILED": CONTENDERS - 1}
    for scenario in contenders:
        if run.execution(scenario)["status"] == "FAILED":
            assert_failed_and_told(run, scenario, "OutOfStock")


def test_starting_an_order_twice_is_rejected_by_the_service(run):
    # GIVEN the valid order's execution already ran WHEN it is started again THEN ExecutionAlreadyExists
    stepfunctions = run.stack.gateway.client("stepfunctions")
    with pytest.raises(stepfunctions.exceptions.ExecutionAlreadyExists):
        start(stepfunctions, run.stack.info.state_machine_arn, run.stack.info.bucket, run.orders["valid"])
    # AND nothing about the order changed
    dynamodb = run.stack.gateway.client("dynamodb")
    order_id = run.orders["valid"]["orderId"]
    assert dynamodb.get_item(TableName=run.stack.info.tables["orders"], Key={"orderId": {"S": order_id}})["Item"] == run.record("valid")
