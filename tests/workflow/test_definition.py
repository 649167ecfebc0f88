"""The ASL file itself: every Task retries Lambda service errors and catches everything; business rejections
are routed by Choice states; every failure ends in MarkOrderFailed and the Fail state, through ReleaseInventory
once stock may be held; the customer is told once, after the receipt."""

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
FORWARD_STEPS = ("ValidateOrder", "ReserveInventory", "ProcessPayment", "GenerateReceipt", "SendNotification")
# Step -> (its Choice, the Pass state that makes a returned rejection the order's $.error, where that goes next)
REJECTING_STEPS = {
    "ValidateOrder": ("OrderValid?", "OrderInvalid", "MarkOrderFailed"),
    "ReserveInventory": ("StockReserved?", "OutOfStock", "MarkOrderFailed"),
    "ProcessPayment": ("PaymentApproved?", "PaymentDeclined", "ReleaseInventory"),
}
MARK_FAILED_STATES = ("MarkOrderFailed", "MarkOrderFailedHoldingStock")
PLACEHOLDERS = {f"function:{item.short_name}" for item in FUNCTION_SPECS} | {
    "topic:order_events",
    "topic:order_errors",
    "table:orders",
    "table:inventory",
    "bucket",
}


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


def test_the_happy_path_is_the_five_steps_in_order_receipt_before_the_notification(definition):
    # GIVEN the definition WHEN followed from StartAt through Next (a Choice's Default) THEN the five steps, then success
    path, name = [], definition["StartAt"]
    while (state := definition["States"][name]).get("Next", state.get("Default")):
        if state["Type"] == "Task":
            path.append(name)
        name = state.get("Next", state.get("Default"))
    assert path + [name] == [*FORWARD_STEPS, "OrderCompleted"]
    assert definition["States"]["OrderCompleted"] == {"Type": "Succeed"}


@pytest.mark.parametrize("step", list(REJECTING_STEPS))
def test_a_returned_business_rejection_becomes_the_error_and_fails_the_order(definition, step):
    states = definition["States"]
    choice, rejected, target = REJECTING_STEPS[step]
    result_path = states[step]["ResultPath"]
    # GIVEN the step's result WHEN it holds a rejection THEN the Choice sends it to a Pass that moves it to $.error
    assert states[step]["Next"] == choice
    assert states[choice]["Choices"] == [{"Variable": f"{result_path}.rejection", "IsPresent": True, "Next": rejected}]
    assert {key: states[rejected][key] for key in ("Type", "InputPath", "ResultPath", "Next")} == {
        "Type": "Pass",
        "InputPath": f"{result_path}.rejection",
        "ResultPath": "$.error",
        "Next": target,
    }


def test_the_notification_comes_last_and_a_failed_one_leaves_the_completed_order_alone(definition):
    states = definition["States"]
    assert states["GenerateReceipt"]["Next"] == "SendNotification"
    assert states["SendNotification"]["Parameters"]["receipt.$"] == "$.receipt"
    assert states["SendNotification"]["Retry"][-1]["ErrorEquals"] == ["States.ALL"]
    # The order is COMPLETED by then: no release, no FAILED mark, no second message; the execution fails as a fault.
    assert catch_targets(states["SendNotification"]) == {"States.ALL": "ConfirmationNotSent"}
    assert {key: states["ConfirmationNotSent"][key] for key in ("Type", "Error")} == {"Type": "Fail", "Error": "ConfirmationNotSent"}


LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"


def lambda_event(state: dict) -> dict:
    """What the task's Lambda receives: its Parameters, or their Payload for the lambda:invoke integration."""
    return state["Parameters"]["Payload"] if state["Resource"].startswith(LAMBDA_INVOKE) else state["Parameters"]


def lambda_of(state: dict) -> str:
    return state["Parameters"]["FunctionName"] if state["Resource"].startswith(LAMBDA_INVOKE) else state["Resource"]


def test_every_task_is_told_its_execution_name_for_its_log_lines(definition):
    for name, state in tasks(definition).items():
        assert lambda_event(state)["execution.$"] == "$$.Execution.Name", name


def test_every_task_calls_its_own_lambda_and_retries_lambda_service_and_environment_errors(definition):
    for name, state in tasks(definition).items():
        short_name = re.fullmatch(r"\$\{function:(\w+)\}", lambda_of(state)).group(1)
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
    assert catch_targets(states["ValidateOrder"]) == {"States.ALL": "MarkOrderFailed"}
    # A fault in the reservation step may have taken stock (an OutOfStock rejection took none: see its Choice).
    assert catch_targets(states["ReserveInventory"]) == {"States.ALL": "ReleaseInventory"}


