"""The workflow's operations under moto.mock_aws: all-or-none reservation, exact release, one charge, one completion."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from blackfriday import fulfillment
from blackfriday.domain import (
    PRODUCTS,
    InventoryBusy,
    OrderGenerator,
    OrderStateConflict,
    OutOfStock,
    PaymentDeclined,
    PaymentGatewayTimeout,
    ValidationError,
    make_invalid,
    payment_id,
    payment_outcome,
)
from blackfriday.order_rows import FAILURE_REASON_MAX_CHARS

LAMPS, DRONES, COFFEE = (PRODUCTS[sku].initial_stock for sku in ("HM-LAMP", "TY-DRONE", "KT-COFFEE"))


def order_for(items: list[tuple[str, int]], order_id: str = "order-1") -> dict:
    """A valid order for (sku, quantity) pairs at catalogue prices."""
    order = OrderGenerator(seed=7).order(0)
    order["orderId"] = order_id
    order["items"] = [{"sku": sku, "quantity": count, "unitPriceCents": PRODUCTS[sku].price_cents} for sku, count in items]
    order["totalCents"] = sum(count * PRODUCTS[sku].price_cents for sku, count in items)
    return order


def order_id_with(outcome: str) -> str:
    return next(f"order-{n}" for n in range(10_000) if payment_outcome(f"order-{n}") == outcome)


def accepted_and_reserved(stack, order: dict) -> None:
    fulfillment.accept_order(stack.dynamodb, stack.orders_table, order)
    fulfillment.reserve_inventory(stack.dynamodb, stack.inventory_table, stack.orders_table, order)


def test_accept_order_records_a_valid_order_as_received(mock_workflow_stack):
    stack = mock_workflow_stack
    # GIVEN a valid order
    order = order_for([("HM-LAMP", 2)])
    # WHEN it is accepted
    result = fulfillment.accept_order(stack.dynamodb, stack.orders_table, order)
    # THEN the Orders record says RECEIVED with its total and customer
    record = stack.order_record("order-1")
    assert result == {"orderId": "order-1", "totalCents": 5800}
    assert record["status"] == {"S": "RECEIVED"}
    assert record["totalCents"] == {"N": "5800"}
    assert record["customerId"] == {"S": order["customer"]["customerId"]}


def test_accept_order_rejects_an_invalid_order_and_records_nothing(mock_workflow_stack):
    stack = mock_workflow_stack
    # GIVEN an order whose total is off by one dollar
    order = make_invalid(order_for([("HM-LAMP", 2)]), "wrong_total")
    # WHEN it is accepted THEN ValidationError names the problem and nothing is written
    with pytest.raises(ValidationError, match=r"^totalCents 5900 does not equal the items' sum 5800$"):
        fulfillment.accept_order(stack.dynamodb, stack.orders_table, order)
    assert stack.order_record("order-1") == {}


def test_reserve_takes_every_item_and_records_the_reservation(mock_workflow_stack):
    stack = mock_workflow_stack
    # GIVEN an order for two SKUs, one of them listed twice
    order = order_for([("HM-LAMP", 2), ("TY-DRONE", 1), ("HM-LAMP", 1)])
    fulfillment.accept_order(stack.dynamodb, stack.orders_table, order)
    # WHEN its inventory is reserved
    reserved = fulfillment.reserve_inventory(stack.dynamodb, stack.inventory_table, stack.orders_table, order)
    # THEN both stocks drop by the units and the order records exactly that
    assert reserved == {"HM-LAMP": 3, "TY-DRONE": 1}
    assert (stack.stock("HM-LAMP"), stack.stock("TY-DRONE")) == (LAMPS - 3, DRONES - 1)
    record = stack.order_record("order-1")
    assert record["status"] == {"S": "RESERVED"}
    assert record["reservedItems"] == {"M": {"HM-LAMP": {"N": "3"}, "TY-DRONE": {"N": "1"}}}


def test_reserve_repeated_reserves_nothing_more(mock_workflow_stack):
    stack = mock_workflow_stack
    # GIVEN an order already reserved
    order = order_for([("HM-LAMP", 2)])
    accepted_and_reserved(stack, order)
    # WHEN the reservation runs again (a retried task)
    reserved = fulfillment.reserve_inventory(stack.dynamodb, stack.inventory_table, stack.orders_table, order)
    # THEN it returns the first reservation and the stock moved once
    assert reserved == {"HM-LAMP": 2}
    assert stack.stock("HM-LAMP") == LAMPS - 2


def test_reserve_out_of_stock_takes_nothing(mock_workflow_stack):
    stack = mock_workflow_stack
    # GIVEN a doorbuster with 1 left and an order for it plus a plentiful SKU
    stack.set_stock("DB-TV-65", 0)
    order = order_for([("HM-LAMP", 2), ("DB-TV-65", 1)])
    fulfillment.accept_order(stack.dynamodb, stack.orders_table, order)
    # WHEN its inventory is reserved
    with pytest.raises(OutOfStock, match=r"^not enough stock for order order-1: DB-TV-65 \(wanted 1\)$"):
        fulfillment.reserve_inventory(stack.dynamodb, stack.inventory_table, stack.orders_table, order)
    # THEN no stock moved, not even the plentiful SKU's, and no reservation is recorded
    assert (stack.stock("HM-LAMP"), stack.stock("DB-TV-65")) == (LAMPS, 0)
    assert "reservedItems" not in stack.order_record("order-1")
    assert stack.order_record("order-1")["status"] == {"S": "RECEIVED"}


def test_reserve_the_last_unit_then_out_of_stock_for_the_next_order(mock_workflow_stack):
    stack = mock_workflow_stack
    # GIVEN a SKU with exactly one unit and two orders for it
    stack.set_stock("DB-LAPTOP", 1)
    first, second = order_for([("DB-LAPTOP", 1)], "first"), order_for([("DB-LAPTOP", 1)], "second")
    # WHEN both reserve, one after the other
    accepted_and_reserved(stack, first)
    fulfillment.accept_order(stack.dynamodb, stack.orders_table, second)
    with pytest.raises(OutOfStock):
        fulfillment.reserve_inventory(stack.dynamodb, stack.inventory_table, stack.orders_table, second)
    # THEN the stock is exactly zero, never below
    assert stack.stock("DB-LAPTOP") == 0


def test_release_gives_back_exactly_the_reservation_once(mock_workflow_stack):
    stack = mock_workflow_stack
    # GIVEN a reserved order
    accepted_and_reserved(stack, order_for([("HM-LAMP", 2), ("TY-DRONE", 1)]))
    # WHEN it is released twice (compensation retried)
    first = fulfillment.release_inventory(stack.dynamodb, stack.inventory_table, stack.orders_table, "order-1")
    second = fulfillment.release_inventory(stack.dynamodb, stack.inventory_table, stack.orders_table, "order-1")
    # THEN the stock is back where it started, once
    assert first == {"HM-LAMP": 2, "TY-DRONE": 1}
    assert second == {}
    assert (stack.stock("HM-LAMP"), stack.stock("TY-DRONE")) == (LAMPS, DRONES)
    assert "releasedAt" in stack.order_record("order-1")


def test_release_without_a_reservation_changes_nothing(mock_workflow_stack):
    stack = mock_workflow_stack
    # GIVEN an order that never reserved (and one that does not exist at all)
    fulfillment.accept_order(stack.dynamodb, stack.orders_table, order_for([("HM-LAMP", 2)]))
    # WHEN both are released THEN nothing is given back
    assert fulfillment.release_inventory(stack.dynamodb, stack.inventory_table, stack.orders_table, "order-1") == {}
    assert fulfillment.release_inventory(stack.dynamodb, stack.inventory_table, stack.orders_table, "nobody") == {}
    assert stack.stock("HM-LAMP") == LAMPS


def test_a_released_order_cannot_reserve_again(mock_workflow_stack):
    stack = mock_workflow_stack
    # GIVEN an order reserved and released
    order = order_for([("HM-LAMP", 2)])
    accepted_and_reserved(stack, order)
    fulfillment.release_inventory(stack.dynamodb, stack.inventory_table, stack.orders_table, "order-1")
    # WHEN a late repeat of its reservation arrives
    fulfillment.reserve_inventory(stack.dynamodb, stack.inventory_table, stack.orders_table, order)
    # THEN it takes no stock
    assert stack.stock("HM-LAMP") == LAMPS


def test_charge_approved_records_one_charge_and_a_repeat_charges_nothing(mock_workflow_stack):
    stack = mock_workflow_stack
    # GIVEN a reserved order the gateway approves
    order_id = order_id_with("approved")
    order = order_for([("HM-LAMP", 1)], order_id)
    accepted_and_reserved(stack, order)
    # WHEN it is charged twice
    first = fulfillment.charge_payment(stack.dynamodb, stack.orders_table, order, attempt=0)
    second = fulfillment.charge_payment(stack.dynamodb, stack.orders_table, order, attempt=1)
    # THEN both return the one charge, recorded once
    assert first == second == {"paymentId": payment_id(order_id), "chargedCents": 2900}
    record = stack.order_record(order_id)
    assert record["status"] == {"S": "PAID"}
    assert record["chargeCount"] == {"N": "1"}
    assert record["chargedCents"] == {"N": "2900"}


def test_charge_declined_records_no_charge(mock_workflow_stack):
    stack = mock_workflow_stack
    # GIVEN a reserved order the issuer declines
    order = order_for([("HM-LAMP", 1)], order_id_with("declined"))
    accepted_and_reserved(stack, order)
    # WHEN it is charged THEN PaymentDeclined and the order stays RESERVED without a charge
    with pytest.raises(PaymentDeclined, match="^card declined by issuer"):
        fulfillment.charge_payment(stack.dynamodb, stack.orders_table, order, attempt=0)
    record = stack.order_record(order["orderId"])
    assert record["status"] == {"S": "RESERVED"}
    assert "chargedCents" not in record and "chargeCount" not in record


def test_charge_flaky_times_out_first_then_succeeds_on_retry(mock_workflow_stack):
    stack = mock_workflow_stack
    # GIVEN a reserved order whose gateway call times out once
    order = order_for([("HM-LAMP", 1)], order_id_with("flaky"))
    accepted_and_reserved(stack, order)
    # WHEN the first attempt fails and the retry runs
    with pytest.raises(PaymentGatewayTimeout, match=r"\(attempt 1\)$"):
        fulfillment.charge_payment(stack.dynamodb, stack.orders_table, order, attempt=0)
    result = fulfillment.charge_payment(stack.dynamodb, stack.orders_table, order, attempt=1)
    # THEN the order is charged once
    assert result == {"paymentId": payment_id(order["orderId"]), "chargedCents": 2900}
    assert stack.order_record(order["orderId"])["chargeCount"] == {"N": "1"}


def test_charge_refuses_an_order_that_was_never_reserved(mock_workflow_stack):
    stack = mock_workflow_stack
    # GIVEN an approved order that is only RECEIVED
    order = order_for([("HM-LAMP", 1)], order_id_with("approved"))
    fulfillment.accept_order(stack.dynamodb, stack.orders_table, order)
    # WHEN it is charged THEN the state conflict is named and nothing is charged
    with pytest.raises(OrderStateConflict, match=r"is RECEIVED, not RESERVED: it cannot be charged$"):
        fulfillment.charge_payment(stack.dynamodb, stack.orders_table, order, attempt=0)
    assert "chargedCents" not in stack.order_record(order["orderId"])


def test_publish_confirmation_carries_order_id_and_total_as_attributes(mock_workflow_stack):
    stack = mock_workflow_stack
    # GIVEN a paid order
    order = order_for([("HM-LAMP", 2)])
    payment = {"paymentId": "pay_1", "chargedCents": 5800}
    # WHEN its confirmation is published
    fulfillment.publish_confirmation(stack.sns, stack.events_topic_arn, order, payment, {"receiptKey": "receipts/order-1.json"})
    # THEN one message on OrderEvents names the order, its total and its receipt
    [envelope] = stack.notifications()
    assert envelope["TopicArn"] == stack.events_topic_arn
    assert envelope["MessageAttributes"]["orderId"] == {"Type": "String", "Value": "order-1"}
    assert envelope["MessageAttributes"]["totalCents"] == {"Type": "Number", "Value": "5800"}
    message = json.loads(envelope["Message"])
    assert (message["event"], message["orderId"], message["totalCents"], message["paymentId"], message["receiptKey"]) == (
        "OrderConfirmed",
        "order-1",
        5800,
        "pay_1",
        "receipts/order-1.json",
    )


def paid_order(stack) -> tuple[dict, dict]:
    order = order_for([("HM-LAMP", 2)], order_id_with("approved"))
    accepted_and_reserved(stack, order)
    return order, fulfillment.charge_payment(stack.dynamodb, stack.orders_table, order, attempt=0)


def test_issue_receipt_writes_it_and_completes_the_order_once(mock_workflow_stack):
    stack = mock_workflow_stack
    # GIVEN a paid order
    order, payment = paid_order(stack)
    order_id = order["orderId"]
    # WHEN its receipt is issued twice
    first = fulfillment.issue_receipt(stack.s3, stack.dynamodb, stack.bucket, stack.orders_table, order, payment)
    completed_at = stack.order_record(order_id)["completedAt"]
    second = fulfillment.issue_receipt(stack.s3, stack.dynamodb, stack.bucket, stack.orders_table, order, payment)
    # THEN one receipt holds the charged total and the order was completed by the first call only
    assert first == {"receiptKey": f"receipts/{order_id}.json", "completed": True}
    assert second == {"receiptKey": f"receipts/{order_id}.json", "completed": False}
    receipt = json.loads(stack.s3.get_object(Bucket=stack.bucket, Key=f"receipts/{order_id}.json")["Body"].read())
    assert (receipt["orderId"], receipt["totalCents"], receipt["paymentId"]) == (order_id, 5800, payment["paymentId"])
    record = stack.order_record(order_id)
    assert record["status"] == {"S": "COMPLETED"}
    assert record["completedAt"] == completed_at
    assert record["receiptKey"] == {"S": f"receipts/{order_id}.json"}


def test_issue_receipt_refuses_an_unpaid_order(mock_workflow_stack):
    stack = mock_workflow_stack
    # GIVEN a reserved but unpaid order
    order = order_for([("HM-LAMP", 2)])
    accepted_and_reserved(stack, order)
    # WHEN its receipt is issued THEN the conflict is named and the order is not COMPLETED
    with pytest.raises(OrderStateConflict, match=r"^order order-1 is RESERVED, not PAID: it cannot be completed$"):
        payment = {"paymentId": "p", "chargedCents": 5800}
        fulfillment.issue_receipt(stack.s3, stack.dynamodb, stack.bucket, stack.orders_table, order, payment)
    assert stack.order_record("order-1")["status"] == {"S": "RESERVED"}


OUT_OF_STOCK_MESSAGE = "not enough stock for order order-1: DB-TV-65 (wanted 1)"
LAMBDA_CAUSE = json.dumps({"errorType": "OutOfStock", "errorMessage": OUT_OF_STOCK_MESSAGE, "stackTrace": []})


def test_describe_failure_reads_the_lambda_error_message():
    # GIVEN Catch outputs from a Lambda error, a States error and an empty one
    # WHEN described THEN the name and a readable reason come out
    assert fulfillment.describe_failure({"Error": "OutOfStock", "Cause": LAMBDA_CAUSE}) == (
        "OutOfStock",
        "OutOfStock: not enough stock for order order-1: DB-TV-65 (wanted 1)",
    )
    assert fulfillment.describe_failure({"Error": "States.Timeout", "Cause": "Task timed out"}) == (
        "States.Timeout",
        "States.Timeout: Task timed out",
    )
    assert fulfillment.describe_failure({}) == ("States.Unknown", "States.Unknown")
    assert len(fulfillment.describe_failure({"Error": "X", "Cause": "y" * 2000})[1]) == FAILURE_REASON_MAX_CHARS


def test_workflow_order_id_falls_back_to_the_s3_key():
    # GIVEN an execution input whose order has lost its id WHEN asked THEN the key's id answers
    source = {"bucket": "b", "key": "orders/ab/order-9.json"}
    assert fulfillment.workflow_order_id({"order": {"orderId": "order-1"}, "source": source}) == "order-1"
    assert fulfillment.workflow_order_id({"order": {"items": []}, "source": source}) == "order-9"
    assert fulfillment.workflow_order_id({"order": ["not", "an", "order"], "source": source}) == "order-9"


def fail(stack, order_id: str, error: dict, release_error: dict | None = None) -> dict:
    """fail_order as MarkOrderFailed calls it, for an order uploaded to the stack's bucket."""
    return fulfillment.fail_order(
        stack.dynamodb, stack.sns, stack.s3, stack.orders_table, stack.errors_topic_arn, stack.bucket, order_id, error, release_error
    )


