"""What the running pipeline looks like right now: a snapshot, and one order's journey."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from blackfriday.domain import PRODUCTS, OrderStatus
from blackfriday.journey import journey_of
from blackfriday.order_rows import STATUS_NAME, OrderRow
from blackfriday.tables import scan_all, stock_levels

if TYPE_CHECKING:
    from blackfriday.deployment.stack import StackInfo

QUEUE_DEPTH_ATTRIBUTES = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
EXECUTION_STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


def queue_depths(sqs, url: str) -> dict[str, int]:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=QUEUE_DEPTH_ATTRIBUTES)["Attributes"]
    return {
        "visible": int(attributes["ApproximateNumberOfMessages"]),
        "in_flight": int(attributes["ApproximateNumberOfMessagesNotVisible"]),
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
    items = scan_all(dynamodb, info.tables["orders"], ProjectionExpression="#status, errorName", ExpressionAttributeNames=STATUS_NAME)
    rows = list(map(OrderRow.from_item, items))
    orders = Counter(row.status or "UNKNOWN" for row in rows)
    reasons = Counter(row.error_name or "unknown" for row in rows if row.status == OrderStatus.FAILED)
    stock = stock_levels(dynamodb, info.tables["inventory"])
    sold = {sku: PRODUCTS[sku].initial_stock - level for sku, level in stock.items() if sku in PRODUCTS}
    hottest_skus = sorted(sold, key=lambda sku: (-sold[sku], sku))[:hottest]
    return {
        "queues": queues,
        "orders": in_lifecycle_order(orders),
        "failed_by_reason": dict(reasons.most_common()),
        "awaiting_approval": orders[OrderStatus.AWAITING_APPROVAL],
        "executions": execution_counts(gateway.client("stepfunctions"), info.state_machine_arn),
        "stock": [{"sku": sku, "initial": PRODUCTS[sku].initial_stock, "stock": stock[sku], "sold": sold[sku]} for sku in hottest_skus],
    }


def order_journey(gateway, names, info: StackInfo, order_id: str) -> dict:
    clients = gateway.client("s3"), gateway.client("dynamodb"), gateway.client("stepfunctions")
    return journey_of(*clients, info.bucket, info.tables["orders"], names.execution_arn(order_id), order_id)
