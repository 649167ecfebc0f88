"""The library's exceptions and the one way to read an AWS error; only the CLI layer maps them to exit codes.

UsageProblem: bad options, environment or a stack that is not there: nothing was touched (the CLI exits 2).
RunFailure: something failed while working (an AWS call, a lost upload): the CLI exits 1.
"""

from __future__ import annotations

from botocore.exceptions import ClientError


class PipelineError(Exception):
    """Any failure the library reports in one line."""


class UsageProblem(PipelineError):
    """Bad options or environment, reported before anything is touched."""


class StackNotReady(UsageProblem):
    """The stack (or part of it) does not exist: run setup_infra.py first."""


class RunFailure(PipelineError):
    """A failure at run time."""


def error_code(error: ClientError) -> str:
    """An AWS error's code ("QueueDoesNotExist", "404", ...), empty when the answer has none."""
    return error.response.get("Error", {}).get("Code", "")


def error_message(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Message", "")


def describe_client_error(error: ClientError, resource: str | None = None) -> str:
    """One line naming the call, the resource (when known), the code and AWS's message."""
    operation = error.operation_name or "request"
    on = f" on {resource}" if resource else ""
    return f"{operation}{on} failed: {error_code(error) or 'Unknown'}: {error_message(error)}".rstrip(": ")