def test_fail_order_records_the_reason_and_tells_order_errors(mock_workflow_stack):
    stack = mock_workflow_stack
    # GIVEN an order that ran out of stock
    fulfillment.accept_order(stack.dynamodb, stack.orders_table, order_for([("DB-TV-65", 1)]))
    # WHEN it is failed
    result = fail(stack, "order-1", {"Error": "OutOfStock", "Cause": LAMBDA_CAUSE})
    # THEN Orders holds FAILED with the reason and OrderErrors got one message naming the error
    reason = "OutOfStock: not enough stock for order order-1: DB-TV-65 (wanted 1)"
    assert result == {"orderId": "order-1", "errorName": "OutOfStock", "reason": reason, "markedFailed": True, "told": True}
    record = stack.order_record("order-1")
    assert (record["status"], record["reason"], record["errorName"]) == ({"S": "FAILED"}, {"S": reason}, {"S": "OutOfStock"})
    [envelope] = stack.notifications()
    assert envelope["TopicArn"] == stack.errors_topic_arn
    assert envelope["MessageAttributes"]["orderId"] == {"Type": "String", "Value": "order-1"}
    assert json.loads(envelope["Message"]) == {"event": "OrderFailed", "orderId": "order-1", "errorName": "OutOfStock", "reason": reason}


