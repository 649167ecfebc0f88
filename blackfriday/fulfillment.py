"""The workflow's operations on DynamoDB, S3 and SNS, one plain function per Lambda; the handlers only parse and call.

Every function takes its boto3 clients and resource names as arguments, so the Lambdas, the tests and
any script share the same code. The saga tells the customer once, at the end: the receipt is written and the
order COMPLETED before the confirmation is published; a failure anywhere before that releases the stock,
removes a receipt already written, refunds a charge and publishes one failure. Business outcomes
(BusinessRejection: invalid, out of stock, declined) are returned as a `rejection` by the Lambdas, not raised,
so only faults count as Lambda errors. Each step is safe to repeat (a Lambda retry or a re-delivered task):

- reserve_inventory: one transaction takes every item's stock (condition stock >= qty) and records the
  reservation on the order; a repeat finds the record and reserves nothing more.
- release_inventory: gives back exactly the recorded reservation, once (marked releasedAt in the same transaction).
- charge_payment: the charge is keyed by orderId with a conditional write; a repeat returns the first charge.
- issue_receipt: the order becomes COMPLETED only from PAID; a repeat rewrites the same receipt and completes nothing.
- fail_order: FAILED with the reason (never over COMPLETED), a receipt removed, a charge refunded, one message
  on OrderErrors; a reservation whose release failed is recorded (releaseError) and given back later by
  repair_releases, exactly once.

Orders record (key orderId): status RECEIVED -> RESERVED -> PAID -> COMPLETED, or FAILED with reason and
errorName; totalCents, customerId, reservedItems {sku: units}, paymentId, chargedCents, chargeCount,
refundedCents, receiptKey, releaseError, failureNotifiedAt and the time of each transition.
"""

from __future__ import annotations

import json

from blackfriday.domain import (
    BusinessRejection,
    InventoryBusy,
    OrderStateConflict,
    OrderStatus,
    OutOfStock,
    authorize_payment,
    order_id_from_key,
    receipt_key,
    units_by_sku,
    validate_order,
)
from blackfriday.order_rows import FAILURE_REASON_MAX_CHARS, STATUS_NAME, OrderRow, row_key, timestamp
from blackfriday.tables import number, numbers, scan_all, text

# The statuses are defined once, in domain.OrderStatus; short names for the expressions below.
RECEIVED = OrderStatus.RECEIVED
RESERVED = OrderStatus.RESERVED
PAID = OrderStatus.PAID
COMPLETED = OrderStatus.COMPLETED
FAILED = OrderStatus.FAILED
CONDITION_FAILED = "ConditionalCheckFailed"


def rejection(error: BusinessRejection) -> dict:
    """A step's business outcome as it returns it: the state machine's Choice finds `rejection` and fails the order."""
    return {"rejection": {"Error": type(error).__name__, "Cause": str(error)}}


# --- ValidateOrder ---------------------------------------------------------------------------


def accept_order(dynamodb, orders_table: str, order: object) -> dict:
    """Validate (ValidationError names every problem) and record the order as RECEIVED; a repeat keeps a later status."""
    validate_order(order)
    dynamodb.update_item(
        TableName=orders_table,
        Key=row_key(order["orderId"]),
        UpdateExpression=(
            "SET #status = if_not_exists(#status, :received), receivedAt = if_not_exists(receivedAt, :now), "
            "customerId = :customer, totalCents = :total, createdAt = :created"
        ),
        ExpressionAttributeNames=STATUS_NAME,
        ExpressionAttributeValues={
            ":received": text(RECEIVED),
            ":now": text(timestamp()),
            ":customer": text(order["customer"]["customerId"]),
            ":total": number(order["totalCents"]),
            ":created": text(str(order.get("createdAt", ""))),
        },
    )
    return {"orderId": order["orderId"], "totalCents": order["totalCents"]}


# --- ReserveInventory / ReleaseInventory -----------------------------------------------------


