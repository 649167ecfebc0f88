"""Find a deployed stack by its names (no state file): what producer and consumer start from.

Which resources make up the stack, and what each is found by, come from the manifest.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from blackfriday.api.urls import invoke_url
from blackfriday.errors import StackNotReady
from blackfriday.manifest import Manifest
from blackfriday.names import StackNames
from blackfriday.resources.apigateway import RestApi
from blackfriday.resources.awslambda import Function
from blackfriday.resources.dynamodb import Table
from blackfriday.resources.kinds import ABSENT, Context, operations
from blackfriday.resources.sns import Topic
from blackfriday.resources.sqs import Queue
from blackfriday.resources.stepfunctions import StateMachine
from blackfriday.stack_declaration import STACK

NOTIFICATIONS_QUEUE = "queue:notifications"


@dataclass(frozen=True)
class QueueInfo:
    url: str
    arn: str
    dlq_url: str | None = None
    dlq_arn: str | None = None


@dataclass(frozen=True)
class StackInfo:
    bucket: str
    topics: dict[str, str]  # new_orders, order_events, order_errors, critical_alerts -> topic ARN
    queues: dict[str, QueueInfo]  # every queue with a DLQ: shipping, analytics
    notifications: QueueInfo
    tables: dict[str, str]  # inventory, orders, analytics -> table name
    functions: dict[str, str]  # short name -> function ARN
    state_machine_arn: str
    api_url: str  # the order API's invoke URL; routes are appended to it ("/orders")

    @property
    def storefront_url(self) -> str:
        # the page calls the API relative to its own address, which must end in "/"
        return f"{self.api_url}/"

    def to_json(self) -> dict:
        return {**asdict(self), "storefront_url": self.storefront_url}


def _short(key: str) -> str:
    """A manifest key without its kind: "queue:shipping" -> "shipping"."""
    return key.split(":", 1)[1]


def describe_stack(gateway, names: StackNames, manifest: Manifest = STACK) -> StackInfo:
    """The deployed stack's addresses; StackNotReady naming the first missing piece otherwise."""
    context = Context(gateway, names, manifest)
    found = {}
    for resource in manifest:
        kind = operations(resource)
        if kind.noun is None:
            continue
        current = kind.read(context, resource)
        if current is ABSENT:
            raise StackNotReady(
                f"the stack with prefix {names.prefix!r} is not deployed ({kind.noun} {resource.name(names)} is missing): "
                "run `python setup_infra.py` first"
            )
        found[resource.key] = current

    def queue_info(queue: Queue) -> QueueInfo:
        if queue.dead_letter_queue is None:
            return QueueInfo(found[queue.key], queue.arn(names))
        return QueueInfo(found[queue.key], queue.arn(names), found[queue.dead_letter_queue], manifest[queue.dead_letter_queue].arn(names))

    (state_machine,) = manifest.of(StateMachine)
    (api,) = manifest.of(RestApi)
    return StackInfo(
        bucket=names.bucket,
        topics={_short(topic.key): topic.arn(names) for topic in manifest.of(Topic)},
        queues={_short(queue.key): queue_info(queue) for queue in manifest.of(Queue) if queue.dead_letter_queue},
        notifications=queue_info(manifest[NOTIFICATIONS_QUEUE]),
        tables={_short(table.key): table.name(names) for table in manifest.of(Table)},
        functions={function.spec.short_name: found[function.key]["FunctionArn"] for function in manifest.of(Function)},
        state_machine_arn=state_machine.arn(names),
        api_url=invoke_url(gateway.target, found[api.key].api_id),
    )
