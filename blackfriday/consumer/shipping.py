"""The shipping pool's work: hand each order to OrderProcessingWorkflow, exactly once per orderId.

The execution name is the orderId, so Step Functions itself refuses a second execution for the
same order: ExecutionAlreadyExists (or, while the first still runs, the same execution handed back
for the same input) marks a duplicate delivery, which is deleted and counted, never started again.
"""

from __future__ import annotations

import json
import threading

from botocore.exceptions import ClientError

from blackfriday.consumer.messages import ObjectRef, UnreadableOrder
from blackfriday.consumer.pool import Interrupted, call_with_backoff
from blackfriday.consumer.stats import PoolCounter, PoolStats
from blackfriday.consumer.tracker import ExecutionTracker
from blackfriday.errors import error_code

# The order can never be started under this name or with this input (a name over 80 characters is a
# ValidationException): it belongs in the DLQ.
UNSTARTABLE_CODES = frozenset({"InvalidName", "InvalidExecutionInput", "ValidationException"})


def execution_input(order: dict, ref: ObjectRef) -> str:
    return json.dumps({"order": order, "source": {"bucket": ref.bucket, "key": ref.key}}, separators=(",", ":"))


class ShippingHandler:
    def __init__(self, stepfunctions, tracker: ExecutionTracker, stats: PoolStats):
        self.stepfunctions = stepfunctions
        self.tracker = tracker
        self.stats = stats

    def handle(self, order: dict, ref: ObjectRef, stop: threading.Event) -> PoolCounter:
        if not self.tracker.acquire_slot(stop):
            raise Interrupted()
        order_id = order["orderId"]
        try:
            response = call_with_backoff(
                lambda: self.stepfunctions.start_execution(
                    stateMachineArn=self.tracker.state_machine_arn, name=order_id, input=execution_input(order, ref)
                ),
                stop,
                self.stats,
            )
        except BaseException as error:
            self.tracker.release_slot()
            if isinstance(error, ClientError) and error_code(error) == "ExecutionAlreadyExists":
                return PoolCounter.DUPLICATES
            if isinstance(error, ClientError) and error_code(error) in UNSTARTABLE_CODES:
                raise UnreadableOrder(
                    f"order {order_id!r} from s3://{ref.bucket}/{ref.key} cannot be started: {error_code(error)}"
                ) from None
            raise
        if not self.tracker.register(response["executionArn"], ref.event_time):
            return PoolCounter.DUPLICATES
        return PoolCounter.STARTED
