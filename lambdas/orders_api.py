"""OrdersApi: API Gateway's Lambda proxy integration over the order API's route functions (blackfriday.api.routes)."""

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
    return routes.handle(STORE, routes.ApiRequest.from_proxy_event(event)).to_proxy()
