"""One order's journey (object, execution, row, receipt) from plain clients and names: what `status.py --order`
shows and what the order API answers GET /orders/{id} with. Below both, so neither imports the other."""

from __future__ import annotations

import json

from blackfriday.domain import order_key, receipt_key
from blackfriday.order_rows import OrderRow, row_key
from blackfriday.tables import stored_text

TOKEN_ATTRIBUTE = "approvalToken"


def get_json(s3, bucket: str, key: str) -> tuple[bool, object]:
    """(exists, parsed JSON or the raw text when it is not JSON)."""
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return False, None
    try:
        return True, json.loads(body)
    except ValueError:
        return True, body[:200].decode("utf-8", "replace")


def entered_states(stepfunctions, execution_arn: str) -> list[str]:
    """The states the execution entered, in order, from its history (oldest first)."""
    entered = []
    for page in stepfunctions.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        for event in page["events"]:
            if event["type"].endswith("StateEntered"):
                entered.append(event["stateEnteredEventDetails"]["name"])
    return entered


def journey_of(s3, dynamodb, stepfunctions, bucket: str, orders_table: str, execution_arn: str, order_id: str) -> dict:
    """The journey from plain clients and names: also what the orders API's Lambda answers GET /orders/{id} with."""
    key = order_key(order_id)
    uploaded, order = get_json(s3, bucket, key)
    execution = None
    try:
        described = stepfunctions.describe_execution(executionArn=execution_arn)
        entered = entered_states(stepfunctions, described["executionArn"])
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
    item = dynamodb.get_item(TableName=orders_table, Key=row_key(order_id)).get("Item")
    has_receipt, receipt = get_json(s3, bucket, receipt_key(order_id))
    return {
        "order_id": order_id,
        "object": {"key": key, "uploaded": uploaded, "order": order},
        "execution": execution,
        # the task token stays out: whoever holds it can decide the order
        "row": {name: value for name, value in stored_text(item).items() if name != TOKEN_ATTRIBUTE} if item else None,
        "receipt": receipt if has_receipt else None,
        "failure_reason": OrderRow.from_item(item or {}).reason,
    }
