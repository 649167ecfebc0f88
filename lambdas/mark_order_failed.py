"""MarkOrderFailed: status FAILED with the reason from the caught error, no receipt, one message on OrderErrors; counted by reason.

A receipt written before the failure is removed from the order's own bucket ($.source.bucket). When the
state machine passes "releaseError" (ReleaseInventory ran out of retries), it is recorded on the order.
"""

import os

import boto3

from blackfriday import fulfillment
from blackfriday.telemetry import count_failed, order_step

ORDERS_TABLE = os.environ["ORDERS_TABLE"]
ORDER_ERRORS_TOPIC_ARN = os.environ["ORDER_ERRORS_TOPIC_ARN"]
dynamodb = boto3.client("dynamodb")
sns = boto3.client("sns")
s3 = boto3.client("s3")


@order_step
def handler(event, context):
    order_id = fulfillment.workflow_order_id(event)
    failure = fulfillment.fail_order(
        dynamodb,
        sns,
        s3,
        ORDERS_TABLE,
        ORDER_ERRORS_TOPIC_ARN,
        event["source"]["bucket"],
        order_id,
        event["error"],
        event.get("releaseError"),
    )
    if failure["told"]:  # once per order, like the customer's message
        count_failed(failure["errorName"])
    return failure
