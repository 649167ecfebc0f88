"""Each Lambda handler, called as Lambda calls it (`handler(event, context)`), under moto.mock_aws.

The handlers are loaded from lambdas/<short_name>.py with the environment FUNCTION_SPECS gives them, after
the mock is in place (they build their clients at import, as a warm Lambda does).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from blackfriday import telemetry
from blackfriday.domain import (
    PRODUCTS,
    OrderGenerator,
    PaymentGatewayTimeout,
    make_invalid,
    order_key,
    payment_id,
    payment_outcome,
    receipt_key,
)
from blackfriday.functions import FUNCTION_SPECS, ORDERS_API_FUNCTION, spec
from blackfriday.observability import METRICS_NAMESPACE, ORDERS_COMPLETED, ORDERS_FAILED, REASON_DIMENSION, SERVICE_NAME

LAMPS, DRONES = (PRODUCTS[sku].initial_stock for sku in ("HM-LAMP", "TY-DRONE"))

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"


@pytest.fixture
def load_handler(mock_workflow_stack, monkeypatch):
    """load_handler(short_name) -> its handler, imported fresh with exactly the spec's environment."""

    def load(short_name: str):
        for variable in mock_workflow_stack.environment:
            monkeypatch.delenv(variable, raising=False)
        for variable in spec(short_name).environment:
            monkeypatch.setenv(variable, mock_workflow_stack.environment[variable])
        # The JSON logger writes to the stdout it found at its first import: this test's stdout, so capsys reads it.
        monkeypatch.setattr(telemetry.logger.registered_handler, "stream", sys.stdout)
        module_spec = importlib.util.spec_from_file_location(f"lambda_{short_name}", LAMBDAS / f"{short_name}.py")
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        return lambda event, context=None: module.handler(event, context or lambda_context(short_name))

    return load


def lambda_context(short_name: str) -> SimpleNamespace:
    """The attributes of Lambda's context object that Powertools' Logger reads."""
    return SimpleNamespace(
        function_name=f"bftest-{short_name}",
        memory_limit_in_mb=256,
        invoked_function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:bftest-{short_name}",
        aws_request_id=f"request-{short_name}",
    )


def json_lines(text: str) -> list[dict]:
    """Every line a handler wrote, each parsed as JSON (a line that is not JSON fails the test)."""
    return [json.loads(line) for line in text.splitlines() if line]


def metric_records(lines: list[dict]) -> list[tuple[str, str, dict]]:
    """(namespace, metric name, dimensions) of each embedded-metric-format record, each a count of 1."""
    found = []
    for line in lines:
        for directive in line.get("_aws", {}).get("CloudWatchMetrics", []):
            [dimension_names] = directive["Dimensions"]
            for metric in directive["Metrics"]:
                assert (metric["Unit"], line[metric["Name"]]) == ("Count", [1.0])
                found.append((directive["Namespace"], metric["Name"], {name: line[name] for name in dimension_names}))
    return found


def order_with(outcome: str, items: list[tuple[str, int]]) -> dict:
    """A valid generated order, re-identified so the gateway answers `outcome`, for these items."""
    order = OrderGenerator(seed=3).order(0)
    order["orderId"] = next(f"order-{n}" for n in range(10_000) if payment_outcome(f"order-{n}") == outcome)
    order["items"] = [{"sku": sku, "quantity": count, "unitPriceCents": PRODUCTS[sku].price_cents} for sku, count in items]
    order["totalCents"] = sum(count * PRODUCTS[sku].price_cents for sku, count in items)
    return order


def test_there_is_one_handler_module_per_function_spec():
    assert sorted(path.stem for path in LAMBDAS.glob("*.py")) == sorted(item.short_name for item in (*FUNCTION_SPECS, ORDERS_API_FUNCTION))


def test_the_happy_path_through_every_handler(mock_workflow_stack, load_handler):
    stack = mock_workflow_stack
    # GIVEN an approved order for two units of a lamp
    order = order_with("approved", [("HM-LAMP", 2)])
    order_id = order["orderId"]
    # WHEN each step's handler runs with the event the state machine gives it, receipt before notification
    assert load_handler("validate_order")({"order": order}) == {"orderId": order_id, "totalCents": 5800}
    assert load_handler("reserve_inventory")({"order": order}) == {
        "reservedItems": {"HM-LAMP": 2},
        "needsApproval": False,
        "approvalTimeoutSeconds": 86400,
    }
    payment = load_handler("process_payment")({"order": order, "attempt": 0})
    receipt = load_handler("generate_receipt")({"order": order, "payment": payment})
    assert stack.order_record(order_id)["status"] == {"S": "COMPLETED"}
    notification = load_handler("send_notification")({"order": order, "payment": payment, "receipt": receipt})
    # THEN the order is charged, receipted, COMPLETED and then confirmed with its receipt, with its stock taken
    assert payment == {"paymentId": payment_id(order_id), "chargedCents": 5800}
    assert set(notification) == {"messageId"}
    assert receipt == {"receiptKey": f"receipts/{order_id}.json", "completed": True}
    assert stack.stock("HM-LAMP") == LAMPS - 2
    [confirmation] = stack.notifications()
    assert confirmation["MessageAttributes"]["orderId"]["Value"] == order_id
    assert json.loads(confirmation["Message"])["receiptKey"] == receipt_key(order_id)


