"""describe_stack: find a deployed stack by its names, or say to run setup first (moto.mock_aws)."""

from __future__ import annotations

import time

import pytest

from blackfriday.deployment.deploy import deploy
from blackfriday.deployment.stack import QueueInfo, StackInfo, describe_stack
from blackfriday.errors import StackNotReady, UsageProblem
from blackfriday.functions import FUNCTION_SPECS, ORDERS_API_FUNCTION
from blackfriday.resources.apigateway import delete_rest_api, find_rest_api_ids
from blackfriday.stack_declaration import STACK

ACCOUNT = "123456789012"


def test_no_stack_means_run_setup_first(gateway, names):
    # GIVEN an empty account WHEN the stack is described THEN a configuration error (exit 2) says what to run
    with pytest.raises(StackNotReady) as failure:
        describe_stack(gateway, names)
    assert isinstance(failure.value, UsageProblem)
    assert str(failure.value) == (
        f"the stack with prefix 'bftest' is not deployed (bucket bftest-orders-{ACCOUNT}-us-east-1 is missing): "
        "run `python setup_infra.py` first"
    )


def test_a_missing_queue_is_named(gateway, names, fixture_sources):
    # GIVEN a deployed stack that lost its AnalyticsDLQ
    deploy(gateway, names, fixture_sources.sources)
    sqs = gateway.client("sqs")
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=STACK["queue:analytics_dlq"].name(names))["QueueUrl"])

    # WHEN it is described THEN the missing queue is named
    with pytest.raises(StackNotReady) as failure:
        describe_stack(gateway, names)
    assert "(queue bftest-AnalyticsDLQ is missing)" in str(failure.value)


def test_a_missing_order_api_is_named(gateway, names, fixture_sources):
    # GIVEN a deployed stack whose REST API was deleted
    deploy(gateway, names, fixture_sources.sources)
    delete_rest_api(gateway.client("apigateway"), "bftest-OrdersApi", sleep=time.sleep)

    # WHEN it is described THEN the missing API is named
    with pytest.raises(StackNotReady) as failure:
        describe_stack(gateway, names)
    assert (
        str(failure.value)
        == "the stack with prefix 'bftest' is not deployed (rest api bftest-OrdersApi is missing): run `python setup_infra.py` first"
    )


def test_a_deployed_stack_is_found_by_name(gateway, names, fixture_sources):
    # GIVEN a deployed stack
    deploy(gateway, names, fixture_sources.sources)

    # WHEN it is described
    info = describe_stack(gateway, names)

    # THEN every address is there, without any state file
    (api_id,) = find_rest_api_ids(gateway.client("apigateway"), "bftest-OrdersApi")
    queue_url = f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/bftest-"
    queue_arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:bftest-"
    assert info == StackInfo(
        bucket=f"bftest-orders-{ACCOUNT}-us-east-1",
        topics={
            "new_orders": f"arn:aws:sns:us-east-1:{ACCOUNT}:bftest-NewOrderEvents",
            "order_events": f"arn:aws:sns:us-east-1:{ACCOUNT}:bftest-OrderEvents",
            "order_errors": f"arn:aws:sns:us-east-1:{ACCOUNT}:bftest-OrderErrors",
            "approvals": f"arn:aws:sns:us-east-1:{ACCOUNT}:bftest-Approvals",
            "critical_alerts": f"arn:aws:sns:us-east-1:{ACCOUNT}:bftest-CriticalAlerts",
        },
        queues={
            "shipping": QueueInfo(
                queue_url + "ShippingQueue", queue_arn + "ShippingQueue", queue_url + "ShippingDLQ", queue_arn + "ShippingDLQ"
            ),
            "analytics": QueueInfo(
                queue_url + "AnalyticsQueue", queue_arn + "AnalyticsQueue", queue_url + "AnalyticsDLQ", queue_arn + "AnalyticsDLQ"
            ),
        },
        notifications=QueueInfo(queue_url + "NotificationsQueue", queue_arn + "NotificationsQueue"),
        tables={"inventory": "bftest-Inventory", "orders": "bftest-Orders", "analytics": "bftest-SkuDemand"},
        functions={
            spec.short_name: f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{names.function(spec.short_name)}"
            for spec in (*FUNCTION_SPECS, ORDERS_API_FUNCTION)
        },
        state_machine_arn=f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:bftest-OrderProcessingWorkflow",
        api_url=f"https://{api_id}.execute-api.us-east-1.amazonaws.com/prod",
    )
    assert info.storefront_url == info.api_url + "/"
    assert info.to_json()["notifications"] == {
        "url": queue_url + "NotificationsQueue",
        "arn": queue_arn + "NotificationsQueue",
        "dlq_url": None,
        "dlq_arn": None,
    }
