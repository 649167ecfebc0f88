"""SendNotification: the order confirmation on OrderEvents (orderId and totalCents as message attributes)."""

import os

import boto3

from blackfriday import fulfillment

ORDER_EVENTS_TOPIC_ARN = os.environ["ORDER_EVENTS_TOPIC_ARN"]
sns = boto3.client("sns")


def handler(event, context):
    message_id = fulfillment.publish_confirmation(sns, ORDER_EVENTS_TOPIC_ARN, event["order"], event["payment"])
    return {"messageId": message_id}