def test_fail_order_for_an_order_never_recorded_creates_its_record(mock_workflow_stack):
    stack = mock_workflow_stack
    # GIVEN a validation failure (nothing recorded yet) WHEN it is failed
    fail(stack, "order-1", {"Error": "ValidationError", "Cause": json.dumps({"errorMessage": "orderId missing"})})
    # THEN the record exists as FAILED with the reason
    record = stack.order_record("order-1")
    assert (record["status"], record["reason"]) == ({"S": "FAILED"}, {"S": "ValidationError: orderId missing"})


def test_fail_order_after_payment_refunds_the_charge(mock_workflow_stack):
    stack = mock_workflow_stack
    # GIVEN a paid order whose receipt step failed
    order, _ = paid_order(stack)
    # WHEN it is failed twice (the task retried)
    for _ in range(2):
        fail(stack, order["orderId"], {"Error": "States.TaskFailed", "Cause": "SNS unavailable"})
    # THEN it keeps no charge: the amount moved to refundedCents, once
    record = stack.order_record(order["orderId"])
    assert "chargedCents" not in record
    assert record["refundedCents"] == {"N": "5800"}
    assert record["status"] == {"S": "FAILED"}


def test_fail_order_leaves_a_completed_order_alone(mock_workflow_stack):
    stack = mock_workflow_stack
    # GIVEN a COMPLETED order
    order, payment = paid_order(stack)
    fulfillment.issue_receipt(stack.s3, stack.dynamodb, stack.bucket, stack.orders_table, order, payment)
    stack.notifications()
    # WHEN a failure arrives for it
    result = fail(stack, order["orderId"], {"Error": "States.Timeout", "Cause": ""})
    # THEN it stays COMPLETED with its charge and nobody is told it failed
    assert result["markedFailed"] is False
    record = stack.order_record(order["orderId"])
    assert (record["status"], record["chargedCents"]) == ({"S": "COMPLETED"}, {"N": "5800"})
    assert stack.notifications() == []