def reserve_inventory(dynamodb, inventory_table: str, orders_table: str, order: dict) -> dict[str, int]:
    """Take every item's units or none (OutOfStock); return what the order holds reserved."""
    order_id = order["orderId"]
    units = dict(sorted(units_by_sku(order).items()))
    stock_updates = [
        {
            "Update": {
                "TableName": inventory_table,
                "Key": {"sku": text(sku)},
                "UpdateExpression": "SET stock = stock - :units",
                "ConditionExpression": "stock >= :units",
                "ExpressionAttributeValues": {":units": number(count)},
            }
        }
        for sku, count in units.items()
    ]
    reservation_record = {
        "Update": {
            "TableName": orders_table,
            "Key": row_key(order_id),
            "UpdateExpression": "SET #status = :reserved, reservedItems = :items, reservedAt = :now",
            "ConditionExpression": "attribute_not_exists(reservedItems)",
            "ExpressionAttributeNames": STATUS_NAME,
            "ExpressionAttributeValues": {
                ":reserved": text(RESERVED),
                ":items": numbers(units),
                ":now": text(timestamp()),
            },
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }
    try:
        dynamodb.transact_write_items(TransactItems=[*stock_updates, reservation_record])
    except dynamodb.exceptions.TransactionCanceledException as error:
        reasons = error.response.get("CancellationReasons", [])
        stock_reasons, record_reason = reasons[: len(units)], (reasons[len(units)] if len(reasons) > len(units) else {})
        if record_reason.get("Code") == CONDITION_FAILED:  # a repeat: this order already holds its stock
            return OrderRow.from_item(record_reason["Item"]).reserved_items
        short = [
            f"{sku} (wanted {units[sku]})"
            for sku, reason in zip(units, stock_reasons, strict=False)
            if reason.get("Code") == CONDITION_FAILED
        ]
        if short:
            raise OutOfStock(f"not enough stock for order {order_id}: {', '.join(short)}") from None
        codes = sorted({reason.get("Code") for reason in reasons} - {"None", None})
        raise InventoryBusy(f"stock transaction for order {order_id} cancelled ({', '.join(codes) or 'no reason given'})") from None
    return units


def release_inventory(dynamodb, inventory_table: str, orders_table: str, order_id: str) -> dict[str, int]:
    """Give back exactly what the order reserved, once; nothing when it reserved nothing or is COMPLETED."""
    record = OrderRow.from_item(
        dynamodb.get_item(
            TableName=orders_table,
            Key=row_key(order_id),
            ConsistentRead=True,
            ProjectionExpression="reservedItems, releasedAt, #status",
            ExpressionAttributeNames=STATUS_NAME,
        ).get("Item", {})
    )
    if record.reserved_items is None or record.released_at is not None or record.status == COMPLETED:
        return {}
    units = record.reserved_items
    stock_returns = [
        {
            "Update": {
                "TableName": inventory_table,
                "Key": {"sku": text(sku)},
                "UpdateExpression": "SET stock = stock + :units",
                "ExpressionAttributeValues": {":units": number(count)},
            }
        }
        for sku, count in units.items()
    ]
    release_record = {
        "Update": {
            "TableName": orders_table,
            "Key": row_key(order_id),
            "UpdateExpression": "SET releasedAt = :now",
            "ConditionExpression": "attribute_exists(reservedItems) AND attribute_not_exists(releasedAt) AND #status <> :completed",
            "ExpressionAttributeNames": STATUS_NAME,
            "ExpressionAttributeValues": {":now": text(timestamp()), ":completed": text(COMPLETED)},
        }
    }
    try:
        dynamodb.transact_write_items(TransactItems=[*stock_returns, release_record])
    except dynamodb.exceptions.TransactionCanceledException as error:
        reasons = error.response.get("CancellationReasons", [])
        if len(reasons) > len(units) and reasons[len(units)].get("Code") == CONDITION_FAILED:
            return {}  # released (or completed) between our read and our write
        raise InventoryBusy(f"stock release for order {order_id} cancelled; it will be retried") from None
    return units


# --- ProcessPayment --------------------------------------------------------------------------


def charge_payment(dynamodb, orders_table: str, order: dict, attempt: int) -> dict:
    """Charge a RESERVED order through the gateway once; a repeat returns the recorded charge.

    The gateway is idempotent on orderId (the same payment id every time); the conditional write makes
    the charge itself happen once: chargeCount can only ever reach 1.
    """
    order_id, amount = order["orderId"], order["totalCents"]
    payment_id = authorize_payment(order_id, amount, attempt)
    try:
        dynamodb.update_item(
            TableName=orders_table,
            Key=row_key(order_id),
            UpdateExpression="SET paymentId = :payment, chargedCents = :amount, #status = :paid, paidAt = :now ADD chargeCount :one",
            ConditionExpression="attribute_not_exists(paymentId) AND #status = :reserved",
            ExpressionAttributeNames=STATUS_NAME,
            ExpressionAttributeValues={
                ":payment": text(payment_id),
                ":amount": number(amount),
                ":paid": text(PAID),
                ":reserved": text(RESERVED),
                ":now": text(timestamp()),
                ":one": number(1),
            },
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except dynamodb.exceptions.ConditionalCheckFailedException as error:
        recorded = OrderRow.from_item(error.response.get("Item", {}))
        if recorded.payment_id is not None:
            return {"paymentId": recorded.payment_id, "chargedCents": recorded.charged_cents}
        status = recorded.status or "unknown"
        raise OrderStateConflict(f"order {order_id} is {status}, not {RESERVED}: it cannot be charged") from None
    return {"paymentId": payment_id, "chargedCents": amount}


# --- SendNotification ------------------------------------------------------------------------


def publish_confirmation(sns, topic_arn: str, order: dict, payment: dict, receipt: dict) -> str:
    """The customer's confirmation of a COMPLETED order and its receipt on OrderEvents; orderId and totalCents also
    as message attributes for filtering."""
    message = {
        "event": "OrderConfirmed",
        "orderId": order["orderId"],
        "customerEmail": order["customer"]["email"],
        "totalCents": order["totalCents"],
        "currency": order["currency"],
        "paymentId": payment["paymentId"],
        "receiptKey": receipt["receiptKey"],
        "items": [{"sku": item["sku"], "quantity": item["quantity"]} for item in order["items"]],
    }
    return sns.publish(
        TopicArn=topic_arn,
        Subject=f"Order {order['orderId']} confirmed",
        Message=json.dumps(message),
        MessageAttributes={
            "event": {"DataType": "String", "StringValue": "OrderConfirmed"},
            "orderId": {"DataType": "String", "StringValue": order["orderId"]},
            "totalCents": {"DataType": "Number", "StringValue": str(order["totalCents"])},
        },
    )["MessageId"]


# --- GenerateReceipt -------------------------------------------------------------------------


def receipt_document(order: dict, payment: dict) -> dict:
    return {
        "orderId": order["orderId"],
        "customer": order["customer"],
        "items": order["items"],
        "currency": order["currency"],
        "totalCents": payment["chargedCents"],
        "paymentId": payment["paymentId"],
        "paymentMethod": order.get("paymentMethod"),
        "orderedAt": order.get("createdAt"),
    }


def issue_receipt(s3, dynamodb, bucket: str, orders_table: str, order: dict, payment: dict) -> dict:
    """Write receipts/{orderId}.json, then mark the order COMPLETED from PAID (a repeat completes nothing)."""
    order_id = order["orderId"]
    key = receipt_key(order_id)
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(receipt_document(order, payment)).encode(), ContentType="application/json")
    try:
        dynamodb.update_item(
            TableName=orders_table,
            Key=row_key(order_id),
            UpdateExpression="SET #status = :completed, completedAt = :now, receiptKey = :key",
            ConditionExpression="#status = :paid",
            ExpressionAttributeNames=STATUS_NAME,
            ExpressionAttributeValues={
                ":completed": text(COMPLETED),
                ":paid": text(PAID),
                ":now": text(timestamp()),
                ":key": text(key),
            },
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except dynamodb.exceptions.ConditionalCheckFailedException as error:
        status = OrderRow.from_item(error.response.get("Item", {})).status or "unknown"
        if status != COMPLETED:
            raise OrderStateConflict(f"order {order_id} is {status}, not {PAID}: it cannot be completed") from None
        return {"receiptKey": key, "completed": False}
    return {"receiptKey": key, "completed": True}


# --- MarkOrderFailed -------------------------------------------------------------------------


def workflow_order_id(event: dict) -> str:
    """The order's id, or, for an order too broken to carry one, the id in its S3 key."""
    order = event.get("order")
    if isinstance(order, dict) and isinstance(order.get("orderId"), str) and order["orderId"]:
        return order["orderId"]
    return order_id_from_key(event["source"]["key"])


def describe_failure(error: dict) -> tuple[str, str]:
    """(error name, readable reason) from a Step Functions Catch output {"Error", "Cause"}.

    A Lambda's Cause is its error JSON {"errorType", "errorMessage", "stackTrace"}; a States.* Cause is text.
    """
    name = error.get("Error") or "States.Unknown"
    cause = error.get("Cause") or ""
    try:
        message = json.loads(cause).get("errorMessage", cause)
    except (ValueError, AttributeError):
        message = cause
    reason = f"{name}: {message}" if message else name
    return name, reason[:FAILURE_REASON_MAX_CHARS]


def fail_order(
    dynamodb, sns, s3, orders_table: str, topic_arn: str, bucket: str, order_id: str, error: dict, release_error: dict | None = None
) -> dict:
    """Mark the order FAILED with its reason, remove its receipt, refund a charge, and tell OrderErrors once
    (failureNotifiedAt: a repeat after the message went out publishes nothing).

    A COMPLETED order is left alone. `release_error` (ReleaseInventory out of retries) is recorded as
    releaseError: the reservation stays on the row without releasedAt until repair_releases gives it back.
    """
    error_name, reason = describe_failure(error)
    update = "SET #status = :failed, reason = :reason, errorName = :name, failedAt = if_not_exists(failedAt, :now)"
    values = {
        ":failed": text(FAILED),
        ":completed": text(COMPLETED),
        ":reason": text(reason),
        ":name": text(error_name),
        ":now": text(timestamp()),
    }
    if release_error is not None:
        update += ", releaseError = :release_error"
        values[":release_error"] = text(describe_failure(release_error)[1])
    try:
        record = OrderRow.from_item(
            dynamodb.update_item(
                TableName=orders_table,
                Key=row_key(order_id),
                UpdateExpression=update,
                ConditionExpression="attribute_not_exists(#status) OR #status <> :completed",
                ExpressionAttributeNames=STATUS_NAME,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )["Attributes"]
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return {"orderId": order_id, "errorName": error_name, "reason": reason, "markedFailed": False, "told": False}
    if record.charged_cents is not None:
        # Only a paid order can have reached GenerateReceipt: a receipt it wrote before failing must not stay.
        s3.delete_object(Bucket=bucket, Key=receipt_key(order_id))
        _refund(dynamodb, orders_table, order_id, record.charged_cents)
    told = record.failure_notified_at is None
    if told:
        _publish_failure(sns, topic_arn, order_id, error_name, reason)
        dynamodb.update_item(
            TableName=orders_table,
            Key=row_key(order_id),
            UpdateExpression="SET failureNotifiedAt = :now",
            ExpressionAttributeValues={":now": text(timestamp())},
        )
    return {"orderId": order_id, "errorName": error_name, "reason": reason, "markedFailed": True, "told": told}


def _publish_failure(sns, topic_arn: str, order_id: str, error_name: str, reason: str) -> None:
    """The customer's one failure message (a repeat of fail_order finds failureNotifiedAt and stays silent)."""
    sns.publish(
        TopicArn=topic_arn,
        Subject=f"Order {order_id} failed: {error_name}"[:100],
        Message=json.dumps({"event": "OrderFailed", "orderId": order_id, "errorName": error_name, "reason": reason}),
        MessageAttributes={
            "event": {"DataType": "String", "StringValue": "OrderFailed"},
            "orderId": {"DataType": "String", "StringValue": order_id},
            "errorName": {"DataType": "String", "StringValue": error_name},
        },
    )


def _refund(dynamodb, orders_table: str, order_id: str, amount: int) -> None:
    """A failed order keeps no charge: the simulated gateway voids it, so payments always equal receipts."""
    try:
        dynamodb.update_item(
            TableName=orders_table,
            Key=row_key(order_id),
            UpdateExpression="SET refundedCents = :amount, refundedAt = :now REMOVE chargedCents",
            ConditionExpression="chargedCents = :amount",
            ExpressionAttributeValues={":amount": number(amount), ":now": text(timestamp())},
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        pass  # a repeat: already refunded


# --- Repair: reservations whose release failed -------------------------------------------------


def unreleased_reservations(dynamodb, orders_table: str) -> dict[str, OrderRow]:
    """orderId -> row of every FAILED order still holding its reservation (ReleaseInventory ran out of retries)."""
    items = scan_all(
        dynamodb,
        orders_table,
        ConsistentRead=True,
        FilterExpression="#status = :failed AND attribute_exists(reservedItems) AND attribute_not_exists(releasedAt)",
        ExpressionAttributeNames=STATUS_NAME,
        ExpressionAttributeValues={":failed": text(FAILED)},
    )
    return {row.order_id: row for row in map(OrderRow.from_item, items)}


def repair_releases(dynamodb, inventory_table: str, orders_table: str) -> dict[str, dict[str, int]]:
    """Give back every unreleased reservation of a FAILED order; orderId -> units returned by this call.

    release_inventory's conditional transaction (releasedAt) makes each return happen once, however many
    repairs run, at the same time or again.
    """
    returned = {}
    for order_id in sorted(unreleased_reservations(dynamodb, orders_table)):
        units = release_inventory(dynamodb, inventory_table, orders_table, order_id)
        if units:
            returned[order_id] = units
    return returned
