"""ReleaseInventory (compensation): gives back exactly what the order reserved, once."""

import os

import boto3

from blackfriday import fulfillment
from blackfriday.telemetry import order_step

INVENTORY_TABLE = os.environ["INVENTORY_TABLE"]
ORDERS_TABLE = os.environ["ORDERS_TABLE"]
dynamodb = boto3.client("dynamodb")


@order_step
def handler(event, context):
    released = fulfillment.release_inventory(dynamodb, INVENTORY_TABLE, ORDERS_TABLE, event["orderId"])
    return {"releasedItems": released}