def test_reserve_conflicting_with_a_concurrent_transaction_is_transient():
    # GIVEN DynamoDB cancels the transaction for a conflict, as real AWS does under contention (moto never does)
    dynamodb = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(dynamodb) as stubber:
        stubber.add_client_error(
            "transact_write_items",
            service_error_code="TransactionCanceledException",
            http_status_code=400,
            modeled_fields={"CancellationReasons": [{"Code": "TransactionConflict"}, {"Code": "None"}]},
        )
        # WHEN the reservation runs THEN InventoryBusy (retried by the workflow), not OutOfStock
        with pytest.raises(InventoryBusy, match=r"^stock transaction for order order-1 cancelled \(TransactionConflict\)$"):
            fulfillment.reserve_inventory(dynamodb, "Inventory", "Orders", order_for([("HM-LAMP", 1)]))


def test_a_failure_after_the_receipt_was_written_leaves_no_receipt_and_one_failure_message(mock_workflow_stack):
    stack = mock_workflow_stack
    # GIVEN a paid order whose receipt was written, then the order changed under it, so it could not be COMPLETED
    order, payment = paid_order(stack)
    stack.dynamodb.update_item(
        TableName=stack.orders_table,
        Key={"orderId": {"S": order["orderId"]}},
        UpdateExpression="SET #s = :r",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":r": {"S": "RESERVED"}},
    )
    with pytest.raises(OrderStateConflict):
        fulfillment.issue_receipt(stack.s3, stack.dynamodb, stack.bucket, stack.orders_table, order, payment)
    assert stack.s3.list_objects_v2(Bucket=stack.bucket, Prefix="receipts/")["KeyCount"] == 1
    # WHEN the saga compensates: release, then fail (twice: the task retried)
    fulfillment.release_inventory(stack.dynamodb, stack.inventory_table, stack.orders_table, order["orderId"])
    for _ in range(2):
        fail(stack, order["orderId"], {"Error": "OrderStateConflict", "Cause": "not PAID"})
    # THEN no receipt is left, the charge is refunded, the stock is back, and the customer heard only of the failure
    assert stack.s3.list_objects_v2(Bucket=stack.bucket, Prefix="receipts/")["KeyCount"] == 0
    record = stack.order_record(order["orderId"])
    assert (record["status"], record["refundedCents"], "chargedCents" in record) == ({"S": "FAILED"}, {"N": "5800"}, False)
    assert stack.stock("HM-LAMP") == LAMPS
    [envelope] = stack.notifications()
    assert json.loads(envelope["Message"])["event"] == "OrderFailed"


