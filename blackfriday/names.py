"""Every resource name derives from the prefix, so a stack is found again without a state file.

The stack's declaration (blackfriday/stack_declaration.py) names each of its things from the prefix: ask it
(`STACK["queue:shipping"].name(names)`). The few properties here are what the scripts address without it.
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
        """The name of one of the stack's things (see blackfriday/stack_declaration.py), e.g. "ShippingQueue"."""
        return f"{self.prefix}-{thing}"

    # What demo.py and the benches address directly
    @property
    def shipping_queue(self) -> str:
        return self.name("ShippingQueue")

    # Lambda, IAM, Step Functions, CloudWatch
    def function(self, short_name: str) -> str:
        return self.name(short_name.replace("_", "-"))

    def log_group(self, short_name: str) -> str:
        return f"/aws/lambda/{self.function(short_name)}"

    @property
    def state_machine(self) -> str:
        return self.name("OrderProcessingWorkflow")

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
