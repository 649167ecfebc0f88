"""Names derive from prefix, account and region alone."""

from blackfriday.functions import FUNCTION_SPECS, resource_arns
from blackfriday.names import StackNames


def test_bucket_name_is_globally_unique_from_prefix_account_and_region_and_valid_for_s3():
    names = StackNames("blackfriday", "123456789012", "ap-southeast-2")
    assert names.bucket == "blackfriday-orders-123456789012-ap-southeast-2"
    assert len(StackNames("a" * 20, "123456789012", "ap-southeast-2").bucket) <= 63


def test_resource_names_carry_the_prefix_and_the_designs_names():
    names = StackNames("bf", "123456789012", "us-east-1")
    assert names.new_orders_topic == "bf-NewOrderEvents"
    assert names.shipping_dlq == "bf-ShippingDLQ"
    assert names.function("reserve_inventory") == "bf-reserve-inventory"
    assert names.state_machine_arn == "arn:aws:states:us-east-1:123456789012:stateMachine:bf-OrderProcessingWorkflow"
    assert names.execution_arn("o-1") == "arn:aws:states:us-east-1:123456789012:execution:bf-OrderProcessingWorkflow:o-1"


def test_longest_prefix_keeps_iam_role_names_within_64_characters():
    names = StackNames("a" * 20, "123456789012", "us-east-1")
    assert max(len(names.function_role(spec.short_name)) for spec in FUNCTION_SPECS) <= 64


def test_every_grant_names_a_known_resource():
    arns = resource_arns(StackNames("bf", "123456789012", "us-east-1"))
    assert {grant.resource for spec in FUNCTION_SPECS for grant in spec.grants} <= set(arns)
