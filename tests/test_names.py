"""Names derive from prefix, account and region alone: the declared resources' names, and the few properties scripts use."""

import pytest

from blackfriday.functions import FUNCTION_SPECS
from blackfriday.names import StackNames, partition_of
from blackfriday.stack_declaration import STACK


def test_bucket_name_is_globally_unique_from_prefix_account_and_region_and_valid_for_s3():
    names = StackNames("blackfriday", "123456789012", "ap-southeast-2")
    assert names.bucket == "blackfriday-orders-123456789012-ap-southeast-2"
    assert len(StackNames("a" * 20, "123456789012", "ap-southeast-2").bucket) <= 63


def test_resource_names_carry_the_prefix_and_the_designs_names():
    names = StackNames("bf", "123456789012", "us-east-1")
    assert STACK["topic:new_orders"].name(names) == "bf-NewOrderEvents"
    assert STACK["queue:shipping_dlq"].name(names) == "bf-ShippingDLQ"
    assert names.function("reserve_inventory") == "bf-reserve-inventory"
    assert names.state_machine_arn == "arn:aws:states:us-east-1:123456789012:stateMachine:bf-OrderProcessingWorkflow"
    assert names.execution_arn("o-1") == "arn:aws:states:us-east-1:123456789012:execution:bf-OrderProcessingWorkflow:o-1"


def test_the_declared_names_and_the_named_properties():
    # GIVEN the stack's declaration WHEN it names its resources THEN they are the design's names, and the properties scripts
    # address directly agree with it
    names = StackNames("bf", "123456789012", "us-east-1")
    declared = {
        "bucket": "bf-orders-123456789012-us-east-1",
        "topic:new_orders": "bf-NewOrderEvents",
        "topic:order_events": "bf-OrderEvents",
        "topic:order_errors": "bf-OrderErrors",
        "queue:shipping": "bf-ShippingQueue",
        "queue:shipping_dlq": "bf-ShippingDLQ",
        "queue:analytics": "bf-AnalyticsQueue",
        "queue:analytics_dlq": "bf-AnalyticsDLQ",
        "queue:notifications": "bf-NotificationsQueue",
        "table:inventory": "bf-Inventory",
        "table:orders": "bf-Orders",
        "table:analytics": "bf-SkuDemand",
        "state_machine": "bf-OrderProcessingWorkflow",
        "role:workflow": "bf-workflow-role",
        "dashboard": "bf-pipeline",
    }
    declared |= {f"role:{spec.short_name}": f"bf-{spec.short_name.replace('_', '-')}-role" for spec in FUNCTION_SPECS}
    declared |= {f"log_group:{spec.short_name}": names.log_group(spec.short_name) for spec in FUNCTION_SPECS}
    assert {key: STACK[key].name(names) for key in declared} == declared
    assert names.bucket == declared["bucket"]
    assert names.shipping_queue == declared["queue:shipping"]
    assert names.state_machine == declared["state_machine"]
    assert STACK["state_machine"].arn(names) == names.state_machine_arn


def test_longest_prefix_keeps_iam_role_names_within_64_characters():
    names = StackNames("a" * 20, "123456789012", "us-east-1")
    assert max(len(STACK[f"role:{spec.short_name}"].name(names)) for spec in FUNCTION_SPECS) <= 64


@pytest.mark.parametrize(
    ("region", "partition"),
    [
        ("us-east-1", "aws"),
        ("eu-central-2", "aws"),
        ("cn-north-1", "aws-cn"),
        ("cn-northwest-1", "aws-cn"),
        ("us-gov-west-1", "aws-us-gov"),
        ("us-gov-east-1", "aws-us-gov"),
        ("us-iso-east-1", None),
        ("us-isob-east-1", None),
        ("eu-isoe-west-1", None),
    ],
)
def test_a_regions_partition(region, partition):
    assert partition_of(region) == partition


def test_every_arn_is_in_the_regions_partition():
    names = StackNames("bf", "123456789012", "us-gov-west-1")
    assert names.bucket_arn == "arn:aws-us-gov:s3:::bf-orders-123456789012-us-gov-west-1"
    assert names.role_arn("bf-workflow-role") == "arn:aws-us-gov:iam::123456789012:role/bf-workflow-role"
    assert names.queue_arn("bf-ShippingQueue") == "arn:aws-us-gov:sqs:us-gov-west-1:123456789012:bf-ShippingQueue"
    assert names.state_machine_arn == "arn:aws-us-gov:states:us-gov-west-1:123456789012:stateMachine:bf-OrderProcessingWorkflow"
