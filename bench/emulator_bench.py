"""The emulator's benchmark: moto with and without our hot-spot fixes, side by side, same workload.

    python -m bench.emulator_bench                           # backlogs 0, 1,000, 2,000; under 3 minutes on 2 cores
    python -m bench.emulator_bench --backlogs 0,500 --puts 100 --invokes 100 --executions 30

Each mode gets a fresh emulator (`serve`, and `serve --no-fixes` for moto's own code paths; the
Lambda runtime is the same in both). Measured, with --threads client threads sharing one gateway:
- PutObject with fan-out (S3 ObjectCreated -> SNS -> 2 raw-delivery queues) while both queues hold
  a backlog of each size (filled beforehand with SendMessageBatch; the puts add to it);
- ReceiveMessage (10) + DeleteMessageBatch at the largest backlog, as the consumer does;
- Lambda invokes of a warm function that reads DynamoDB;
- Step Functions executions of two Lambda tasks, started together, until the last one ends.
Prints a table, then one JSON document with the ratios (fixed / unfixed); it also goes to bench/results/.
"""

from __future__ import annotations

import io
import json
import subprocess
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click

from bench.pipeline_bench import RESULTS, clean_env, free_port
from blackfriday.clients import AwsGateway
from blackfriday.emulator import lifecycle
from blackfriday.target import ENDPOINT, Target, local_endpoint_url
from blackfriday.ui import Output

REGION = "us-east-1"
PREFIX = "bench"
MODES = ("fixed", "unfixed")
ORDER_BODY = json.dumps({"orderId": "o-1", "items": [{"sku": "tv-55", "qty": 1, "unitPrice": 499.0}], "total": 499.0})
HANDLER = """
import os
import boto3

dynamodb = boto3.client("dynamodb")

def handler(event, context):
    item = dynamodb.get_item(TableName=os.environ["TABLE"], Key={"sku": {"S": "tv-55"}})["Item"]
    return {"stock": int(item["stock"]["N"]), "order": event.get("orderId")}
"""


class Emulator:
    """A fresh emulator on a free port, with or without the fixes, stopped on exit."""

    def __init__(self, fixes: bool, workdir: Path):
        self.port = free_port()
        self.url = local_endpoint_url(self.port)
        self.log_path = workdir / f"emulator-{'fixed' if fixes else 'unfixed'}.log"
        command = lifecycle.serve_command(self.port) + ([] if fixes else ["--no-fixes"])
        with open(self.log_path, "wb") as log_file:
            self.process = subprocess.Popen(command, cwd=lifecycle.PROJECT_ROOT, env=clean_env(), stdout=log_file, stderr=subprocess.STDOUT)

    def __enter__(self) -> Emulator:
        lifecycle.wait_until_healthy(self.url, self.process, self.log_path)
        return self

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def parallel(threads: int, calls: int, call) -> float:
    """Seconds for `calls` calls of call(index) spread over `threads` threads."""
    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(call, range(calls)))
    return time.monotonic() - started


def fan_out(gateway: AwsGateway) -> tuple[str, list[str]]:
    """Bucket -> topic -> two raw-delivery queues, the pipeline's shape; the S3 test event drained."""
    s3, sns, sqs = gateway.client("s3"), gateway.client("sns"), gateway.client("sqs")
    bucket = f"{PREFIX}-orders"
    s3.create_bucket(Bucket=bucket)
    topic_arn = sns.create_topic(Name=f"{PREFIX}-NewOrderEvents")["TopicArn"]
    queue_urls = []
    for name in ("ShippingQueue", "AnalyticsQueue"):
        url = sqs.create_queue(QueueName=f"{PREFIX}-{name}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
        queue_urls.append(url)
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={"TopicConfigurations": [{"TopicArn": topic_arn, "Events": ["s3:ObjectCreated:*"]}]},
    )
    return bucket, queue_urls


def depth(sqs, url: str) -> int:
    return int(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"]
    )


def fill(sqs, url: str, target: int, threads: int) -> None:
    missing = target - depth(sqs, url)
    batches = (missing + 9) // 10

    def send(batch: int) -> None:
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(entry), "MessageBody": ORDER_BODY} for entry in range(10)])

    parallel(threads, max(batches, 0), send)


