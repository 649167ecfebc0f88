"""A spike whose only failures are business ones, with the gateway's usual retried timeouts, leaves every fault alarm's
metric at zero but process-payment's error rate, which stays under its threshold (the real emulator).

Orders go the real way: uploaded to the bucket, fanned out to the queues, started by consumer.py, run by
the deployed saga. The emulator has no CloudWatch metrics of its own (moto 5.2.5 publishes no AWS/SQS,
AWS/States or AWS/Lambda metrics and does not read embedded-metric-format lines), so each alarm's metric is
read at the source AWS computes it from: the DLQs' and work queues' depths, the executions' statuses,
every Lambda invocation's outcome in the executions' histories, and the business metrics' EMF lines in the
functions' log groups, which are the counts the failure-rate alarm divides.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from blackfriday.domain import make_invalid, order_key
from blackfriday.observability import METRICS_NAMESPACE, ORDERS_COMPLETED, ORDERS_FAILED, REASON_DIMENSION, SERVICE_DIMENSION
from blackfriday.stack_declaration import FAILURE_RATE_LIMIT_PERCENT, FAILURE_RATE_MINIMUM_ORDERS, STACK
from tests.workflow.test_deployed_workflow import LAMBDA_ENVIRONMENT_ERRORS, order_for

pytestmark = pytest.mark.emulator

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_SECONDS = 300  # a bound for a hung consumer, far above a normal run
DOORBUSTER, DOORBUSTER_STOCK, CONTENDERS = "DB-CONSOLE", 4, 6
REGULAR = ["HM-LAMP", "KT-BLENDER", "TY-BLOCKS", "AP-JACKET", "SP-YOGAMAT", "BK-BESTSELLER"]


def spike() -> list[dict]:
    """24 orders, a quarter failing for business reasons only: 2 out of stock, 2 declined, 2 invalid; and 2 whose
    payment first times out at the gateway (a Lambda error, retried: as normal on Black Friday as a declined card).
    """
    regular = [order_for(f"regular{index}", "approved", [(REGULAR[index % len(REGULAR)], 1)]) for index in range(12)]
    flaky = [order_for(f"flaky{index}", "flaky", [(REGULAR[index], 1)]) for index in range(2)]
    contenders = [order_for(f"contender{index}", "approved", [(DOORBUSTER, 1)]) for index in range(CONTENDERS)]
    declined = [order_for(f"declined{index}", "declined", [("HP-SPEAKER", 1)]) for index in range(2)]
    invalid = [make_invalid(order_for(f"invalid{index}", "approved", [("KT-AIRFRYER", 1)]), "zero_quantity") for index in range(2)]
    return [*regular, *flaky, *contenders, *declined, *invalid]


def metric_lines(logs, group: str) -> list[dict]:
    """The embedded-metric-format records a function logged (Powertools' single_metric lines)."""
    try:
        pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group)
        events = [event for page in pages for event in page["events"]]
    except logs.exceptions.ResourceNotFoundException:
        return []
    records = []
    for event in events:
        try:
            record = json.loads(event["message"])
        except ValueError:
            continue
        if isinstance(record, dict) and "_aws" in record:
            records.append(record)
    return records


def business_counts(records: list[dict]) -> Counter:
    """What CloudWatch would count from the records: (metric, dimension set) -> sum, for the failure-rate alarm's metrics."""
    counts: Counter = Counter()
    for record in records:
        for directive in record["_aws"]["CloudWatchMetrics"]:
            if directive["Namespace"] != METRICS_NAMESPACE:
                continue
            for dimensions in directive["Dimensions"]:
                for metric in directive["Metrics"]:
                    key = (metric["Name"], tuple((dimension, record[dimension]) for dimension in dimensions))
                    value = record[metric["Name"]]
                    counts[key] += sum(value) if isinstance(value, list) else value  # EMF allows one value or an array
    return counts


@pytest.fixture(scope="module")
def spiked(deploy_own_stack, emulator_url):
    stack = deploy_own_stack()
    gateway, info = stack.gateway, stack.info
    # GIVEN a doorbuster with fewer units left than the orders that want it
    gateway.client("dynamodb").update_item(
        TableName=info.tables["inventory"],
        Key={"sku": {"S": DOORBUSTER}},
        UpdateExpression="SET stock = :left",
        ExpressionAttributeValues={":left": {"N": str(DOORBUSTER_STOCK)}},
    )
    # WHEN the spike's orders are uploaded and consumer.py drains them
    orders = spike()
    for order in orders:
        gateway.client("s3").put_object(Bucket=info.bucket, Key=order_key(order["orderId"]), Body=json.dumps(order).encode())
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "BF_"))}
    consumer = subprocess.run(
        [sys.executable, "consumer.py", "--json", "--no-dashboard", "--workers", "4", "--wait-seconds", "1", "--until-empty"],
        cwd=ROOT, env={**environment, "AWS_ENDPOINT_URL": emulator_url, "BF_PREFIX": stack.names.prefix},
        capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS,
    )  # fmt: skip
    assert consumer.returncode == 0, consumer.stderr
    return stack, orders, json.loads(consumer.stdout)


