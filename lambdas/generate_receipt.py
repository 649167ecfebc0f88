"""GenerateReceipt: writes receipts/{orderId}.json, then marks the order COMPLETED (only from PAID, so only once) and counts it."""

import os

import boto3

from blackfriday import fulfillment
from blackfriday.telemetry import count_completed, order_step

BUCKET = os.environ["BUCKET"]
ORDERS_TABLE = os.environ["ORDERS_TABLE"]
s3 = boto3.client("s3")
dynamodb = boto3.client("dynamodb")


@order_step
def handler(event, context):
    receipt = fulfillment.issue_receipt(s3, dynamodb, BUCKET, ORDERS_TABLE, event["order"], event["payment"])
    if receipt["completed"]:
        count_completed()
    return receipt
