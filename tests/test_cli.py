"""The shared CLI conventions of the four scripts: options, env fallbacks, one-line errors, exit codes."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import consumer
import producer
import setup_infra
import teardown
from tests.scripts import no_aws_config, run_command

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = {"setup_infra.py": setup_infra.main, "teardown.py": teardown.main, "producer.py": producer.main, "consumer.py": consumer.main}


def run_script(script, *args, env=None):
    return run_command(SCRIPTS[script], *args, env=no_aws_config(**(env or {})))


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_shows_the_shared_options_with_their_env_fallbacks(script):
    result = run_script(script, "--help")
    assert result.exit_code == 0
    help_text = " ".join(result.stdout.split())
    for expected in (
        "--target local|aws",
        "[env var: BF_TARGET]",
        "--endpoint-url TEXT",
        "[env var: AWS_ENDPOINT_URL]",
        "--region TEXT",
        "[default: us-east-1] [env var: AWS_REGION, AWS_DEFAULT_REGION]",
        "--prefix TEXT",
        "[default: blackfriday] [env var: BF_PREFIX]",
        "--debug",
    ):
        assert expected in help_text, f"{script} --help lacks {expected!r}"


@pytest.mark.parametrize("script", SCRIPTS)
def test_unknown_target_is_one_line_exit_2(script):
    result = run_script(script, "--target", "azure")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == "Error: unknown target 'azure': use one of local, aws\n"


@pytest.mark.parametrize("script", SCRIPTS)
def test_target_from_env_fallback_is_validated_too(script):
    result = run_script(script, env={"BF_TARGET": "gcp"})
    assert (result.exit_code, result.stderr) == (2, "Error: unknown target 'gcp': use one of local, aws\n")


@pytest.mark.parametrize("script", SCRIPTS)
def test_malformed_endpoint_url_is_one_line_exit_2(script):
    result = run_script(script, "--endpoint-url", "localhost:4566")
    assert result.exit_code == 2
    assert result.stderr == ("Error: --endpoint-url 'localhost:4566' is not an http(s) URL such as http://localhost:4566\n")


@pytest.mark.parametrize("script", SCRIPTS)
def test_endpoint_that_does_not_answer_is_one_line_exit_2(script):
    url = f"http://127.0.0.1:{closed_port()}"
    result = run_script(script, env={"AWS_ENDPOINT_URL": url})
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"Error: endpoint {url} does not answer\n"


@pytest.mark.parametrize("script", SCRIPTS)
def test_aws_target_without_credentials_is_one_line_exit_2(script):
    result = run_script(script, "--target", "aws")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "Error: no AWS credentials found for --target aws: configure a profile (aws configure), "
        "set AWS_PROFILE, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n"
    )


@pytest.mark.parametrize("script", SCRIPTS)
def test_a_region_of_an_unsupported_partition_is_refused_before_anything_is_asked(script):
    result = run_script(script, "--target", "aws", "--region", "us-isob-east-1")
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: --region us-isob-east-1 is in an isolated partition the stack does not support: "
        "use a region of aws, aws-cn (cn-*) or aws-us-gov (us-gov-*)\n",
    )


def test_bad_prefix_names_the_rule_it_breaks():
    result = run_script("setup_infra.py", "--prefix", "Black_Friday")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --prefix 'Black_Friday' must start with a lowercase letter and contain only lowercase "
        "letters, digits and hyphens (S3 bucket naming rules)\n"
    )


def test_debug_shows_the_traceback_instead_of_one_line():
    # A real process: the traceback is the interpreter's, printed for the exception no layer caught.
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "BF_"))}
    result = subprocess.run(
        [sys.executable, str(ROOT / "setup_infra.py"), "--target", "azure", "--debug"],
        capture_output=True, text=True, env=environment, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "UsageProblem: unknown target 'azure'" in result.stderr


def test_an_exit_code_chosen_by_a_command_reaches_the_shell():
    import click

    from blackfriday.cli import PipelineCommand

    @click.command(cls=PipelineCommand)
    def exits_three():
        click.get_current_context().exit(3)

    assert run_command(exits_three).exit_code == 3
