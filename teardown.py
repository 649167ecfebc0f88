"""Remove everything setup_infra.py created for a prefix."""

import click

from blackfriday.cli import PipelineCommand, json_option, target_options, yes_option
from blackfriday.clients import AwsGateway
from blackfriday.ui import Output


@click.command(cls=PipelineCommand)
@target_options
@json_option
@yes_option
def main(target, as_json, yes):
    """Remove every resource of the pipeline with this prefix."""
    out = Output(as_json)
    gateway = AwsGateway(target)
    gateway.check_reachable()
    out.say(f"Target: {target.describe()}")


if __name__ == "__main__":
    main()
