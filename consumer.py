"""Run the shipping and analytics worker pools that drain the fan-out queues."""

import click

from blackfriday.cli import PipelineCommand, json_option, target_options
from blackfriday.clients import DEFAULT_POOL_CONNECTIONS, AwsGateway
from blackfriday.consumer.dashboard import Dashboard
from blackfriday.consumer.redrive import redrive
from blackfriday.consumer.run import MAX_INFLIGHT_AWS, MAX_INFLIGHT_EMULATOR, Consumer, ConsumerSettings
from blackfriday.consumer.stats import Pool
from blackfriday.deployment.stack import describe_stack
from blackfriday.errors import RunFailure, UsageProblem
from blackfriday.names import StackNames
from blackfriday.ui import Output

QUEUE_NAMES = tuple(pool.value for pool in Pool)  # each pool drains the queue of its name


def parse_queues(value: str) -> tuple[Pool, ...]:
    chosen = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    unknown = [name for name in chosen if name not in QUEUE_NAMES]
    if unknown or not chosen:
        raise UsageProblem(
            f"unknown queue {', '.join(map(repr, unknown)) or repr(value)} in --queues: use shipping, analytics or shipping,analytics"
        )
    return tuple(Pool(name) for name in chosen)


@click.command(cls=PipelineCommand)
@target_options
@json_option
@click.option("--workers", type=click.IntRange(min=1), default=4, show_default=True, help="Worker threads in each pool.")
@click.option(
    "--queues",
    "queue_list",
    default=",".join(QUEUE_NAMES),
    show_default=True,
    help="Which queues to drain: shipping, analytics, or both (comma-separated).",
)
@click.option(
    "--max-inflight",
    type=click.IntRange(min=1),
    help=(
        "Most workflow executions open at once; fulfillment workers wait for room.  "
        f"[default: {MAX_INFLIGHT_AWS} on AWS, {MAX_INFLIGHT_EMULATOR} on an emulator]"
    ),
)
@click.option("--until-empty", is_flag=True, help="Exit once the queues are drained and every execution has closed.")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), help="Exit after this many seconds.")
@click.option(
    "--no-dashboard", is_flag=True, help="Plain progress lines instead of the live dashboard (the default when stdout is not a terminal)."
)
@click.option(
    "--wait-seconds",
    type=click.IntRange(1, 20),
    default=5,
    show_default=True,
    help="Long-poll wait of each receive; a stop waits for at most this long.",
)
@click.option(
    "--visibility-timeout",
    type=click.IntRange(1, 43200),
    help="Visibility timeout of received messages, kept extended while work lasts.  [default: the queue's]",
)
@click.option(
    "--redrive",
    "redrive_queue",
    type=click.Choice(QUEUE_NAMES),
    help="Move that queue's DLQ messages back to it, report how many, and exit.",
)
def main(
    target, as_json, workers, queue_list, max_inflight, until_empty, duration, no_dashboard, wait_seconds, visibility_timeout, redrive_queue
):
    """Drain ShippingQueue (start one workflow per order) and AnalyticsQueue (demand per SKU), exactly once."""
    settings = ConsumerSettings(
        queues=parse_queues(queue_list),
        workers=workers,
        max_inflight=max_inflight or (MAX_INFLIGHT_AWS if target.is_aws else MAX_INFLIGHT_EMULATOR),
        wait_seconds=wait_seconds,
        visibility_timeout=visibility_timeout,
        until_empty=until_empty,
        duration=duration,
    )
    out = Output(as_json)
    gateway = AwsGateway(target, max_pool_connections=max(DEFAULT_POOL_CONNECTIONS, settings.connections_needed))
    gateway.check_reachable()
    stack = describe_stack(gateway, StackNames(target.prefix, gateway.account_id, target.region))
    out.say(f"Target: {target.describe()}")

    if redrive_queue is not None:
        result = redrive(gateway, redrive_queue, stack.queues[redrive_queue])
        if as_json:
            out.emit_json(result.to_json())
        else:
            out.say(f"Moved {result.moved} message(s) from the {redrive_queue} DLQ back to its queue ({result.method}).")
        return

    consumer = Consumer(gateway, stack, settings)
    with Dashboard(out, live=not no_dashboard, title=f"consumer {target.prefix}") as dashboard:
        summary = consumer.run(on_tick=dashboard.tick)
    if as_json:
        out.emit_json(summary.to_json())
    else:
        summary.render(out)
    if consumer.failure:
        raise RunFailure(consumer.failure)


if __name__ == "__main__":
    main()
