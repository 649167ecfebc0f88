"""ValidateOrder: schema, known SKUs, quantities and total (ValidationError); records the order as RECEIVED."""

import os

import boto3

from blackfriday import fulfillment

ORDERS_TABLE = os.environ["ORDERS_TABLE"]
dynamodb = boto3.client("dynamodb")


def handler(event, context):
    return fulfillment.accept_order(dynamodb, ORDERS_TABLE, event["order"])
