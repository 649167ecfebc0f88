"""Run the top-level scripts' click commands in-process (click's CliRunner), with an environment the test controls.

A real process is only needed for what the interpreter itself does (signals, an uncaught traceback);
everything else runs here, sparing an interpreter start and the imports per call.
"""

from __future__ import annotations

import os

from click.testing import CliRunner, Result

# What the machine may carry that could point a run elsewhere, or at real credentials.
FOREIGN_PREFIXES = ("AWS_", "BF_")


def script_env(**values: str) -> dict[str, str | None]:
    """For CliRunner: every AWS_/BF_ variable of this process unset, then `values` set."""
    return {**{key: None for key in os.environ if key.startswith(FOREIGN_PREFIXES)}, **values}


def no_aws_config(**values: str) -> dict[str, str | None]:
    """No AWS configuration at all: no variables, no config or credentials file, no instance metadata."""
    return script_env(
        AWS_CONFIG_FILE="/nonexistent/config",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent/credentials",
        AWS_EC2_METADATA_DISABLED="true",
        **values,
    )


def run_command(command, *args: str, env: dict[str, str | None] | None = None) -> Result:
    """The command's exit code, stdout and stderr, as the shell would see them."""
    return CliRunner().invoke(command, list(args), env=script_env() if env is None else env)
