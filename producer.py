"""Upload a Black Friday spike of orders to the orders bucket."""

import click

from blackfriday.cli import PipelineCommand, json_option, target_options
from blackfriday.clients import AwsGateway
from blackfriday.ui import Output


@click.command(cls=PipelineCommand)
@target_options
@json_option
@click.option("--orders", "order_count", type=int, default=1000, show_default=True, help="How many orders to upload.")
def main(target, as_json, order_count):
    """Upload ORDERS orders under orders/ in the orders bucket."""
    out = Output(as_json)
    gateway = AwsGateway(target)
    gateway.check_reachable()
    out.say(f"Target: {target.describe()}")


if __name__ == "__main__":
    main()
