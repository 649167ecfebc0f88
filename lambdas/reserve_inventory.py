"""ReserveInventory: every item or none in one transaction (an OutOfStock rejection); the reservation is recorded on the order.

It also says whether a person must approve the order (total at or over APPROVAL_THRESHOLD_CENTS) and how long the
workflow waits for that (APPROVAL_TIMEOUT_SECONDS): setup_infra.py --approval-threshold / --approval-timeout set both.
"""

import os

import boto3

from blackfriday import fulfillment
from blackfriday.domain import needs_approval
from blackfriday.telemetry import order_step

INVENTORY_TABLE = os.environ["INVENTORY_TABLE"]
ORDERS_TABLE = os.environ["ORDERS_TABLE"]
APPROVAL_THRESHOLD_CENTS = int(os.environ["APPROVAL_THRESHOLD_CENTS"])
APPROVAL_TIMEOUT_SECONDS = int(os.environ["APPROVAL_TIMEOUT_SECONDS"])
dynamodb = boto3.client("dynamodb")


@order_step
def handler(event, context):
    reserved = fulfillment.reserve_inventory(dynamodb, INVENTORY_TABLE, ORDERS_TABLE, event["order"])
    return {
        "reservedItems": reserved,
        "needsApproval": needs_approval(event["order"], APPROVAL_THRESHOLD_CENTS),
        "approvalTimeoutSeconds": APPROVAL_TIMEOUT_SECONDS,
    }
