"""What each workflow Lambda needs: its environment and the only actions it may call, on which resources.

setup_infra builds each function's IAM role from this table (least privilege), and the handlers
in lambdas/ read exactly these environment variables. Keep both sides in step when a handler changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from blackfriday.names import StackNames


@dataclass(frozen=True)
class Grant:
    actions: tuple[str, ...]
    resource: str  # a logical resource: see resource_arns()


@dataclass(frozen=True)
class FunctionSpec:
    short_name: str  # lambdas/<short_name>.py, handler "<short_name>.handler"
    description: str
    environment: tuple[str, ...]  # logical names, see environment_values()
    grants: tuple[Grant, ...]
    timeout_seconds: int = 10
    memory_mb: int = 256


# TransactWriteItems has no IAM action of its own: each Update inside a transaction needs dynamodb:UpdateItem.
_UPDATE_ORDER = Grant(("dynamodb:UpdateItem",), "orders_table")
_UPDATE_STOCK = Grant(("dynamodb:UpdateItem",), "inventory_table")

FUNCTION_SPECS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        "validate_order",
        "Checks schema, known SKUs, quantities and total; records the order as RECEIVED.",
        ("ORDERS_TABLE",),
        (_UPDATE_ORDER,),
    ),
    FunctionSpec(
        "reserve_inventory",
        "Reserves every item of the order or none (one conditional transaction).",
        ("INVENTORY_TABLE", "ORDERS_TABLE"),
        (_UPDATE_STOCK, _UPDATE_ORDER),
    ),
    FunctionSpec(
        "process_payment",
        "Charges the order once through the simulated gateway (keyed by orderId).",
        ("ORDERS_TABLE",),
        (_UPDATE_ORDER,),
    ),
    FunctionSpec(
        "send_notification",
        "Publishes the order confirmation to OrderEvents.",
        ("ORDER_EVENTS_TOPIC_ARN",),
        (Grant(("sns:Publish",), "order_events_topic"),),
    ),
    FunctionSpec(
        "generate_receipt",
        "Writes receipts/{orderId}.json and marks the order COMPLETED.",
        ("BUCKET", "ORDERS_TABLE"),
        (Grant(("s3:PutObject",), "receipts_objects"), _UPDATE_ORDER),
    ),
    FunctionSpec(
        "release_inventory",
        "Gives back exactly what the order reserved (compensation).",
        ("INVENTORY_TABLE", "ORDERS_TABLE"),
        (_UPDATE_STOCK, Grant(("dynamodb:GetItem", "dynamodb:UpdateItem"), "orders_table")),
    ),
    FunctionSpec(
        "mark_order_failed",
        "Marks the order FAILED with its reason and publishes to OrderErrors.",
        ("ORDERS_TABLE", "ORDER_ERRORS_TOPIC_ARN"),
        (_UPDATE_ORDER, Grant(("sns:Publish",), "order_errors_topic")),
    ),
)


def spec(short_name: str) -> FunctionSpec:
    return next(item for item in FUNCTION_SPECS if item.short_name == short_name)


def resource_arns(names: StackNames) -> dict[str, str]:
    return {
        "orders_table": names.table_arn(names.orders_table),
        "inventory_table": names.table_arn(names.inventory_table),
        "order_events_topic": names.topic_arn(names.order_events_topic),
        "order_errors_topic": names.topic_arn(names.order_errors_topic),
        "receipts_objects": f"{names.bucket_arn}/receipts/*",
    }


def environment_values(names: StackNames) -> dict[str, str]:
    return {
        "ORDERS_TABLE": names.orders_table,
        "INVENTORY_TABLE": names.inventory_table,
        "BUCKET": names.bucket,
        "ORDER_EVENTS_TOPIC_ARN": names.topic_arn(names.order_events_topic),
        "ORDER_ERRORS_TOPIC_ARN": names.topic_arn(names.order_errors_topic),
    }