def test_every_line_a_handler_logs_is_json_with_the_order_and_execution(mock_workflow_stack, load_handler, capsys):
    # GIVEN an approved order WHEN validation and reservation run in execution "exec-1"
    order = order_with("approved", [("HM-LAMP", 1)])
    load_handler("validate_order")({"order": order, "execution": "exec-1"})
    load_handler("reserve_inventory")({"order": order, "execution": "exec-1"})
    # THEN every line is JSON naming the order, the execution, the service and the function
    lines = json_lines(capsys.readouterr().out)
    assert [line["message"] for line in lines] == ["step done", "step done"]
    assert {(line["orderId"], line["execution"], line["service"]) for line in lines} == {(order["orderId"], "exec-1", SERVICE_NAME)}
    assert [line["function_name"] for line in lines] == ["bftest-validate_order", "bftest-reserve_inventory"]


def test_completing_an_order_counts_it_once(mock_workflow_stack, load_handler, capsys):
    # GIVEN a paid order
    order = order_with("approved", [("HM-LAMP", 1)])
    load_handler("validate_order")({"order": order})
    load_handler("reserve_inventory")({"order": order})
    payment = load_handler("process_payment")({"order": order, "attempt": 0})
    capsys.readouterr()
    # WHEN its receipt is issued twice (a retried task)
    load_handler("generate_receipt")({"order": order, "payment": payment})
    load_handler("generate_receipt")({"order": order, "payment": payment})
    # THEN one OrdersCompleted count, in embedded metric format
    assert metric_records(json_lines(capsys.readouterr().out)) == [(METRICS_NAMESPACE, ORDERS_COMPLETED, {"service": SERVICE_NAME})]


@pytest.mark.parametrize(
    ("short_name", "event", "error", "cause"),
    [
        (
            "validate_order",
            {"order": make_invalid(order_with("approved", [("HM-LAMP", 1)]), "zero_quantity")},
            "ValidationError",
            "item 1: quantity must be a positive integer, got 0",
        ),
        (
            "process_payment",
            {"order": order_with("declined", [("HM-LAMP", 1)]), "attempt": 0},
            "PaymentDeclined",
            f"card declined by issuer for order {order_with('declined', [])['orderId']} (2900 cents)",
        ),
    ],
)
def test_business_rejections_are_returned_not_raised(mock_workflow_stack, load_handler, capsys, short_name, event, error, cause):
    # GIVEN a reserved order (so payment reaches the gateway) WHEN the handler runs
    load_handler("reserve_inventory")({"order": event["order"]})
    # THEN the rejection is its result, for the state machine's Choice: the function itself did not fail
    assert load_handler(short_name)(event) == {"rejection": {"Error": error, "Cause": cause}}
    assert json_lines(capsys.readouterr().out)[-1]["message"] == "order rejected"


def test_a_gateway_timeout_escapes_the_handler_for_the_retrier(mock_workflow_stack, load_handler, capsys):
    # GIVEN a reserved order whose gateway times out on the first attempt
    order = order_with("flaky", [("HM-LAMP", 1)])
    load_handler("reserve_inventory")({"order": order})
    # WHEN payment runs THEN the transient error escapes: its class name is what the Retry matches on
    with pytest.raises(PaymentGatewayTimeout):
        load_handler("process_payment")({"order": order, "attempt": 0})
    # AND it was logged as one JSON line with the traceback
    [failure] = [line for line in json_lines(capsys.readouterr().out) if line["level"] == "ERROR"]
    assert (failure["message"], failure["orderId"], failure["exception_name"]) == ("step failed", order["orderId"], "PaymentGatewayTimeout")


def test_reserve_handler_returns_out_of_stock_and_takes_nothing(mock_workflow_stack, load_handler):
    stack = mock_workflow_stack
    # GIVEN no TVs left
    stack.set_stock("DB-TV-65", 0)
    order = order_with("approved", [("HM-LAMP", 1), ("DB-TV-65", 1)])
    # WHEN the reservation handler runs THEN an OutOfStock rejection, and the lamp stock is untouched
    result = load_handler("reserve_inventory")({"order": order})
    assert result["rejection"]["Error"] == "OutOfStock"
    assert stack.stock("HM-LAMP") == LAMPS


def test_release_handler_gives_back_the_reservation(mock_workflow_stack, load_handler):
    stack = mock_workflow_stack
    # GIVEN a reserved order
    order = order_with("approved", [("TY-DRONE", 3)])
    load_handler("reserve_inventory")({"order": order})
    # WHEN the compensation handler runs with the order id
    result = load_handler("release_inventory")({"orderId": order["orderId"]})
    # THEN the stock is whole again
    assert result == {"releasedItems": {"TY-DRONE": 3}}
    assert stack.stock("TY-DRONE") == DRONES


