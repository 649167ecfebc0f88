"""Remove everything setup_infra.py created for a prefix."""

import click

from blackfriday.cli import PipelineCommand, confirm_on_aws, json_option, target_options, yes_option
from blackfriday.clients import AwsGateway
from blackfriday.emulator import lifecycle
from blackfriday.errors import RunFailure
from blackfriday.names import StackNames
from blackfriday.resources.remove import remaining_after_settling, remove_stack
from blackfriday.ui import Output


@click.command(cls=PipelineCommand)
@target_options
@json_option
@yes_option
@click.option("--keep-emulator", is_flag=True, help="On --target local, leave the emulator running afterwards.")
def main(target, as_json, yes, keep_emulator):
    """Remove every resource of the pipeline with this prefix."""
    out = Output(as_json)
    deleted, remaining = [], []
    if target.is_local and lifecycle.status() is None:
        out.say(f"No local emulator answers at {target.endpoint_url}: nothing to remove.")
    else:
        gateway = AwsGateway(target)
        gateway.check_reachable()
        names = StackNames(target.prefix, gateway.account_id, target.region)
        confirm_on_aws(out, target, gateway.account_id, f"delete every resource of the stack {target.prefix!r}", yes)
        out.say(f"Target: {target.describe()}")
        with out.human.status("Removing the stack...") as progress:
            deleted = remove_stack(gateway, names, report=lambda resource: progress.update(f"deleted {resource}"))
            progress.update("Checking that nothing of the stack remains...")
            remaining = remaining_after_settling(gateway, names)
        if target.is_local and not keep_emulator and lifecycle.stop():
            out.say(f"Stopped the local emulator at {target.endpoint_url}.")
    if as_json:
        out.emit_json({"deleted": deleted, "remaining": remaining})
    else:
        if deleted:
            out.table("Deleted", ("Resource",), ((resource,) for resource in deleted))
        out.say(f"Deleted {len(deleted)} resources." if deleted else "Nothing of the stack existed.")
    if remaining:
        raise RunFailure(f"{len(remaining)} resources remain: {', '.join(remaining)}")
    out.say(f"Nothing with prefix {target.prefix!r} remains.")


if __name__ == "__main__":
    main()
