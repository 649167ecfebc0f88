"""MarkOrderFailed: status FAILED with the reason from the caught error, and a message on OrderErrors."""

import os

import boto3

from blackfriday import fulfillment

ORDERS_TABLE = os.environ["ORDERS_TABLE"]
ORDER_ERRORS_TOPIC_ARN = os.environ["ORDER_ERRORS_TOPIC_ARN"]
dynamodb = boto3.client("dynamodb")
sns = boto3.client("sns")


def handler(event, context):
    order_id = fulfillment.workflow_order_id(event)
    return fulfillment.fail_order(dynamodb, sns, ORDERS_TABLE, ORDER_ERRORS_TOPIC_ARN, order_id, event["error"])
