"""The one question setup and teardown ask before touching real AWS."""

from __future__ import annotations

import sys

import click

from blackfriday.cli import RunFailure, UsageProblem
from blackfriday.target import Target
from blackfriday.ui import Output


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
