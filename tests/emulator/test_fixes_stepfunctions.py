"""The Step Functions fixes: same programs and clients as moto's, built once; and answers as on AWS (real emulator)."""

from __future__ import annotations

import json
import threading

import pytest
from botocore.exceptions import ClientError
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.utils import boto_client

from blackfriday.emulator import fixes

REGION = "us-east-1"


def test_step_functions_clients_are_shared_per_region_and_service():
    with fixes.applied():
        # GIVEN the fix, WHEN the interpreter asks for clients as its Lambda task does
        lambda_client = lambda_eval_utils.boto_client_for(region=REGION, service="lambda", state_credentials=object())
        again = boto_client.boto_client_for(REGION, "lambda", None)
        other_region = boto_client.boto_client_for("eu-west-1", "lambda")
        sns_client = boto_client.boto_client_for(REGION, "sns")
    # THEN one client per (region, service), whatever the (unhashable) credentials, also through the
    # name lambda_eval_utils imported
    assert again is lambda_client
    assert other_region is not lambda_client and other_region.meta.region_name == "eu-west-1"
    assert sns_client.meta.service_model.service_name == "sns"
    assert lambda_eval_utils.boto_client_for is boto_client.boto_client_for


def test_a_definition_is_parsed_once_and_its_program_serves_every_execution():
    # GIVEN the parse cache over ExecutionWorker._get_evaluation_entrypoint
    from types import SimpleNamespace

    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    def worker_for(definition):
        details = SimpleNamespace(state_machine_details=SimpleNamespace(definition=definition))
        return SimpleNamespace(_evaluation_details=details)

    first = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    second = json.dumps({"StartAt": "Stop", "States": {"Stop": {"Type": "Fail", "Error": "Nope"}}})
    with fixes.applied():
        entrypoint = ExecutionWorker._get_evaluation_entrypoint
        # WHEN executions of the same and of another definition ask for their program
        programs = [entrypoint(worker_for(definition)) for definition in (first, first, second)]
    # THEN the same definition yields the very same parsed program, another definition its own
    assert programs[0] is programs[1]
    assert programs[2] is not programs[0]
    assert type(programs[0]).__name__ == "Program"


# --- Where moto's interpreter differs from AWS, on the real emulator --------------------------------------

STATUS_POLLS = 600  # x 0.05 s: how long a test waits for an execution to end before failing
RECEIVE_ROUNDS = 10  # x up to 2 s long polls


def create_state_machine(gateway, name: str, states: dict, start_at: str) -> str:
    return gateway.client("stepfunctions").create_state_machine(
        name=f"{gateway.target.prefix}-{name}",
        definition=json.dumps({"StartAt": start_at, "States": states}),
        roleArn=f"arn:aws:iam::123456789012:role/{gateway.target.prefix}-states",
    )["stateMachineArn"]


def finished(sfn, execution_arn: str) -> dict:
    """DescribeExecution once the execution has left RUNNING (bounded wait)."""
    for _ in range(STATUS_POLLS):
        description = sfn.describe_execution(executionArn=execution_arn)
        if description["status"] != "RUNNING":
            return description
        threading.Event().wait(0.05)
    raise AssertionError(f"{execution_arn} still RUNNING")


def receive(sqs, queue_url: str, count: int) -> list[dict]:
    """The bodies of `count` messages (decoded JSON), long-polling a bounded number of times."""
    bodies: list[dict] = []
    for _ in range(RECEIVE_ROUNDS):
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=2).get("Messages", []):
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        if len(bodies) >= count:
            break
    return bodies


def waiting_task(queue_url: str, **timeouts) -> dict:
    """A task that sends its token to a queue and waits for SendTask* (as the approval step does)."""
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": queue_url, "MessageBody": {"token.$": "$$.Task.Token"}},
        "End": True,
        **timeouts,
    }


@pytest.fixture
def token_queue(emulator_gateway) -> str:
    return emulator_gateway.client("sqs").create_queue(QueueName=f"{emulator_gateway.target.prefix}-tokens")["QueueUrl"]


