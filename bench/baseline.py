"""The naive, seed-style pipeline the benchmark compares against.

    python bench/baseline.py produce --endpoint-url URL --prefix P --orders N --seed S
    python bench/baseline.py consume --endpoint-url URL --prefix P --orders N

The producer is a sequential upload loop; the consumer receives one message at a time, starts its
execution, waits for it to finish and only then deletes the message. Same stack, same orders, same
emulator as the real scripts: only the way of working differs.
"""

import json
import sys
import time
from urllib.parse import unquote_plus

import click

from blackfriday.clients import AwsGateway
from blackfriday.deployment.stack import describe_stack
from blackfriday.domain import OrderGenerator, order_key
from blackfriday.names import StackNames
from blackfriday.target import ENDPOINT, Target

POLL_SECONDS = 0.2


def stack(endpoint_url, prefix):
    gateway = AwsGateway(Target(ENDPOINT, "us-east-1", prefix, endpoint_url))
    return gateway, describe_stack(gateway, StackNames(prefix, gateway.account_id, "us-east-1"))


@click.group()
def main():
    """Naive baseline producer and consumer."""


@main.command()
@click.option("--endpoint-url", required=True)
@click.option("--prefix", required=True)
@click.option("--orders", type=int, required=True)
@click.option("--seed", type=int, required=True)
def produce(endpoint_url, prefix, orders, seed):
    gateway, info = stack(endpoint_url, prefix)
    s3 = gateway.client("s3")
    generator = OrderGenerator(seed)
    for index in range(orders):
        order = generator.order(index)
        s3.put_object(Bucket=info.bucket, Key=order_key(order["orderId"]), Body=json.dumps(order).encode())


@main.command()
@click.option("--endpoint-url", required=True)
@click.option("--prefix", required=True)
@click.option("--orders", type=int, required=True)
def consume(endpoint_url, prefix, orders):
    gateway, info = stack(endpoint_url, prefix)
    sqs, s3, stepfunctions = gateway.client("sqs"), gateway.client("s3"), gateway.client("stepfunctions")
    queue = info.queues["shipping"].url
    handled = 0
    while handled < orders:
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1, WaitTimeSeconds=5).get("Messages", [])
        for message in messages:
            for record in json.loads(message["Body"]).get("Records", []):
                bucket, key = record["s3"]["bucket"]["name"], unquote_plus(record["s3"]["object"]["key"])
                order = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
                execution = stepfunctions.start_execution(
                    stateMachineArn=info.state_machine_arn,
                    name=order["orderId"],
                    input=json.dumps({"order": order, "source": {"bucket": bucket, "key": key}}),
                )
                while stepfunctions.describe_execution(executionArn=execution["executionArn"])["status"] == "RUNNING":
                    time.sleep(POLL_SECONDS)
                handled += 1
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])


if __name__ == "__main__":
    sys.exit(main())
