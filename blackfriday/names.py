"""Every resource name derives from the prefix, so a stack is found again without a state file.

The manifest (blackfriday/manifest.py) declares the stack's things; the properties here name the ones
that scripts and tests address directly (a test checks that they agree with the manifest).
"""

from __future__ import annotations

from dataclasses import dataclass

# The partitions the stack is written for (the first part of every ARN), by region-name prefix; other
# partitions (the isolated us-iso-*, us-isob-*, eu-isoe-* regions) lack services the stack uses.
PARTITIONS = (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"))
DEFAULT_PARTITION = "aws"
UNSUPPORTED_REGION_PREFIXES = ("us-iso", "eu-iso")


# Each partition's DNS suffix, for the few addresses built by hand (an API's invoke URL).
DNS_SUFFIXES = {"aws": "amazonaws.com", "aws-cn": "amazonaws.com.cn", "aws-us-gov": "amazonaws.com"}


def partition_of(region: str) -> str | None:
    """The partition a region belongs to ("aws", "aws-cn", "aws-us-gov"), None for a partition the stack does not support."""
    if region.startswith(UNSUPPORTED_REGION_PREFIXES):
        return None
    return next((partition for prefix, partition in PARTITIONS if region.startswith(prefix)), DEFAULT_PARTITION)


@dataclass(frozen=True)
class StackNames:
    prefix: str
    account: str
    region: str

    @property
    def bucket(self) -> str:
        # S3 names are global: account and region make ours unique and let two stacks coexist.
        return f"{self.prefix}-orders-{self.account}-{self.region}"

    def name(self, thing: str) -> str:
        """The name of one of the stack's things (see blackfriday/manifest.py), e.g. "ShippingQueue"."""
        return f"{self.prefix}-{thing}"

    # SNS
    @property
    def new_orders_topic(self) -> str:
        return self.name("NewOrderEvents")

    @property
    def order_events_topic(self) -> str:
        return self.name("OrderEvents")

    @property
    def order_errors_topic(self) -> str:
        return self.name("OrderErrors")

    # SQS
    @property
    def shipping_queue(self) -> str:
        return self.name("ShippingQueue")

    @property
    def shipping_dlq(self) -> str:
        return self.name("ShippingDLQ")

    @property
    def analytics_queue(self) -> str:
        return self.name("AnalyticsQueue")

    @property
    def analytics_dlq(self) -> str:
        return self.name("AnalyticsDLQ")

    @property
    def notifications_queue(self) -> str:
        return self.name("NotificationsQueue")

    # DynamoDB
    @property
    def inventory_table(self) -> str:
        return self.name("Inventory")

    @property
    def orders_table(self) -> str:
        return self.name("Orders")

    @property
    def analytics_table(self) -> str:
        return self.name("SkuDemand")

    # Lambda, IAM, Step Functions, CloudWatch
    def function(self, short_name: str) -> str:
        return self.name(short_name.replace("_", "-"))

    def function_role(self, short_name: str) -> str:
        return self.name(f"{short_name.replace('_', '-')}-role")

    def log_group(self, short_name: str) -> str:
        return f"/aws/lambda/{self.function(short_name)}"

    @property
    def state_machine(self) -> str:
        return self.name("OrderProcessingWorkflow")

    @property
    def state_machine_role(self) -> str:
        return self.name("workflow-role")

    @property
    def dashboard(self) -> str:
        return self.name("pipeline")

    def alarm(self, what: str) -> str:
        return self.name(f"alarm-{what}")

    # ARNs that are known from names alone (used in least-privilege policies), in the region's partition
    @property
    def partition(self) -> str:
        partition = partition_of(self.region)
        if partition is None:
            raise ValueError(f"region {self.region} is in a partition the stack does not support")
        return partition

    def arn(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account}:{resource}"

    def topic_arn(self, topic_name: str) -> str:
        return self.arn("sns", topic_name)

    def queue_arn(self, queue_name: str) -> str:
        return self.arn("sqs", queue_name)

    def table_arn(self, table_name: str) -> str:
        return self.arn("dynamodb", f"table/{table_name}")

    def function_arn(self, short_name: str) -> str:
        return self.arn("lambda", f"function:{self.function(short_name)}")

    def role_arn(self, role_name: str) -> str:
        return f"arn:{self.partition}:iam::{self.account}:role/{role_name}"

    @property
    def state_machine_arn(self) -> str:
        return self.arn("states", f"stateMachine:{self.state_machine}")

    def execution_arn(self, execution_name: str) -> str:
        return self.arn("states", f"execution:{self.state_machine}:{execution_name}")

    @property
    def bucket_arn(self) -> str:
        return f"arn:{self.partition}:s3:::{self.bucket}"
