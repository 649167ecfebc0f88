"""consumer.py's bad inputs: one line on stderr, exit 2, nothing touched."""

import pytest

import consumer
from tests.scripts import run_command, script_env


def run_consumer(*args: str, endpoint: str = "http://127.0.0.1:9", prefix: str = "nothere"):
    return run_command(consumer.main, *args, env=script_env(AWS_ENDPOINT_URL=endpoint, BF_PREFIX=prefix))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--workers", "0"), "Error: Invalid value for '--workers': 0 is not in the range x>=1.\n"),
        (("--queues", "shipping,billing"), "Error: unknown queue 'billing' in --queues: use shipping, analytics or shipping,analytics\n"),
        (("--queues", ","), "Error: unknown queue ',' in --queues: use shipping, analytics or shipping,analytics\n"),
        (("--max-inflight", "0"), "Error: Invalid value for '--max-inflight': 0 is not in the range x>=1.\n"),
        (("--duration", "0"), "Error: Invalid value for '--duration': 0.0 is not in the range x>0.\n"),
        (("--redrive", "billing"), "Error: Invalid value for '--redrive': 'billing' is not one of 'shipping', 'analytics'.\n"),
    ],
)
def test_bad_options_exit_2_with_one_line_before_anything_is_touched(args, message):
    # GIVEN an endpoint where nothing listens: a check that ran would say so instead
    # WHEN the consumer gets a bad option / THEN it names the problem in one line and exits 2
    result = run_consumer(*args)
    assert (result.exit_code, result.stderr, result.stdout) == (2, message, "")


@pytest.mark.emulator
def test_a_stack_that_is_not_set_up_exits_2_and_says_to_run_setup_infra(emulator_url):
    # GIVEN a running emulator with no stack under this prefix
    # WHEN the consumer starts
    result = run_consumer("--until-empty", endpoint=emulator_url, prefix="absentstack")

    # THEN it exits 2 with one line naming the missing piece and the fix
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: the stack with prefix 'absentstack' is not deployed (bucket absentstack-orders-123456789012-us-east-1 "
        "is missing): run `python setup_infra.py` first\n"
    )