def test_the_spike_failed_for_business_reasons_only(spiked):
    stack, orders, summary = spiked
    stepfunctions = stack.gateway.client("stepfunctions")
    pages = stepfunctions.get_paginator("list_executions").paginate(stateMachineArn=stack.info.state_machine_arn)
    statuses = Counter(execution["status"] for page in pages for execution in page["executions"])
    # THEN every order ran once: 18 completed (the flaky ones too), 6 failed for business reasons (their executions end in the Fail state)
    assert statuses == Counter({"SUCCEEDED": 18, "FAILED": 6})
    assert summary["dlq"] == {"shipping": 0, "analytics": 0}


def test_no_fault_alarms_metric_moved(spiked):
    stack, orders, _ = spiked
    gateway, info = stack.gateway, stack.info
    sqs, stepfunctions = gateway.client("sqs"), gateway.client("stepfunctions")

    # THEN no message is in a DLQ (alarm dlq-*: ApproximateNumberOfMessagesVisible), nor waiting in a work queue (alarm age-*)
    def depth(url: str) -> int:
        attributes = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )
        return sum(int(value) for value in attributes["Attributes"].values())

    assert {name: (depth(queue.url), depth(queue.dlq_url)) for name, queue in info.queues.items()} == {
        "shipping": (0, 0),
        "analytics": (0, 0),
    }
    # AND no execution timed out or was aborted (alarms workflow-timedout, workflow-aborted)
    for status in ("TIMED_OUT", "ABORTED"):
        pages = stepfunctions.get_paginator("list_executions").paginate(stateMachineArn=info.state_machine_arn, statusFilter=status)
        assert [execution["name"] for page in pages for execution in page["executions"]] == []
    # AND no Lambda invocation ended in an error (alarms errors-*: AWS/Lambda Errors) but the gateway's two timeouts, each
    # retried, whose share of process-payment's invocations (alarm errors-process-payment) stays under its threshold;
    # a cold worker the loaded emulator had to kill is the environment's, retried, and not the order's
    invocations, failures = Counter(), []
    for order in orders:
        arn = stack.names.execution_arn(order["orderId"])
        for page in stepfunctions.get_paginator("get_execution_history").paginate(executionArn=arn):
            for event in page["events"]:
                if event["type"] == "LambdaFunctionScheduled":
                    invocations[event["lambdaFunctionScheduledEventDetails"]["resource"].rsplit(":", 1)[-1]] += 1
                elif (
                    event["type"] == "LambdaFunctionFailed"
                    and event["lambdaFunctionFailedEventDetails"]["error"] not in LAMBDA_ENVIRONMENT_ERRORS
                ):
                    failures.append((order["orderId"], event["lambdaFunctionFailedEventDetails"]["error"]))
    flaky = sorted(order["orderId"] for order in orders if order["orderId"].startswith("flaky"))
    assert sorted(failures) == [(order_id, "PaymentGatewayTimeout") for order_id in flaky]
    payments = invocations[stack.names.function("process_payment")]
    alarm = STACK["alarm:errors_process_payment"]
    assert payments >= alarm.minimum_invocations
    assert 100 * len(failures) / payments < alarm.threshold


def test_the_business_metrics_count_the_failures_by_reason_under_the_failure_rate_limit(spiked):
    stack, _, _ = spiked
    logs = stack.gateway.client("logs")
    records = [
        record
        for short_name in ("generate_receipt", "mark_order_failed")
        for record in metric_lines(logs, stack.names.log_group(short_name))
    ]
    counts = business_counts(records)
    service = ((SERVICE_DIMENSION, "order-processing"),)

    # THEN the metrics the alarm and the dashboard read count 18 completed and 6 failed, by reason
    assert counts == Counter({
        (ORDERS_COMPLETED, service): 18,
        (ORDERS_FAILED, service): 6,
        (ORDERS_FAILED, (*service, (REASON_DIMENSION, "OutOfStock"))): 2,
        (ORDERS_FAILED, (*service, (REASON_DIMENSION, "PaymentDeclined"))): 2,
        (ORDERS_FAILED, (*service, (REASON_DIMENSION, "ValidationError"))): 2,
    })  # fmt: skip
    # AND the failure rate the alarm computes from them (enough orders to count) stays under its limit
    completed, failed = counts[(ORDERS_COMPLETED, service)], counts[(ORDERS_FAILED, service)]
    assert completed + failed >= FAILURE_RATE_MINIMUM_ORDERS
    assert 100 * failed / (completed + failed) < FAILURE_RATE_LIMIT_PERCENT
