"""The ASL file itself: every Task retries Lambda service errors and catches everything, and every failure
ends in MarkOrderFailed and the Fail state, through ReleaseInventory once stock may be held."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

from blackfriday.functions import FUNCTION_SPECS

ASL_PATH = Path(__file__).resolve().parents[2] / "statemachine" / "order_processing.asl.json"
LAMBDA_SERVICE_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}
# The execution environment died (crash, timeout): every step is idempotent, so another try is safe.
LAMBDA_ENVIRONMENT_ERRORS = {"Lambda.Unknown", "Runtime.ExitError", "Sandbox.Timedout"}
FORWARD_STEPS = ("ValidateOrder", "ReserveInventory", "ProcessPayment", "SendNotification", "GenerateReceipt")
PLACEHOLDERS = {f"function:{item.short_name}" for item in FUNCTION_SPECS} | {
    "topic:order_events", "topic:order_errors", "table:orders", "table:inventory", "bucket"}


@pytest.fixture(scope="module")
def definition() -> dict:
    return json.loads(ASL_PATH.read_text())


def tasks(definition: dict) -> dict[str, dict]:
    return {name: state for name, state in definition["States"].items() if state["Type"] == "Task"}


def test_placeholders_are_the_agreed_ones_and_moto_parses_the_rendered_definition():
    # GIVEN the file's placeholders
    template = ASL_PATH.read_text()
    used = set(re.findall(r"\$\{([^}]*)\}", template))
    # THEN each is one the resources engineer renders, and the rendered definition parses in moto's interpreter
    assert used <= PLACEHOLDERS
    rendered = re.sub(r"\$\{function:(\w+)\}", r"arn:aws:lambda:us-east-1:123456789012:function:bf-\1", template)
    program, _ = AmazonStateLanguageParser.parse(rendered)
    assert list(program.states.states) == list(json.loads(template)["States"])


def test_the_happy_path_is_the_five_steps_in_order(definition):
    # GIVEN the definition WHEN followed through Next from StartAt THEN the five steps, then success
    path, name = [], definition["StartAt"]
    while "Next" in definition["States"][name]:
        path.append(name)
        name = definition["States"][name]["Next"]
    assert path + [name] == [*FORWARD_STEPS, "OrderCompleted"]
    assert definition["States"]["OrderCompleted"] == {"Type": "Succeed"}


def test_every_task_calls_its_own_lambda_and_retries_lambda_service_and_environment_errors(definition):
    for name, state in tasks(definition).items():
        short_name = re.fullmatch(r"\$\{function:(\w+)\}", state["Resource"]).group(1)
        assert short_name in {item.short_name for item in FUNCTION_SPECS}, name
        service_retrier, environment_retrier = state["Retry"][:2]
        assert set(service_retrier["ErrorEquals"]) == LAMBDA_SERVICE_ERRORS, name
        assert set(environment_retrier["ErrorEquals"]) == LAMBDA_ENVIRONMENT_ERRORS, name
        for retrier in (service_retrier, environment_retrier):
            assert (retrier["BackoffRate"], retrier["JitterStrategy"]) == (2, "FULL"), name


def test_every_task_catches_everything_as_its_last_catcher(definition):
    for name, state in tasks(definition).items():
        assert state["Catch"][-1]["ErrorEquals"] == ["States.ALL"], name


def catch_targets(state: dict) -> dict[str, str]:
    return {error: catcher["Next"] for catcher in state["Catch"] for error in catcher["ErrorEquals"]}


def test_failures_before_a_reservation_go_straight_to_mark_order_failed(definition):
    states = definition["States"]
    assert catch_targets(states["ValidateOrder"]) == {"ValidationError": "MarkOrderFailed", "States.ALL": "MarkOrderFailed"}
    # OutOfStock means the all-or-none transaction took nothing; anything else may have taken stock.
    assert catch_targets(states["ReserveInventory"]) == {"OutOfStock": "MarkOrderFailed", "States.ALL": "ReleaseInventory"}


@pytest.mark.parametrize("step", ["ProcessPayment", "SendNotification", "GenerateReceipt"])
def test_failures_after_the_reservation_release_it_first(definition, step):
    assert set(catch_targets(definition["States"][step]).values()) == {"ReleaseInventory"}


def test_compensation_ends_in_the_fail_state_with_the_domain_error(definition):
    states = definition["States"]
    # GIVEN the compensation chain WHEN anything happens in it THEN it still reaches MarkOrderFailed, then OrderFailed
    assert states["ReleaseInventory"]["Next"] == "MarkOrderFailed"
    assert set(catch_targets(states["ReleaseInventory"]).values()) == {"MarkOrderFailed"}
    assert states["MarkOrderFailed"]["Next"] == "OrderFailed"
    assert set(catch_targets(states["MarkOrderFailed"]).values()) == {"OrderFailed"}
    # The caught error stays at $.error on the way (the compensation steps' own errors go elsewhere).
    assert {catcher["ResultPath"] for name in FORWARD_STEPS for catcher in states[name]["Catch"]} == {"$.error"}
    assert states["MarkOrderFailed"]["Parameters"]["error.$"] == "$.error"
    assert {key: states["OrderFailed"][key] for key in ("Type", "ErrorPath", "CausePath")} == {
        "Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"}


def test_payment_gets_its_retry_count_and_retries_gateway_timeouts_with_jittered_backoff(definition):
    payment = definition["States"]["ProcessPayment"]
    assert payment["Parameters"]["attempt.$"] == "$$.State.RetryCount"
    [timeout_retrier] = [retrier for retrier in payment["Retry"] if retrier["ErrorEquals"] == ["PaymentGatewayTimeout"]]
    assert timeout_retrier["MaxAttempts"] >= 2
    assert timeout_retrier["BackoffRate"] > 1
    assert timeout_retrier["JitterStrategy"] == "FULL"
    assert catch_targets(payment)["PaymentDeclined"] == "ReleaseInventory"
