"""OrdersApi: API Gateway's Lambda proxy integration, answered by the order API's Powertools app (blackfriday.api.routes)."""

import os

import boto3

from blackfriday.api import routes

STORE = routes.Store(
    s3=boto3.client("s3"),
    dynamodb=boto3.client("dynamodb"),
    stepfunctions=boto3.client("stepfunctions"),
    bucket=os.environ["BUCKET"],
    inventory_table=os.environ["INVENTORY_TABLE"],
    orders_table=os.environ["ORDERS_TABLE"],
    state_machine_arn=os.environ["STATE_MACHINE_ARN"],
)


def handler(event, context):
    return routes.answer(STORE, event, context)