def bench_fan_out(gateway: AwsGateway, backlogs: list[int], puts: int, drain: int, threads: int) -> dict:
    s3, sqs = gateway.client("s3"), gateway.client("sqs")
    bucket, queue_urls = fan_out(gateway)
    # Untimed: the first requests of a fresh emulator pay for imports and connections.
    parallel(threads, threads * 4, lambda index: s3.put_object(Bucket=bucket, Key=f"orders/warm-{index}.json", Body=ORDER_BODY))
    for url in queue_urls:
        sqs.purge_queue(QueueUrl=url)
    rates = {}
    for backlog in backlogs:
        for url in queue_urls:
            fill(sqs, url, backlog, threads)
        seconds = parallel(
            threads,
            puts,
            lambda index, backlog=backlog: s3.put_object(Bucket=bucket, Key=f"orders/{backlog}-{index}.json", Body=ORDER_BODY),
        )
        rates[backlog] = round(puts / seconds, 1)
    delivered = [depth(sqs, url) for url in queue_urls]
    expected = max(backlogs) + puts  # every put reached both queues (fills round up to whole batches)
    shipping = queue_urls[0]

    def consume(index: int) -> None:
        messages = sqs.receive_message(QueueUrl=shipping, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages", [])
        if messages:
            sqs.delete_message_batch(
                QueueUrl=shipping, Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)]
            )

    receive_seconds = parallel(threads, drain // 10, consume)
    return {
        "puts_per_second_at_backlog": rates,
        "fan_out_complete": all(count >= expected for count in delivered),
        "received_and_deleted_per_second": round((drain // 10) * 10 / receive_seconds, 1),
    }


def stock_table_and_role(gateway: AwsGateway) -> tuple[str, str]:
    """(table name, role ARN): the inventory table HANDLER reads, with one item, and a role for its functions."""
    dynamodb, iam = gateway.client("dynamodb"), gateway.client("iam")
    table = f"{PREFIX}-Inventory"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "sku", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "sku", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName=table, Item={"sku": {"S": "tv-55"}, "stock": {"N": "42"}})
    return table, iam.create_role(RoleName=f"{PREFIX}-lambda", AssumeRolePolicyDocument="{}")["Role"]["Arn"]


def deploy_function(gateway: AwsGateway) -> str:
    table, role_arn = stock_table_and_role(gateway)
    lambda_client = gateway.client("lambda")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("app.py", HANDLER)
    return lambda_client.create_function(
        FunctionName=f"{PREFIX}-stock",
        Runtime="python3.12",
        Role=role_arn,
        Handler="app.handler",
        Code={"ZipFile": archive.getvalue()},
        Environment={"Variables": {"TABLE": table}},
    )["FunctionArn"]


def bench_invokes(gateway: AwsGateway, function_arn: str, invokes: int, threads: int) -> float:
    lambda_client = gateway.client("lambda")

    def invoke(index: int) -> None:
        response = lambda_client.invoke(FunctionName=function_arn, Payload=json.dumps({"orderId": f"o-{index}"}))
        if "FunctionError" in response:
            raise RuntimeError(response["Payload"].read().decode())

    parallel(threads, threads, invoke)  # every worker warm before timing
    return round(invokes / parallel(threads, invokes, invoke), 1)


def bench_executions(gateway: AwsGateway, function_arn: str, executions: int, threads: int) -> float:
    sfn = gateway.client("stepfunctions")
    definition = {
        "StartAt": "Check",
        "States": {
            "Check": {"Type": "Task", "Resource": function_arn, "ResultPath": "$.check", "Next": "Confirm"},
            "Confirm": {"Type": "Task", "Resource": function_arn, "ResultPath": "$.confirm", "End": True},
        },
    }
    arn = sfn.create_state_machine(
        name=f"{PREFIX}-workflow", definition=json.dumps(definition), roleArn=f"arn:aws:iam::123456789012:role/{PREFIX}-states"
    )["stateMachineArn"]
    started = time.monotonic()
    execution_arns = []
    parallel(
        threads,
        executions,
        lambda index: execution_arns.append(
            sfn.start_execution(stateMachineArn=arn, name=f"o-{index}", input=json.dumps({"orderId": f"o-{index}"}))["executionArn"]
        ),
    )
    for execution_arn in execution_arns:
        while (status := sfn.describe_execution(executionArn=execution_arn)["status"]) == "RUNNING":
            time.sleep(0.05)
        if status != "SUCCEEDED":
            raise RuntimeError(f"execution {execution_arn} ended {status}")
    return round(executions / (time.monotonic() - started), 1)


def run_mode(fixes: bool, workdir: Path, options: dict) -> dict:
    with Emulator(fixes, workdir) as emulator:
        gateway = AwsGateway(Target(ENDPOINT, REGION, PREFIX, emulator.url))
        threads = options["threads"]
        result = bench_fan_out(gateway, options["backlogs"], options["puts"], options["drain"], threads)
        function_arn = deploy_function(gateway)
        result["invokes_per_second"] = bench_invokes(gateway, function_arn, options["invokes"], threads)
        result["executions_per_second"] = bench_executions(gateway, function_arn, options["executions"], threads)
        return result


def ratios(fixed: dict, unfixed: dict) -> dict:
    def ratio(a: float, b: float) -> float:
        return round(a / b, 2) if b else float("inf")

    return {
        "puts_per_second_at_backlog": {
            backlog: ratio(rate, unfixed["puts_per_second_at_backlog"][backlog])
            for backlog, rate in fixed["puts_per_second_at_backlog"].items()
        },
        "received_and_deleted_per_second": ratio(fixed["received_and_deleted_per_second"], unfixed["received_and_deleted_per_second"]),
        "invokes_per_second": ratio(fixed["invokes_per_second"], unfixed["invokes_per_second"]),
        "executions_per_second": ratio(fixed["executions_per_second"], unfixed["executions_per_second"]),
    }


@click.command()
@click.option("--backlogs", default="0,1000,2000", show_default=True, help="Queue backlogs at which PutObject is timed.")
@click.option("--puts", default=150, show_default=True, type=click.IntRange(1), help="PutObject calls per backlog.")
@click.option("--drain", default=100, show_default=True, type=click.IntRange(10), help="Messages received and deleted.")
@click.option("--invokes", default=300, show_default=True, type=click.IntRange(1))
@click.option("--executions", default=60, show_default=True, type=click.IntRange(1))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64), help="Client threads.")
def main(backlogs, puts, drain, invokes, executions, threads):
    """Requests/s of the emulator with and without the hot-spot fixes."""
    options = {
        "backlogs": sorted(int(level) for level in backlogs.split(",")),
        "puts": puts,
        "drain": drain,
        "invokes": invokes,
        "executions": executions,
        "threads": threads,
    }
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="emulator-bench-") as workdir:
        results = {mode: run_mode(mode == "fixed", Path(workdir), options) for mode in MODES}
    fixed, unfixed = results["fixed"], results["unfixed"]
    document = {
        "options": options,
        **results,
        "ratio_fixed_to_unfixed": ratios(fixed, unfixed),
        "seconds": round(time.monotonic() - started, 1),
    }
    out = Output()
    rows = [
        (
            f"PutObject + fan-out, backlog {backlog:,}",
            fixed["puts_per_second_at_backlog"][backlog],
            unfixed["puts_per_second_at_backlog"][backlog],
            document["ratio_fixed_to_unfixed"]["puts_per_second_at_backlog"][backlog],
        )
        for backlog in options["backlogs"]
    ]
    rows += [
        (
            f"Receive + delete, backlog {max(options['backlogs']) + puts:,}",
            fixed["received_and_deleted_per_second"],
            unfixed["received_and_deleted_per_second"],
            document["ratio_fixed_to_unfixed"]["received_and_deleted_per_second"],
        ),
        (
            "Lambda invokes",
            fixed["invokes_per_second"],
            unfixed["invokes_per_second"],
            document["ratio_fixed_to_unfixed"]["invokes_per_second"],
        ),
        (
            "Executions (2 Lambda tasks)",
            fixed["executions_per_second"],
            unfixed["executions_per_second"],
            document["ratio_fixed_to_unfixed"]["executions_per_second"],
        ),
    ]
    out.table(f"Emulator, per second ({threads} client threads)", ("workload", "with fixes", "without", "ratio"), rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "emulator_bench.json").write_text(json.dumps(document, indent=2))
    out.emit_json(document)


if __name__ == "__main__":
    main()
