"""ReserveInventory: every item or none in one transaction (OutOfStock); the reservation is recorded on the order."""

import os

import boto3

from blackfriday import fulfillment

INVENTORY_TABLE = os.environ["INVENTORY_TABLE"]
ORDERS_TABLE = os.environ["ORDERS_TABLE"]
dynamodb = boto3.client("dynamodb")


def handler(event, context):
    reserved = fulfillment.reserve_inventory(dynamodb, INVENTORY_TABLE, ORDERS_TABLE, event["order"])
    return {"reservedItems": reserved}
