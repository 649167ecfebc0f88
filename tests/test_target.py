"""Target resolution: the same options and env fallbacks for every script."""

import pytest

from blackfriday.target import DEFAULT_EMULATOR_PORT, ENDPOINT, Target, UsageProblem, resolve_target, validate_prefix


def test_defaults_are_the_local_emulator_in_us_east_1_with_prefix_blackfriday(monkeypatch):
    # GIVEN no options and no BF_EMULATOR_PORT
    monkeypatch.delenv("BF_EMULATOR_PORT", raising=False)
    # WHEN the target is resolved
    target = resolve_target(None, None, None, None)
    # THEN it is the local emulator on its fixed port
    assert target == Target("local", "us-east-1", "blackfriday", f"http://127.0.0.1:{DEFAULT_EMULATOR_PORT}")


def test_emulator_port_comes_from_bf_emulator_port(monkeypatch):
    monkeypatch.setenv("BF_EMULATOR_PORT", "4700")
    assert resolve_target("local", None, None, None).endpoint_url == "http://127.0.0.1:4700"


def test_aws_target_has_no_endpoint():
    target = resolve_target("aws", None, "eu-west-1", "shop")
    assert target == Target("aws", "eu-west-1", "shop", None)
    assert target.is_aws and not target.is_local


def test_endpoint_url_selects_an_existing_endpoint_and_drops_a_trailing_slash():
    target = resolve_target(None, "http://localhost:4566/", None, None)
    assert target == Target(ENDPOINT, "us-east-1", "blackfriday", "http://localhost:4566")


@pytest.mark.parametrize(
    ("target", "endpoint", "region", "prefix", "message"),
    [
        ("azure", None, None, None, "unknown target 'azure': use one of local, aws"),
        (None, "localhost:4566", None, None, "--endpoint-url 'localhost:4566' is not an http(s) URL"),
        (None, "http://localhost:99999", None, None, "--endpoint-url 'http://localhost:99999' has an invalid port"),
        ("aws", "http://localhost:4566", None, None, "--target aws talks to real AWS"),
        (None, None, "mars-1", None, "--region 'mars-1' is not an AWS region name"),
        ("aws", None, "us-iso-east-1", None, "--region us-iso-east-1 is in an isolated partition the stack does not support"),
        (None, None, None, "Shop", "--prefix 'Shop' must start with a lowercase letter"),
    ],
)
def test_bad_options_raise_a_configuration_error_naming_the_problem(target, endpoint, region, prefix, message):
    with pytest.raises(UsageProblem) as raised:
        resolve_target(target, endpoint, region, prefix)
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(
    ("prefix", "rule"),
    [
        ("", "must not be empty"),
        ("a" * 21, "at most 20 keep the bucket"),
        ("9lives", "must start with a lowercase letter"),
        ("black_friday", "only lowercase letters, digits and hyphens"),
        ("shop-", "must not end with a hyphen"),
        ("sh--op", "must not end with a hyphen or contain '--'"),
    ],
)
def test_prefix_rules(prefix, rule):
    with pytest.raises(UsageProblem, match=rule):
        validate_prefix(prefix)


def test_valid_prefix_is_returned():
    assert validate_prefix("bf-2026") == "bf-2026"