RELEASE_ERROR = {"Error": "States.TaskFailed", "Cause": "DynamoDB unavailable"}


def order_whose_release_failed(stack) -> dict:
    """A declined order still holding its reservation: ReleaseInventory ran out of retries, MarkOrderFailed recorded it."""
    order = order_for([("TY-DRONE", 2), ("HM-LAMP", 1)], order_id_with("declined"))
    accepted_and_reserved(stack, order)
    fail(stack, order["orderId"], {"Error": "PaymentDeclined", "Cause": "card declined"}, RELEASE_ERROR)
    return order


def test_a_failed_release_is_recorded_on_the_order(mock_workflow_stack):
    stack = mock_workflow_stack
    # GIVEN an order failed with a release error WHEN its row is read
    order = order_whose_release_failed(stack)
    record = stack.order_record(order["orderId"])
    # THEN it is FAILED for its own reason, holds its reservation, and names the failed release
    assert (record["status"], record["errorName"]) == ({"S": "FAILED"}, {"S": "PaymentDeclined"})
    assert record["releaseError"] == {"S": "States.TaskFailed: DynamoDB unavailable"}
    assert "releasedAt" not in record
    assert fulfillment.unreleased_reservations(stack.dynamodb, stack.orders_table).keys() == {order["orderId"]}
    assert (stack.stock("TY-DRONE"), stack.stock("HM-LAMP")) == (DRONES - 2, LAMPS - 1)