@pytest.mark.parametrize("step", ["ProcessPayment", "GenerateReceipt"])
def test_failures_after_the_reservation_release_it_first(definition, step):
    assert catch_targets(definition["States"][step]) == {"States.ALL": "ReleaseInventory"}


def test_compensation_ends_in_the_fail_state_with_the_domain_error(definition):
    states = definition["States"]
    # GIVEN the compensation chain WHEN anything happens in it THEN it still reaches MarkOrderFailed, then OrderFailed
    assert states["ReleaseInventory"]["Next"] == "MarkOrderFailed"
    # A release out of retries is recorded on the order (releaseError) by the MarkOrderFailed that passes it on.
    assert catch_targets(states["ReleaseInventory"]) == {"States.ALL": "MarkOrderFailedHoldingStock"}
    assert states["ReleaseInventory"]["Catch"][0]["ResultPath"] == "$.releaseError"
    assert states["MarkOrderFailedHoldingStock"]["Parameters"]["releaseError.$"] == "$.releaseError"
    for name in MARK_FAILED_STATES:
        assert states[name]["Resource"] == "${function:mark_order_failed}"
        assert states[name]["Next"] == "OrderFailed"
        assert set(catch_targets(states[name]).values()) == {"OrderFailed"}
        assert states[name]["Parameters"]["error.$"] == "$.error"
    # The caught error stays at $.error on the way (the compensation steps' own errors go elsewhere).
    assert {catcher["ResultPath"] for name in FORWARD_STEPS[:-1] for catcher in states[name]["Catch"]} == {"$.error"}
    assert {key: states["OrderFailed"][key] for key in ("Type", "ErrorPath", "CausePath")} == {
        "Type": "Fail",
        "ErrorPath": "$.error.Error",
        "CausePath": "$.error.Cause",
    }


def test_payment_gets_its_retry_count_and_retries_gateway_timeouts_with_jittered_backoff(definition):
    payment = definition["States"]["ProcessPayment"]
    assert payment["Parameters"]["attempt.$"] == "$$.State.RetryCount"
    [timeout_retrier] = [retrier for retrier in payment["Retry"] if retrier["ErrorEquals"] == ["PaymentGatewayTimeout"]]
    assert timeout_retrier["MaxAttempts"] >= 2
    assert timeout_retrier["BackoffRate"] > 1
    assert timeout_retrier["JitterStrategy"] == "FULL"
    assert catch_targets(payment)["States.ALL"] == "ReleaseInventory"  # a timeout out of retries too


def test_a_big_order_waits_for_a_person_after_its_reservation_and_before_its_payment(definition):
    states = definition["States"]
    # GIVEN a reservation WHEN ReserveInventory says the order needs approval THEN it waits in AwaitApproval, else it is charged
    assert states["StockReserved?"]["Default"] == "NeedsApproval?"
    assert states["NeedsApproval?"]["Choices"] == [
        {"Variable": "$.reservation.needsApproval", "BooleanEquals": True, "Next": "AwaitApproval"}
    ]
    assert states["NeedsApproval?"]["Default"] == "ProcessPayment"
    waiting = states["AwaitApproval"]
    # AND the wait is a task token handed to request_approval, bounded by the timeout ReserveInventory passes on
    assert waiting["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
    assert waiting["Parameters"]["FunctionName"] == "${function:request_approval}"
    assert waiting["Parameters"]["Payload"]["token.$"] == "$$.Task.Token"
    assert waiting["Parameters"]["Payload"]["timeoutSeconds.$"] == waiting["TimeoutSecondsPath"] == "$.reservation.approvalTimeoutSeconds"
    # AND approved it is charged; rejected (SendTaskFailure) or timed out, its stock is released and it fails with the reason
    assert (waiting["ResultPath"], waiting["Next"]) == ("$.approval", "ProcessPayment")
    assert catch_targets(waiting) == {"States.Timeout": "ApprovalExpired", "States.ALL": "ReleaseInventory"}
    assert {catcher["ResultPath"] for catcher in waiting["Catch"]} == {"$.error"}
    expired = states["ApprovalExpired"]
    assert (expired["Type"], expired["ResultPath"], expired["Next"], expired["Result"]["Error"]) == (
        "Pass",
        "$.error",
        "ReleaseInventory",
        "ApprovalExpired",
    )
