"""AwaitApproval (.waitForTaskToken): records the task token and AWAITING_APPROVAL on a big order and announces it on Approvals.

The workflow resumes when a reviewer answers the token (approve.py, the API), or fails ApprovalExpired at its TimeoutSeconds.
"""

import os

import boto3

from blackfriday import approvals
from blackfriday.telemetry import order_step

ORDERS_TABLE = os.environ["ORDERS_TABLE"]
APPROVALS_TOPIC_ARN = os.environ["APPROVALS_TOPIC_ARN"]
dynamodb = boto3.client("dynamodb")
sns = boto3.client("sns")


@order_step
def handler(event, context):
    return approvals.request_approval(
        dynamodb, sns, ORDERS_TABLE, APPROVALS_TOPIC_ARN, event["order"], event["token"], int(event["timeoutSeconds"])
    )
