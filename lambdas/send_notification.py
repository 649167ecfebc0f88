"""SendNotification: the confirmation of a COMPLETED order and its receipt on OrderEvents (orderId and totalCents as message attributes)."""

import os

import boto3

from blackfriday import fulfillment
from blackfriday.telemetry import order_step

ORDER_EVENTS_TOPIC_ARN = os.environ["ORDER_EVENTS_TOPIC_ARN"]
sns = boto3.client("sns")


@order_step
def handler(event, context):
    message_id = fulfillment.publish_confirmation(sns, ORDER_EVENTS_TOPIC_ARN, event["order"], event["payment"], event["receipt"])
    return {"messageId": message_id}