def test_repair_returns_the_stock_of_a_failed_release_exactly_once(mock_workflow_stack):
    stack = mock_workflow_stack
    # GIVEN an order whose release failed, and a COMPLETED and a properly released order beside it
    order = order_whose_release_failed(stack)
    completed, payment = paid_order(stack)
    fulfillment.issue_receipt(stack.s3, stack.dynamodb, stack.bucket, stack.orders_table, completed, payment)
    released = order_for([("KT-COFFEE", 1)], "order-released")
    accepted_and_reserved(stack, released)
    fulfillment.release_inventory(stack.dynamodb, stack.inventory_table, stack.orders_table, "order-released")
    fail(stack, "order-released", {"Error": "PaymentDeclined", "Cause": "card declined"})
    # WHEN the repair runs three times
    repairs = [fulfillment.repair_releases(stack.dynamodb, stack.inventory_table, stack.orders_table) for _ in range(3)]
    # THEN the first gave back exactly the failed release's units, the others nothing
    assert repairs == [{order["orderId"]: {"HM-LAMP": 1, "TY-DRONE": 2}}, {}, {}]
    assert (stack.stock("TY-DRONE"), stack.stock("HM-LAMP"), stack.stock("KT-COFFEE")) == (DRONES, LAMPS - 2, COFFEE)
    assert "releasedAt" in stack.order_record(order["orderId"])
    assert fulfillment.unreleased_reservations(stack.dynamodb, stack.orders_table) == {}
