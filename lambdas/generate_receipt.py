"""GenerateReceipt: writes receipts/{orderId}.json and marks the order COMPLETED (only from PAID, so only once)."""

import os

import boto3

from blackfriday import fulfillment

BUCKET = os.environ["BUCKET"]
ORDERS_TABLE = os.environ["ORDERS_TABLE"]
s3 = boto3.client("s3")
dynamodb = boto3.client("dynamodb")


def handler(event, context):
    return fulfillment.issue_receipt(s3, dynamodb, BUCKET, ORDERS_TABLE, event["order"], event["payment"])
