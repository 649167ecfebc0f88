"""What the running pipeline looks like right now: a snapshot, and one order's journey."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING

from blackfriday.domain import PRODUCTS, OrderStatus, order_key, receipt_key
from blackfriday.order_rows import STATUS_NAME, row_key

if TYPE_CHECKING:  # the order API's routes use this module, and the manifest (which resources.stack reads) lists the API's routes
    from blackfriday.resources.stack import StackInfo

QUEUE_DEPTH_ATTRIBUTES = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
EXECUTION_STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
TOKEN_ATTRIBUTE = "approvalToken"


def queue_depths(sqs, url: str) -> dict[str, int]:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=QUEUE_DEPTH_ATTRIBUTES)["Attributes"]
    return {
        "visible": int(attributes["ApproximateNumberOfMessages"]),
        "in_flight": int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    }


def scan_all(dynamodb, table: str, **kwargs):
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, **kwargs):
        yield from page["Items"]


def stock_levels(dynamodb, info: StackInfo) -> dict[str, int]:
    return {
        item["sku"]["S"]: int(item["stock"]["N"])
        for item in scan_all(dynamodb, info.tables["inventory"], ProjectionExpression="sku, stock")
    }


def execution_counts(stepfunctions, state_machine_arn: str) -> dict[str, int]:
    counts = Counter()
    for page in stepfunctions.get_paginator("list_executions").paginate(stateMachineArn=state_machine_arn):
        counts.update(execution["status"] for execution in page["executions"])
    return {status: counts.get(status, 0) for status in EXECUTION_STATUSES}


def in_lifecycle_order(orders: Counter) -> dict[str, int]:
    """Orders per status, in the order an order goes through them; a status the code does not know comes last."""
    unknown = sorted(set(orders) - set(OrderStatus))
    return {status: orders[status] for status in [*OrderStatus, *unknown] if orders[status]}


def snapshot(gateway, info: StackInfo, hottest: int = 6) -> dict:
    sqs, dynamodb = gateway.client("sqs"), gateway.client("dynamodb")
    queues = {}
    for name, queue in info.queues.items():
        queues[name] = {**queue_depths(sqs, queue.url), "dlq": queue_depths(sqs, queue.dlq_url)["visible"]}
    queues["notifications"] = queue_depths(sqs, info.notifications.url)
    rows = list(scan_all(dynamodb, info.tables["orders"], ProjectionExpression="#status, errorName", ExpressionAttributeNames=STATUS_NAME))
    orders = Counter(row.get("status", {}).get("S", "UNKNOWN") for row in rows)
    reasons = Counter(row.get("errorName", {}).get("S", "unknown") for row in rows if row.get("status", {}).get("S") == OrderStatus.FAILED)
    stock = stock_levels(dynamodb, info)
    sold = {sku: PRODUCTS[sku].initial_stock - level for sku, level in stock.items() if sku in PRODUCTS}
    hottest_skus = sorted(sold, key=lambda sku: (-sold[sku], sku))[:hottest]
    return {
        "queues": queues,
        "orders": in_lifecycle_order(orders),
        "failed_by_reason": dict(reasons.most_common()),
        "awaiting_approval": orders[OrderStatus.AWAITING_APPROVAL],
        "executions": execution_counts(gateway.client("stepfunctions"), info.state_machine_arn),
        "stock": [
            {"sku": sku, "initial": PRODUCTS[sku].initial_stock, "stock": stock[sku], "sold": sold[sku]}
            for sku in hottest_skus
        ],
    }


def _get_json(s3, bucket: str, key: str) -> tuple[bool, object]:
    """(exists, parsed JSON or the raw text when it is not JSON)."""
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return False, None
    try:
        return True, json.loads(body)
    except ValueError:
        return True, body[:200].decode("utf-8", "replace")


def _entered_states(stepfunctions, execution_arn: str) -> list[str]:
    """The states the execution entered, in order, from its history (oldest first)."""
    entered = []
    for page in stepfunctions.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        for event in page["events"]:
            if event["type"].endswith("StateEntered"):
                entered.append(event["stateEnteredEventDetails"]["name"])
    return entered


def order_journey(gateway, names, info: StackInfo, order_id: str) -> dict:
    clients = gateway.client("s3"), gateway.client("dynamodb"), gateway.client("stepfunctions")
    return journey_of(*clients, info.bucket, info.tables["orders"], names.execution_arn(order_id), order_id)


def journey_of(s3, dynamodb, stepfunctions, bucket: str, orders_table: str, execution_arn: str, order_id: str) -> dict:
    """The journey from plain clients and names: also what the orders API's Lambda answers GET /orders/{id} with."""
    key = order_key(order_id)
    uploaded, order = _get_json(s3, bucket, key)
    execution = None
    try:
        described = stepfunctions.describe_execution(executionArn=execution_arn)
        entered = _entered_states(stepfunctions, described["executionArn"])
        execution = {
            "status": described["status"],
            "started": described["startDate"].isoformat(),
            "stopped": described["stopDate"].isoformat() if described.get("stopDate") else None,
            "last_step": entered[-1] if entered else None,
            "steps": entered,
            "error": described.get("error"),
            "cause": described.get("cause"),
        }
    except stepfunctions.exceptions.ExecutionDoesNotExist:
        pass
    row = dynamodb.get_item(TableName=orders_table, Key=row_key(order_id)).get("Item")
    has_receipt, receipt = _get_json(s3, bucket, receipt_key(order_id))
    return {
        "order_id": order_id,
        "object": {"key": key, "uploaded": uploaded, "order": order},
        "execution": execution,
        # the task token stays out: whoever holds it can decide the order
        "row": {name: next(iter(value.values())) for name, value in row.items() if name != TOKEN_ATTRIBUTE} if row else None,
        "receipt": receipt if has_receipt else None,
        "failure_reason": (row or {}).get("reason", {}).get("S"),
    }