def test_mark_order_failed_handler_uses_the_key_when_the_order_has_no_id(mock_workflow_stack, load_handler, capsys):
    stack = mock_workflow_stack
    # GIVEN a Catch output for an order without an id, uploaded under its key
    event = {
        "order": {"items": []},
        "source": {"bucket": stack.bucket, "key": order_key("order-77")},
        "error": {"Error": "ValidationError", "Cause": json.dumps({"errorType": "ValidationError", "errorMessage": "orderId missing"})},
    }
    # WHEN the handler runs
    result = load_handler("mark_order_failed")(event)
    # THEN the order from the key is FAILED with the reason, and OrderErrors says so
    reason = "ValidationError: orderId missing"
    assert result == {"orderId": "order-77", "errorName": "ValidationError", "reason": reason, "markedFailed": True, "told": True}
    assert stack.order_record("order-77")["reason"] == {"S": reason}
    [envelope] = stack.notifications()
    assert envelope["TopicArn"] == stack.errors_topic_arn
    # AND it is counted as failed, in all and by reason, and its log lines name the order
    lines = json_lines(capsys.readouterr().out)
    assert metric_records(lines) == [
        (METRICS_NAMESPACE, ORDERS_FAILED, {"service": SERVICE_NAME}),
        (METRICS_NAMESPACE, ORDERS_FAILED, {"service": SERVICE_NAME, REASON_DIMENSION: "ValidationError"}),
    ]
    assert {line["orderId"] for line in lines if "message" in line} == {"order-77"}


def test_a_failure_after_the_receipt_was_written_removes_it_and_tells_the_customer_once(mock_workflow_stack, load_handler):
    stack = mock_workflow_stack
    # GIVEN a paid order whose receipt was written, but whose GenerateReceipt failed before completing it
    order = order_with("approved", [("HM-LAMP", 1)])
    load_handler("validate_order")({"order": order})
    load_handler("reserve_inventory")({"order": order})
    load_handler("process_payment")({"order": order, "attempt": 0})
    stack.s3.put_object(Bucket=stack.bucket, Key=receipt_key(order["orderId"]), Body=b"{}")
    source = {"bucket": stack.bucket, "key": order_key(order["orderId"])}
    error = {"Error": "States.Timeout", "Cause": "GenerateReceipt timed out"}
    # WHEN the compensation runs as the state machine runs it
    load_handler("release_inventory")({"orderId": order["orderId"]})
    load_handler("mark_order_failed")({"order": order, "source": source, "error": error})
    # THEN no receipt, the charge refunded, the stock back, and one message: the failure
    assert stack.s3.list_objects_v2(Bucket=stack.bucket, Prefix="receipts/")["KeyCount"] == 0
    record = stack.order_record(order["orderId"])
    assert (record["status"], record["refundedCents"], "chargedCents" in record) == ({"S": "FAILED"}, {"N": "2900"}, False)
    assert stack.stock("HM-LAMP") == LAMPS
    assert [json.loads(envelope["Message"])["event"] for envelope in stack.notifications()] == ["OrderFailed"]


def test_a_big_order_needs_approval_and_request_approval_parks_it_and_tells_the_reviewers(mock_workflow_stack, load_handler):
    stack = mock_workflow_stack
    # GIVEN the Approvals topic with a queue listening, and an order of exactly $1,000 (the default threshold)
    topic_arn = stack.sns.create_topic(Name=stack.names.name("Approvals"))["TopicArn"]
    assert topic_arn == stack.environment["APPROVALS_TOPIC_ARN"]
    heard_url = stack.sqs.create_queue(QueueName="heard")["QueueUrl"]
    heard_arn = stack.sqs.get_queue_attributes(QueueUrl=heard_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    stack.sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=heard_arn, Attributes={"RawMessageDelivery": "true"})
    order = order_with("approved", [("GC-50", 20)])
    load_handler("validate_order")({"order": order})
    # WHEN it is reserved THEN ReserveInventory says a person must approve it, and for how long the workflow waits
    assert load_handler("reserve_inventory")({"order": order}) == {
        "reservedItems": {"GC-50": 20},
        "needsApproval": True,
        "approvalTimeoutSeconds": 86400,
    }
    # WHEN AwaitApproval hands its token to request_approval
    answer = load_handler("request_approval")({"order": order, "token": "token-1", "timeoutSeconds": 86400})
    # THEN the row holds the token, AWAITING_APPROVAL, and the reviewers heard of it with what to run
    row = stack.order_record(order["orderId"])
    assert (row["status"], row["approvalToken"], row["approvalExpiresAt"]) == (
        {"S": "AWAITING_APPROVAL"},
        {"S": "token-1"},
        {"S": answer["expiresAt"]},
    )
    [message] = stack.sqs.receive_message(QueueUrl=heard_url)["Messages"]
    body = json.loads(message["Body"])
    assert (body["event"], body["orderId"], body["totalCents"], body["items"]) == (
        "ApprovalRequested",
        order["orderId"],
        100_000,
        [{"sku": "GC-50", "quantity": 20}],
    )
    assert body["decide"] == f"python approve.py approve {order['orderId']}   |   python approve.py reject {order['orderId']} --reason TEXT"
