"""ValidateOrder: schema, known SKUs, quantities and total (a ValidationError rejection); records the order as RECEIVED."""

import os

import boto3

from blackfriday import fulfillment
from blackfriday.telemetry import order_step

ORDERS_TABLE = os.environ["ORDERS_TABLE"]
dynamodb = boto3.client("dynamodb")


@order_step
def handler(event, context):
    return fulfillment.accept_order(dynamodb, ORDERS_TABLE, event["order"])
