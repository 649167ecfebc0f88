"""Run the fulfillment and analytics worker pools that drain the fan-out queues."""

import click

from blackfriday.cli import PipelineCommand, json_option, target_options
from blackfriday.clients import AwsGateway
from blackfriday.ui import Output


@click.command(cls=PipelineCommand)
@target_options
@json_option
def main(target, as_json):
    """Drain ShippingQueue and AnalyticsQueue."""
    out = Output(as_json)
    gateway = AwsGateway(target)
    gateway.check_reachable()
    out.say(f"Target: {target.describe()}")


if __name__ == "__main__":
    main()
