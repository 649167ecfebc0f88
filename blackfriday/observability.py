"""What the Lambdas tell CloudWatch, named in one place: business metrics and JSON log lines per order.

Metrics (CloudWatch embedded metric format in the functions' logs, written by blackfriday.telemetry):
- METRICS_NAMESPACE / ORDERS_COMPLETED, dimensions {SERVICE_DIMENSION}: one per order COMPLETED
  (GenerateReceipt, when it completes the order);
- METRICS_NAMESPACE / ORDERS_FAILED, dimensions {SERVICE_DIMENSION} and again {SERVICE_DIMENSION,
  REASON_DIMENSION} (the error name: ValidationError, OutOfStock, PaymentDeclined, ...): one per order
  marked FAILED (MarkOrderFailed).
Every value is a Count of 1; the service dimension's value is SERVICE_NAME.

Log lines are JSON with ORDER_ID_KEY and EXECUTION_KEY (the execution's name, which is the orderId
for the consumer's executions), so one order's lines can be found across every function.
"""

from __future__ import annotations

import json

METRICS_NAMESPACE = "BlackFriday/Orders"
SERVICE_NAME = "order-processing"
SERVICE_DIMENSION = "service"  # Powertools' name for it
ORDERS_COMPLETED = "OrdersCompleted"
ORDERS_FAILED = "OrdersFailed"
REASON_DIMENSION = "Reason"
ORDER_ID_KEY = "orderId"
EXECUTION_KEY = "execution"


def order_log_filter(order_id: str) -> str:
    """A CloudWatch Logs JSON filter pattern for one order's lines."""
    return f'{{ $.{ORDER_ID_KEY} = "{order_id}" }}'


def order_log_lines(logs, log_group_names, order_id: str) -> list[dict]:
    """Every JSON line logged about the order in the given log groups, oldest first, each with its logGroup.

    The filter narrows the search on the service; each line is also parsed and its orderId checked,
    because a line is shown by its fields and because moto (5.2.5) ignores JSON filter patterns.
    """
    lines = []
    for group in log_group_names:
        pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group, filterPattern=order_log_filter(order_id))
        try:
            for page in pages:
                for event in page["events"]:
                    try:
                        record = json.loads(event["message"])
                    except ValueError:
                        continue  # the runtime's own START/END/REPORT lines
                    if isinstance(record, dict) and record.get(ORDER_ID_KEY) == order_id:
                        lines.append({"logGroup": group, "timestamp": event["timestamp"], **record})
        except logs.exceptions.ResourceNotFoundException:
            continue  # a function that never ran has no log group yet
    return sorted(lines, key=lambda line: line["timestamp"])
