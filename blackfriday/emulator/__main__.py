"""`python -m blackfriday.emulator status|start|stop|serve`: the local emulator's own small command.

Exit codes as in blackfriday/cli.py: 0 done, 1 failure at run time (and `status` when none runs),
2 usage or configuration (for instance, the port is taken by another program).
"""

from __future__ import annotations

import json
import sys

import click

from blackfriday.cli import EXIT_RUNTIME_FAILURE, PipelineCommand, json_option
from blackfriday.emulator import lifecycle
from blackfriday.emulator.groups import GROUPED, GROUPS, SINGLE
from blackfriday.errors import UsageProblem
from blackfriday.target import emulator_port
from blackfriday.ui import Output


class EmulatorCommands(PipelineCommand, click.Group):
    """A command group with the project's one-line errors and exit codes."""


port_option = click.option(
    "--port",
    type=click.IntRange(1, 65535),
    help="TCP port on 127.0.0.1.  [default: BF_EMULATOR_PORT or 4599]",
)


processes_option = click.option(
    "--processes",
    type=click.Choice([str(GROUPED), str(SINGLE)]),
    help=f"{GROUPED}: a front process and one per group of services; {SINGLE}: every service in one process.  "
    f"[default: BF_EMULATOR_PROCESSES or {GROUPED}]",
)


def describe(status: lifecycle.EmulatorStatus) -> dict:
    return {
        "running": True,
        "url": status.url,
        "pid": status.pid,
        "port": status.port,
        "log": str(status.log_path),
        "processes": [process._asdict() for process in status.processes],
    }


def process_lines(status: lifecycle.EmulatorStatus) -> list[str]:
    return [
        f"  {process.group:<10} pid {process.pid:<8} port {process.port:<6} {', '.join(process.services)}" for process in status.processes
    ]


@click.group(cls=EmulatorCommands)
@click.option("--debug", is_flag=True, envvar="BF_DEBUG", help="Show full tracebacks on errors.")
def main(debug):
    """The local AWS emulator (moto with real Lambdas and Step Functions, no Docker)."""


@main.command()
@port_option
@json_option
def status(port, as_json):
    """Show whether the emulator runs (exit 1 when it does not)."""
    out = Output(as_json)
    port = port or emulator_port()
    running = lifecycle.status(port)
    if as_json:
        out.emit_json(describe(running) if running else {"running": False, "port": port})
    elif running:
        out.say(f"emulator running at {running.url} (pid {running.pid}, log {running.log_path})")
        for line in process_lines(running):
            out.say(line)
    else:
        out.say(f"emulator not running on port {port}")
    if running is None:
        sys.exit(EXIT_RUNTIME_FAILURE)


@main.command()
@port_option
@processes_option
@json_option
def start(port, processes, as_json):
    """Start the emulator in the background unless it already runs."""
    out = Output(as_json)
    running = lifecycle.ensure_running(port, int(processes) if processes else None)
    if as_json:
        out.emit_json({**describe(running), "started": running.started})
    else:
        verb = "started" if running.started else "already running"
        out.say(f"emulator {verb} at {running.url} (pid {running.pid}, log {running.log_path})")


@main.command()
@port_option
def stop(port):
    """Stop the emulator: every process of it (its Lambda workers stop with them)."""
    port = port or emulator_port()
    if lifecycle.stop(port):
        Output().say(f"emulator on port {port} stopped")
    else:
        Output().say(f"emulator not running on port {port}")


no_fixes_option = click.option("--no-fixes", is_flag=True, hidden=True, help="Leave moto's hot spots unpatched (benchmark baseline).")


@main.command()
@port_option
@processes_option
@no_fixes_option
def serve(port, processes, no_fixes):
    """Run the emulator in the foreground (Ctrl-C stops it)."""
    from blackfriday.emulator.server import serve as serve_forever

    port = port or emulator_port()
    running = lifecycle.status(port)  # another program on the port: UsageProblem, exit 2
    if running is not None:
        raise UsageProblem(f"the emulator already runs at {running.url} (pid {running.pid})")
    serve_forever(port, fixes=not no_fixes, processes=int(processes) if processes else lifecycle.process_mode())


@main.command("serve-group", hidden=True)
@click.argument("group", type=click.Choice([group.name for group in GROUPS]))
@click.option("--front-port", type=click.IntRange(1, 65535), required=True)
@click.option("--socket-fd", type=int, required=True, help="The listening socket the front process opened for this group.")
@click.option("--endpoints", required=True, help="JSON: boto3 client name -> URL of the process serving it.")
@no_fixes_option
def serve_group(group, front_port, socket_fd, endpoints, no_fixes):
    """One group's process (the front process starts it)."""
    from blackfriday.emulator.server import serve_group as serve_group_forever

    serve_group_forever(group, socket_fd, front_port, json.loads(endpoints), fixes=not no_fixes)


if __name__ == "__main__":
    main()
