"""ReserveInventory: every item or none in one transaction (an OutOfStock rejection); the reservation is recorded on the order."""

import os

import boto3

from blackfriday import fulfillment
from blackfriday.telemetry import order_step

INVENTORY_TABLE = os.environ["INVENTORY_TABLE"]
ORDERS_TABLE = os.environ["ORDERS_TABLE"]
dynamodb = boto3.client("dynamodb")


@order_step
def handler(event, context):
    reserved = fulfillment.reserve_inventory(dynamodb, INVENTORY_TABLE, ORDERS_TABLE, event["order"])
    return {"reservedItems": reserved}