@pytest.mark.emulator
@pytest.mark.parametrize(("result", "expected_output"), [("big", '"big"'), ({"size": "big", "units": 2}, '{"size":"big","units":2}')])
def test_describe_execution_output_is_json_text(emulator_gateway, result, expected_output):
    # GIVEN a state machine whose result is a string, or an object
    sfn = emulator_gateway.client("stepfunctions")
    arn = create_state_machine(emulator_gateway, "result", {"Size": {"Type": "Pass", "Result": result, "End": True}}, "Size")
    # WHEN an execution succeeds
    description = finished(sfn, sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"])
    # THEN its output is the result as JSON text, as in its history
    assert description["status"] == "SUCCEEDED"
    assert description["output"] == expected_output
    assert json.loads(description["output"]) == result
    events = sfn.get_execution_history(executionArn=description["executionArn"])["events"]
    assert events[-1]["executionSucceededEventDetails"]["output"] == expected_output


@pytest.mark.emulator
def test_send_task_failure_keeps_its_cause(emulator_gateway, token_queue):
    # GIVEN an execution waiting for its task token
    sfn, sqs = emulator_gateway.client("stepfunctions"), emulator_gateway.client("sqs")
    arn = create_state_machine(emulator_gateway, "approval", {"Approve": waiting_task(token_queue)}, "Approve")
    execution_arn = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    [message] = receive(sqs, token_queue, 1)
    # WHEN the task is failed with an error and a cause
    sfn.send_task_failure(taskToken=message["token"], error="Rejected", cause="not enough stock")
    # THEN the execution fails with both, and the task's failure in the history carries the cause
    description = finished(sfn, execution_arn)
    assert (description["status"], description["error"], description["cause"]) == ("FAILED", "Rejected", "not enough stock")
    events = sfn.get_execution_history(executionArn=execution_arn)["events"]
    assert [event["taskFailedEventDetails"]["cause"] for event in events if event["type"] == "TaskFailed"] == ["not enough stock"]


@pytest.mark.emulator
def test_a_missed_heartbeat_fails_with_states_heartbeat_timeout(emulator_gateway, token_queue):
    # GIVEN a task that must send a heartbeat every second, and may wait a minute in all
    sfn, sqs = emulator_gateway.client("stepfunctions"), emulator_gateway.client("sqs")
    arn = create_state_machine(
        emulator_gateway, "heartbeat", {"Approve": waiting_task(token_queue, HeartbeatSeconds=1, TimeoutSeconds=60)}, "Approve"
    )
    execution_arn = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    # WHEN nobody sends a heartbeat
    description = finished(sfn, execution_arn)
    # THEN the task times out on its heartbeat, named as on AWS
    assert (description["status"], description["error"]) == ("FAILED", "States.HeartbeatTimeout")
    events = sfn.get_execution_history(executionArn=execution_arn)["events"]
    assert [event["taskTimedOutEventDetails"]["error"] for event in events if event["type"] == "TaskTimedOut"] == [
        "States.HeartbeatTimeout"
    ]
    assert len(receive(sqs, token_queue, 1)) == 1  # the task did send its token


@pytest.mark.emulator
def test_stop_execution_ends_a_waiting_task_at_once_and_closes_its_token(emulator_gateway, token_queue):
    # GIVEN an execution waiting up to an hour for its task token, with a Catch that would swallow a timeout
    sfn, sqs = emulator_gateway.client("stepfunctions"), emulator_gateway.client("sqs")
    task = {**waiting_task(token_queue, TimeoutSeconds=3600), "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]}
    arn = create_state_machine(emulator_gateway, "stopped", {"Approve": task, "Caught": {"Type": "Succeed"}}, "Approve")
    execution_arn = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    [message] = receive(sqs, token_queue, 1)
    # WHEN it is stopped
    sfn.stop_execution(executionArn=execution_arn, error="Cancelled", cause="the customer cancelled")
    # THEN it is ABORTED as soon as StopExecution answers, and its history ends there, without a task failure
    description = sfn.describe_execution(executionArn=execution_arn)
    assert description["status"] == "ABORTED"
    types = [event["type"] for event in sfn.get_execution_history(executionArn=execution_arn)["events"]]
    assert types[-3:] == ["TaskStarted", "TaskSubmitted", "ExecutionAborted"]
    assert "TaskTimedOut" not in types and "TaskFailed" not in types
    # AND its token is closed: every SendTask* with it fails with TaskTimedOut, as on AWS
    for send in (
        lambda: sfn.send_task_success(taskToken=message["token"], output="{}"),
        lambda: sfn.send_task_failure(taskToken=message["token"], error="Late"),
        lambda: sfn.send_task_heartbeat(taskToken=message["token"]),
    ):
        with pytest.raises(ClientError) as refused:
            send()
        assert refused.value.response["Error"]["Code"] == "TaskTimedOut"


def status_change_rule(gateway, state_machine_arn: str, target_arn: str) -> None:
    events = gateway.client("events")
    rule = f"{gateway.target.prefix}-{state_machine_arn.rsplit(':', 1)[-1]}"
    events.put_rule(
        Name=rule,
        EventPattern=json.dumps(
            {
                "source": ["aws.states"],
                "detail-type": ["Step Functions Execution Status Change"],
                "detail": {"stateMachineArn": [state_machine_arn]},
            }
        ),
    )
    events.put_targets(Rule=rule, Targets=[{"Id": "target", "Arn": target_arn}])


@pytest.mark.emulator
def test_execution_status_changes_reach_an_event_bridge_rule(emulator_gateway):
    # GIVEN a rule on aws.states status changes of one state machine, with a queue as its target
    sfn, sqs = emulator_gateway.client("stepfunctions"), emulator_gateway.client("sqs")
    queue_url = sqs.create_queue(QueueName=f"{emulator_gateway.target.prefix}-status")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    succeeding = create_state_machine(emulator_gateway, "succeeds", {"Done": {"Type": "Pass", "Result": "big", "End": True}}, "Done")
    failing = create_state_machine(
        emulator_gateway, "fails", {"Stop": {"Type": "Fail", "Error": "OrderFailed", "Cause": "no stock"}}, "Stop"
    )
    status_change_rule(emulator_gateway, succeeding, queue_arn)
    status_change_rule(emulator_gateway, failing, queue_arn)
    # WHEN one execution succeeds and one fails
    succeeded = finished(sfn, sfn.start_execution(stateMachineArn=succeeding, name="ok", input='{"orderId":"o-1"}')["executionArn"])
    failed = finished(sfn, sfn.start_execution(stateMachineArn=failing, name="ko", input="{}")["executionArn"])
    # THEN the queue gets each one's RUNNING and final event, shaped as AWS sends them
    events = receive(sqs, queue_url, 4)
    by_status = {(event["detail"]["name"], event["detail"]["status"]): event for event in events}
    assert sorted(by_status) == [("ko", "FAILED"), ("ko", "RUNNING"), ("ok", "RUNNING"), ("ok", "SUCCEEDED")]
    done = by_status[("ok", "SUCCEEDED")]
    assert (done["source"], done["detail-type"], done["resources"]) == (
        "aws.states",
        "Step Functions Execution Status Change",
        [succeeded["executionArn"]],
    )
    assert {
        key: done["detail"][key]
        for key in ("executionArn", "stateMachineArn", "input", "output", "inputDetails", "outputDetails", "error", "cause")
    } == {
        "executionArn": succeeded["executionArn"],
        "stateMachineArn": succeeding,
        "input": '{"orderId":"o-1"}',
        "output": '"big"',
        "inputDetails": {"included": True},
        "outputDetails": {"included": True},
        "error": None,
        "cause": None,
    }
    assert done["detail"]["startDate"] == int(succeeded["startDate"].timestamp() * 1000)
    assert done["detail"]["stopDate"] == int(succeeded["stopDate"].timestamp() * 1000)
    running = by_status[("ok", "RUNNING")]["detail"]
    assert (running["stopDate"], running["output"], running["outputDetails"]) == (None, None, None)
    ko = by_status[("ko", "FAILED")]["detail"]
    assert (ko["error"], ko["cause"], ko["output"], ko["redriveStatus"]) == ("OrderFailed", "no stock", None, "REDRIVABLE")
    assert failed["status"] == "FAILED"


def test_state_machines_execute_and_their_interpreter_calls_the_given_port(monkeypatch):
    import moto.settings
    from moto.core.config import default_user_config
    from moto.stepfunctions import responses
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    # GIVEN moto's defaults: executions only recorded, the interpreter's clients aimed at port 5000
    monkeypatch.delenv("MOTO_PORT", raising=False)
    monkeypatch.setitem(default_user_config["stepfunctions"], "execute_state_machine", False)
    assert moto.settings.moto_server_port() == "5000"
    # WHEN the emulator's settings are made for port 4731
    fixes.stepfunctions.execute_state_machines(4731)
    # THEN moto serves Step Functions from the interpreter's backend, whose clients call that port
    assert responses.get_backend("123456789012", REGION) is stepfunctions_parser_backends["123456789012"][REGION]
    assert moto.settings.moto_server_port() == "4731"
