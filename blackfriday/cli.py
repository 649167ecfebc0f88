"""Conventions shared by the four scripts: target options, --json, and how errors end a run.

Exit codes: 2 for usage or configuration (nothing was touched), 1 for a failure at run time,
130 for Ctrl-C. Errors are one line on stderr; `--debug` shows the traceback instead.
"""

from __future__ import annotations

import functools
import sys

import click
from botocore.exceptions import BotoCoreError, ClientError

from blackfriday.errors import PipelineError, RunFailure, UsageProblem, describe_client_error
from blackfriday.target import DEFAULT_PREFIX, DEFAULT_REGION, TARGETS, Target, resolve_target
from blackfriday.ui import Output

EXIT_RUNTIME_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UsageFailure(click.ClickException):
    """A usage or configuration error: one line, exit 2."""

    exit_code = EXIT_USAGE


class RuntimeFailure(click.ClickException):
    """A failure at run time (an AWS call, a lost upload): one line, exit 1."""

    exit_code = EXIT_RUNTIME_FAILURE


class PipelineCommand(click.Command):
    """A click command whose every error is one line on stderr with the project's exit codes."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.Exit as done:
            sys.exit(done.exit_code)
        except click.UsageError as error:
            # click's own usage errors print the usage block too; ours stay one line.
            click.echo(f"Error: {error.format_message()}", err=True)
            sys.exit(EXIT_USAGE)
        except click.ClickException as error:
            click.echo(f"Error: {error.format_message()}", err=True)
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("Interrupted.", err=True)
            sys.exit(EXIT_INTERRUPTED)
        # Without standalone mode click hands back ctx.exit(code) as the return value.
        sys.exit(result if isinstance(result, int) else 0)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            raise click.Abort() from None
        except Exception as error:  # every other error becomes one clear line unless --debug
            if ctx.params.get("debug"):
                raise
            raise translate_error(error) from error


def translate_error(error: Exception) -> click.ClickException:
    """The library's plain exceptions (and boto's) as one line with the project's exit code."""
    if isinstance(error, UsageProblem):
        return UsageFailure(str(error))
    if isinstance(error, PipelineError):
        return RuntimeFailure(str(error))
    if isinstance(error, ClientError):
        return RuntimeFailure(describe_client_error(error))
    if isinstance(error, BotoCoreError):
        return RuntimeFailure(str(error))
    return RuntimeFailure(f"{type(error).__name__}: {error}")


def target_options(func):
    """Add the shared target options and pass the resolved `target: Target` to the command."""

    @click.option(
        "--target",
        "target_kind",
        envvar="BF_TARGET",
        show_envvar=True,
        metavar="|".join(TARGETS),
        help="Where the stack lives: the local emulator (default) or real AWS.",
    )
    @click.option(
        "--endpoint-url",
        envvar="AWS_ENDPOINT_URL",
        show_envvar=True,
        help="Any AWS-compatible endpoint already running (LocalStack, a moto server).",
    )
    @click.option(
        "--region",
        envvar=["AWS_REGION", "AWS_DEFAULT_REGION"],
        show_envvar=True,
        help=f"AWS region.  [default: {DEFAULT_REGION}]",
    )
    @click.option(
        "--prefix",
        envvar="BF_PREFIX",
        show_envvar=True,
        help=f"Every resource name starts with it, so stacks can live side by side.  [default: {DEFAULT_PREFIX}]",
    )
    @click.option("--debug", is_flag=True, envvar="BF_DEBUG", help="Show full tracebacks on errors.")
    @functools.wraps(func)
    def wrapper(*args, target_kind, endpoint_url, region, prefix, debug, **kwargs):
        target = resolve_target(target_kind, endpoint_url, region, prefix)
        return func(*args, target=target, **kwargs)

    return wrapper


def json_option(func):
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout instead of tables.")(func)


def yes_option(func):
    return click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation on --target aws.")(func)


def confirm_on_aws(out: Output, target: Target, account: str, intent: str, yes: bool) -> None:
    """On --target aws: name the account and region, then ask unless --yes; no prompt without a terminal."""
    if not target.is_aws:
        return
    out.say(f"AWS account {account}, region {target.region}: about to {intent}.")
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageProblem(f"--target aws asks for confirmation and standard input is not a terminal: pass --yes to {intent}")
    if not click.confirm("Continue?", default=False, err=out.as_json):
        raise RunFailure("not confirmed: nothing was changed")
