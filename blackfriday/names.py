"""Every resource name derives from the prefix, so a stack is found again without a state file."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StackNames:
    prefix: str
    account: str
    region: str

    @property
    def bucket(self) -> str:
        # S3 names are global: account and region make ours unique and let two stacks coexist.
        return f"{self.prefix}-orders-{self.account}-{self.region}"

    def _name(self, thing: str) -> str:
        return f"{self.prefix}-{thing}"

    # SNS
    @property
    def new_orders_topic(self) -> str:
        return self._name("NewOrderEvents")

    @property
    def order_events_topic(self) -> str:
        return self._name("OrderEvents")

    @property
    def order_errors_topic(self) -> str:
        return self._name("OrderErrors")

    # SQS
    @property
    def shipping_queue(self) -> str:
        return self._name("ShippingQueue")

    @property
    def shipping_dlq(self) -> str:
        return self._name("ShippingDLQ")

    @property
    def analytics_queue(self) -> str:
        return self._name("AnalyticsQueue")

    @property
    def analytics_dlq(self) -> str:
        return self._name("AnalyticsDLQ")

    @property
    def notifications_queue(self) -> str:
        return self._name("NotificationsQueue")

    # DynamoDB
    @property
    def inventory_table(self) -> str:
        return self._name("Inventory")

    @property
    def orders_table(self) -> str:
        return self._name("Orders")

    @property
    def analytics_table(self) -> str:
        return self._name("SkuDemand")

    # Lambda, IAM, Step Functions, CloudWatch
    def function(self, short_name: str) -> str:
        return self._name(short_name.replace("_", "-"))

    def function_role(self, short_name: str) -> str:
        return self._name(f"{short_name.replace('_', '-')}-role")

    def log_group(self, short_name: str) -> str:
        return f"/aws/lambda/{self.function(short_name)}"

    @property
    def state_machine(self) -> str:
        return self._name("OrderProcessingWorkflow")

    @property
    def state_machine_role(self) -> str:
        return self._name("workflow-role")

    @property
    def dashboard(self) -> str:
        return self._name("pipeline")

    def alarm(self, what: str) -> str:
        return self._name(f"alarm-{what}")

    # ARNs that are known from names alone (used in least-privilege policies)
    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{resource}"

    def topic_arn(self, topic_name: str) -> str:
        return self.arn("sns", topic_name)

    def queue_arn(self, queue_name: str) -> str:
        return self.arn("sqs", queue_name)

    def table_arn(self, table_name: str) -> str:
        return self.arn("dynamodb", f"table/{table_name}")

    def function_arn(self, short_name: str) -> str:
        return self.arn("lambda", f"function:{self.function(short_name)}")

    @property
    def state_machine_arn(self) -> str:
        return self.arn("states", f"stateMachine:{self.state_machine}")

    def execution_arn(self, execution_name: str) -> str:
        return self.arn("states", f"execution:{self.state_machine}:{execution_name}")

    @property
    def bucket_arn(self) -> str:
        return f"arn:aws:s3:::{self.bucket}"
