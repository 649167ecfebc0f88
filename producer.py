"""Send a Black Friday spike of orders: uploaded to the orders bucket, or posted to the order API (--via api)."""

import click

from blackfriday.cli import PipelineCommand, json_option, target_options
from blackfriday.clients import AwsGateway
from blackfriday.producer import ApiSink, S3Sink, SpikeSettings, run_spike
from blackfriday.producer.settings import DEFAULT_CONCURRENCY, DEFAULT_INVALID_RATE, MAX_CONCURRENCY, SHAPES, random_seed
from blackfriday.ui import Output

SHARE = click.FloatRange(0, 1)


@click.command(cls=PipelineCommand)
@target_options
@json_option
@click.option("--orders", "order_count", type=click.IntRange(min=1), default=1000, show_default=True, help="How many orders to upload.")
@click.option("--seed", type=int, help="Makes the orders and the injected faults reproducible.  [default: random, printed]")
@click.option(
    "--concurrency",
    type=click.IntRange(1, MAX_CONCURRENCY),
    default=DEFAULT_CONCURRENCY,
    show_default=True,
    help="Uploads in flight at once (one shared client).",
)
@click.option("--rate", type=click.FloatRange(min=0), default=0, help="Cap in orders per second.  [default: 0, as fast as possible]")
@click.option(
    "--shape",
    type=click.Choice(SHAPES),
    help="How --rate evolves: steady, ramp (a tenth up to full) or burst (full for the first fifth, then a quarter).  [default: steady]",
)
@click.option(
    "--invalid-rate",
    type=SHARE,
    default=DEFAULT_INVALID_RATE,
    show_default=True,
    help="Share of orders that fail validation (unknown SKU, zero quantity, wrong total).",
)
@click.option("--poison-rate", type=SHARE, default=0.0, show_default=True, help="Share of objects that are not JSON at all.")
@click.option(
    "--duplicate-rate",
    type=SHARE,
    default=0.0,
    show_default=True,
    help="Share of orders uploaded twice under the same key, as a client retry would.",
)
@click.option(
    "--via",
    type=click.Choice(["s3", "api"]),
    default="s3",
    show_default=True,
    help="s3: upload each order to the orders bucket; api: POST it to the order API (invalid and poison orders are refused at the door).",
)
def main(target, as_json, order_count, seed, concurrency, rate, shape, invalid_rate, poison_rate, duplicate_rate, via):
    """Send ORDERS orders into the pipeline (run setup_infra.py first)."""
    if shape is not None and not rate:
        raise click.UsageError(f"--shape {shape} needs --rate: without a cap the orders go out as fast as possible")
    settings = SpikeSettings(
        orders=order_count,
        seed=random_seed() if seed is None else seed,
        concurrency=concurrency,
        rate=rate,
        shape=shape or "steady",
        invalid_rate=invalid_rate,
        poison_rate=poison_rate,
        duplicate_rate=duplicate_rate,
    )
    out = Output(as_json)
    gateway = AwsGateway(target, max_pool_connections=settings.concurrency)
    gateway.check_reachable()
    if via == "api":
        sink = ApiSink.for_stack(gateway, target, settings.concurrency)
        destination = f"Posting {settings.orders:,} orders to {sink.orders_url}"
    else:
        sink = S3Sink.for_stack(gateway, target)
        destination = f"Uploading {settings.orders:,} orders to s3://{sink.bucket}/"
    out.say(f"Target: {target.describe()}")
    out.say(
        f"{destination} (seed {settings.seed}, "
        f"concurrency {settings.concurrency}, rate {f'{settings.rate:g}/s {settings.shape}' if settings.rate else 'unlimited'})"
    )
    run_spike(sink, settings, out)


if __name__ == "__main__":
    main()
