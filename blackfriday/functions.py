"""What each Lambda needs: its environment and the only actions it may call, on which resources.

The stack's declaration (blackfriday/stack_declaration.py) gives each function a log group, a role built from these grants
(least privilege) and the environment variables named here, whose values it derives from the resources
that declare them. The handlers in lambdas/ read exactly these variables: keep both sides in step.
"""

from __future__ import annotations

from dataclasses import dataclass

from blackfriday.domain import FLAKY_PER_MILLE


@dataclass(frozen=True)
class Grant:
    actions: tuple[str, ...]
    resource: str  # the key of a resource of the manifest, e.g. "table:orders"
    path: str = ""  # appended to the resource's ARN, e.g. "/receipts/*" for objects of a bucket
    executions: bool = False  # the resource's executions (a state machine's), whose ARNs are not its ARN plus a path
    # Actions IAM cannot scope to a resource: SendTaskSuccess/Failure with a service integration's task token ("*");
    # `resource` still says whose tokens they answer.
    unscoped: bool = False


@dataclass(frozen=True)
class FunctionSpec:
    short_name: str  # lambdas/<short_name>.py, handler "<short_name>.handler"
    description: str
    environment: tuple[str, ...]  # variables some resource of the manifest declares
    grants: tuple[Grant, ...]
    timeout_seconds: int = 10
    memory_mb: int = 256
    # The share of invocations a dependency makes fail in normal running, each retried by the workflow (a payment
    # gateway's timeouts): its errors alarm watches the error rate instead of every error. None: any error is a fault.
    normal_error_percent: float | None = None


# TransactWriteItems has no IAM action of its own: each Update inside a transaction needs dynamodb:UpdateItem.
_UPDATE_ORDER = Grant(("dynamodb:UpdateItem",), "table:orders")
_UPDATE_STOCK = Grant(("dynamodb:UpdateItem",), "table:inventory")

# The workflow's steps (the ASL names them).
FUNCTION_SPECS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        "validate_order",
        "Checks schema, known SKUs, quantities and total; records the order as RECEIVED.",
        ("ORDERS_TABLE",),
        (_UPDATE_ORDER,),
    ),
    FunctionSpec(
        "reserve_inventory",
        "Reserves every item of the order or none (one conditional transaction); says whether a person must approve it.",
        ("INVENTORY_TABLE", "ORDERS_TABLE", "APPROVAL_THRESHOLD_CENTS", "APPROVAL_TIMEOUT_SECONDS"),
        (_UPDATE_STOCK, _UPDATE_ORDER),
    ),
    FunctionSpec(
        "request_approval",
        "Records the task token and AWAITING_APPROVAL on a big order and announces it on Approvals.",
        ("ORDERS_TABLE", "APPROVALS_TOPIC_ARN"),
        (_UPDATE_ORDER, Grant(("sns:Publish",), "topic:approvals")),
    ),
    FunctionSpec(
        "process_payment",
        "Charges the order once through the simulated gateway (keyed by orderId).",
        ("ORDERS_TABLE",),
        (_UPDATE_ORDER,),
        normal_error_percent=FLAKY_PER_MILLE / 10,
    ),
    FunctionSpec(
        "send_notification",
        "Publishes the order confirmation to OrderEvents.",
        ("ORDER_EVENTS_TOPIC_ARN",),
        (Grant(("sns:Publish",), "topic:order_events"),),
    ),
    FunctionSpec(
        "generate_receipt",
        "Writes receipts/{orderId}.json and marks the order COMPLETED.",
        ("BUCKET", "ORDERS_TABLE"),
        (Grant(("s3:PutObject",), "bucket", "/receipts/*"), _UPDATE_ORDER),
    ),
    FunctionSpec(
        "release_inventory",
        "Gives back exactly what the order reserved (compensation).",
        ("INVENTORY_TABLE", "ORDERS_TABLE"),
        (_UPDATE_STOCK, Grant(("dynamodb:GetItem", "dynamodb:UpdateItem"), "table:orders")),
    ),
    FunctionSpec(
        "mark_order_failed",
        "Marks the order FAILED with its reason, removes a receipt written before the failure, publishes to OrderErrors.",
        ("ORDERS_TABLE", "ORDER_ERRORS_TOPIC_ARN"),
        (_UPDATE_ORDER, Grant(("s3:DeleteObject",), "bucket", "/receipts/*"), Grant(("sns:Publish",), "topic:order_errors")),
    ),
)

# The order API behind API Gateway (not a workflow step: the REST API of the manifest invokes it).
ORDERS_API_FUNCTION = FunctionSpec(
    "orders_api",
    "The order API behind API Gateway: storefront page, catalogue, order placement, journey, receipt and approvals.",
    ("BUCKET", "INVENTORY_TABLE", "ORDERS_TABLE", "STATE_MACHINE_ARN"),
    (
        # PutObject with If-None-Match; HeadObject (a replayed Idempotency-Key) is authorised by s3:GetObject.
        Grant(("s3:PutObject", "s3:GetObject"), "bucket", "/orders/*"),
        Grant(("s3:GetObject",), "bucket", "/receipts/*"),
        # Without ListBucket a missing key is 403 AccessDenied instead of 404 NoSuchKey (journey, receipt).
        Grant(("s3:ListBucket",), "bucket"),
        Grant(("dynamodb:Scan",), "table:inventory"),
        # GetItem: a journey; Scan: the orders waiting for approval; UpdateItem: claiming a decision (exactly once).
        Grant(("dynamodb:GetItem", "dynamodb:Scan", "dynamodb:UpdateItem"), "table:orders"),
        Grant(("states:DescribeExecution", "states:GetExecutionHistory"), "state_machine", executions=True),
        Grant(("states:SendTaskSuccess", "states:SendTaskFailure"), "state_machine", unscoped=True),
    ),
)


def spec(short_name: str) -> FunctionSpec:
    return next(item for item in (*FUNCTION_SPECS, ORDERS_API_FUNCTION) if item.short_name == short_name)
