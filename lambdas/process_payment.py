"""ProcessPayment: the simulated gateway, charged once per orderId (a PaymentDeclined rejection; PaymentGatewayTimeout is
raised and retried).

`attempt` is the state's $$.State.RetryCount, passed in by the state machine.
"""

import os

import boto3

from blackfriday import fulfillment
from blackfriday.telemetry import order_step

ORDERS_TABLE = os.environ["ORDERS_TABLE"]
dynamodb = boto3.client("dynamodb")


@order_step
def handler(event, context):
    return fulfillment.charge_payment(dynamodb, ORDERS_TABLE, event["order"], int(event.get("attempt", 0)))
