"""Create or converge every resource of the order pipeline (idempotent)."""

import click

from blackfriday.cli import PipelineCommand, json_option, target_options, yes_option
from blackfriday.clients import AwsGateway
from blackfriday.ui import Output


@click.command(cls=PipelineCommand)
@target_options
@json_option
@yes_option
def main(target, as_json, yes):
    """Create or converge the Black Friday order pipeline."""
    out = Output(as_json)
    gateway = AwsGateway(target)
    gateway.check_reachable()
    out.say(f"Target: {target.describe()}")


if __name__ == "__main__":
    main()
