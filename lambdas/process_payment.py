"""ProcessPayment: the simulated gateway, charged once per orderId (PaymentDeclined, PaymentGatewayTimeout).

`attempt` is the state's $$.State.RetryCount, passed in by the state machine.
"""

import os

import boto3

from blackfriday import fulfillment

ORDERS_TABLE = os.environ["ORDERS_TABLE"]
dynamodb = boto3.client("dynamodb")


def handler(event, context):
    return fulfillment.charge_payment(dynamodb, ORDERS_TABLE, event["order"], int(event.get("attempt", 0)))
