"""Step Functions: the interpreter's hot spots (clients, parsing), and where moto's interpreter differs from AWS."""

from __future__ import annotations

import functools
import json
import logging
import os
import queue
import threading
from collections.abc import Callable
from typing import Any

import moto.settings
from moto.core.config import default_user_config
from moto.core.models import botocore_stubber
from moto.core.responses import EmptyResult
from moto.stepfunctions import responses as stepfunctions_responses
from moto.stepfunctions.parser.api import ExecutionStatus, StateMachineType, TaskTimedOut
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
from moto.stepfunctions.parser.asl.component.state.exec.state_parallel.state_parallel import StateParallel
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import StateTaskServiceCallback
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_activitiy import StateTaskActivity
from moto.stepfunctions.parser.asl.eval.callback.callback import HeartbeatTimeoutError
from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
from moto.stepfunctions.parser.asl.utils import boto_client, json_path
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

from blackfriday.emulator.fixes.core import memoized
from blackfriday.emulator.fixes.registry import Fingerprint, Patch

log = logging.getLogger("blackfriday.emulator.fixes.stepfunctions")


# The Step Functions interpreter builds a new boto3 client for every Task state (tens of
# milliseconds, and not thread-safe on boto3's default session). Clients are thread-safe once built,
# and the original ignores `state_credentials` (it signs with fixed dummy keys), so one client per
# (region, service) is exact. `state_credentials` is not hashable: it cannot be part of the key.
def cached_boto_client_for(original: Callable) -> Callable:
    clients: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        key = (region, service)
        client = clients.get(key)
        if client is None:
            with lock:
                client = clients.get(key)
                if client is None:
                    client = clients[key] = original(region=region, service=service, state_credentials=state_credentials)
        return client

    return boto_client_for


# Every execution parses its state machine's definition again with ANTLR
# (ExecutionWorker._get_evaluation_entrypoint): about 60 ms of server CPU per execution for the
# order workflow, more than all its Lambda calls. The parsed program holds no execution state (retry
# counters live in each execution's Environment heap), so one parse per definition serves them all.
PARSED_DEFINITIONS_KEPT = 16


def cached_entrypoint(original: Callable) -> Callable:
    @functools.lru_cache(maxsize=PARSED_DEFINITIONS_KEPT)
    def parse(definition: str):
        from moto.stepfunctions.parser.asl.parse.asl_parser import (
            AmazonStateLanguageParser,
        )

        return AmazonStateLanguageParser.parse(definition)[0]

    def _get_evaluation_entrypoint(self):
        return parse(self._evaluation_details.state_machine_details.definition)

    return _get_evaluation_entrypoint


# DescribeExecution's `output` is the execution's output as JSON text on AWS (a state machine whose
# result is the string big answers "\"big\""). moto's response passes a string output through as it is,
# right for its non-interpreting backend, which keeps output as text, but the interpreter keeps the
# decoded value. The history already has JSON text (ExecutionSucceeded's output).
def describe_execution_output_as_json(original: Callable) -> Callable:
    def describe_execution(self):
        result = original(self)
        if "output" in result.result:
            execution = self.stepfunction_backend.describe_execution(self._get_param("executionArn"))
            if isinstance(execution, Execution):
                result.result["output"] = to_json_str(execution.output, separators=(",", ":"))
        return result

    return describe_execution


# SendTaskFailure's `cause` reaches the task's failure (TaskFailed's cause, the Catch's $.Cause, the
# execution's cause) on AWS; moto's response reads only `error`.
def send_task_failure_with_cause(original: Callable) -> Callable:
    def send_task_failure(self):
        backend = self.stepfunction_backend
        if not isinstance(backend, StepFunctionsParserBackend):
            return original(self)  # the non-interpreting backend keeps no failures
        backend.send_task_failure(self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause"))
        return EmptyResult()

    return send_task_failure


# A task that misses its heartbeat fails with States.HeartbeatTimeout on AWS (its TimeoutSeconds with
# States.Timeout); moto raises HeartbeatTimeoutError, a TimeoutError, which both task kinds that
# take heartbeats name States.Timeout. Same event, renamed.
def heartbeat_timeout_named(original: Callable) -> Callable:
    def _from_error(self, env, ex):
        failure = original(self, env, ex)
        if isinstance(ex, HeartbeatTimeoutError):
            failure.error_name = StatesErrorName(typ=StatesErrorNameType.StatesHeartbeatTimeout)
            for details in (failure.event_details or {}).values():
                details["error"] = failure.error_name.error_name
        return failure

    return _from_error


# Step Functions sends an "Execution Status Change" event to the default event bus each time a
# Standard workflow's execution starts, succeeds, fails, times out or is aborted; moto sends none,
# so a rule on aws.states never fires. Events go out in order from one thread, through PutEvents as
# the interpreter makes its other service calls (never inside the request that started or stopped
# the execution), up to ten per PutEvents under load, and a failure to deliver is logged: delivery
# is asynchronous on AWS too.
STATUS_CHANGE_DETAIL_TYPE = "Step Functions Execution Status Change"
PUT_EVENTS_BATCH = 10  # PutEvents takes at most 10 entries


def epoch_millis(moment) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def status_change_detail(execution: Execution, status: ExecutionStatus) -> dict:
    """The event's detail, as AWS documents it (Step Functions developer guide, "EventBridge events")."""
    ended = status != ExecutionStatus.RUNNING
    succeeded = status == ExecutionStatus.SUCCEEDED
    redrivable = status in (ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT, ExecutionStatus.ABORTED)
    return {
        "executionArn": execution.exec_arn,
        "stateMachineArn": execution.state_machine_arn,
        "name": execution.name,
        "status": status.value,
        "startDate": epoch_millis(execution.start_date),
        "stopDate": epoch_millis(execution.stop_date) if ended else None,
        "input": execution.execution_input,
        "output": to_json_str(execution.output, separators=(",", ":")) if succeeded else None,
        "inputDetails": {"included": True},
        "outputDetails": {"included": True} if succeeded else None,
        "error": execution.error if ended else None,
        "cause": execution.cause if ended else None,
        "redriveCount": 0,
        "redriveDate": None,
        "redriveStatus": "REDRIVABLE" if redrivable else "NOT_REDRIVABLE",
        "redriveStatusReason": None if redrivable else f"Execution is {status.value} and cannot be redriven",
    }


class StatusChangeEvents:
    def __init__(self) -> None:
        self.pending: queue.SimpleQueue[tuple[str, dict, bool]] = queue.SimpleQueue()
        self.sender: threading.Thread | None = None
        self.lock = threading.Lock()

    def announce(self, execution: Execution, status: ExecutionStatus) -> None:
        if execution.sm_type != StateMachineType.STANDARD:
            return  # Express workflows send no status events
        # In-process moto (mock_aws) intercepts PutEvents only while its mock is on: remember whether it was.
        self.pending.put((execution.region_name, status_change_detail(execution, status), botocore_stubber.enabled))
        with self.lock:
            if self.sender is None:
                self.sender = threading.Thread(target=self.send_forever, name="step-functions-status-events", daemon=True)
                self.sender.start()

    def send_forever(self) -> None:
        while True:
            batch = [self.pending.get()]
            while len(batch) < PUT_EVENTS_BATCH and not self.pending.empty():
                batch.append(self.pending.get())
            for region in dict.fromkeys(region for region, _, _ in batch):  # one PutEvents per region, in order
                entries = [
                    {
                        "Source": "aws.states",
                        "DetailType": STATUS_CHANGE_DETAIL_TYPE,
                        "Detail": json.dumps(detail),
                        "Resources": [detail["executionArn"]],
                    }
                    for event_region, detail, under_mock in batch
                    if event_region == region
                    and not (under_mock and not botocore_stubber.enabled)  # that mock has ended: nobody to receive it
                ]
                if not entries:
                    continue
                try:
                    boto_client.boto_client_for(region, "events").put_events(Entries=entries)
                except Exception:
                    log.exception("could not send %d Step Functions status changes to EventBridge", len(entries))


STATUS_CHANGE_EVENTS = StatusChangeEvents()


def announcing_start(original: Callable) -> Callable:
    def start(self) -> None:
        STATUS_CHANGE_EVENTS.announce(self, ExecutionStatus.RUNNING)  # before the run, whose end may come at once
        original(self)

    return start


def announcing_end(original: Callable) -> Callable:
    def terminated(self) -> None:
        original(self)
        STATUS_CHANGE_EVENTS.announce(self.execution, self.execution.exec_status)

    return terminated


# StopExecution on AWS ends the execution at once, whatever its current task waits for, and closes
# that task: a token sent after the stop fails with TaskTimedOut ("the task associated with the
# token has already been closed"). moto only marks the program stopped: a task waiting for its
# token keeps the execution RUNNING until its own timeout, and its token is still accepted. The fix
# closes every open task token of the execution and wakes its waiter; the interrupted state then
# returns quietly (no TaskTimedOut in the history: AWS records ExecutionAborted only; Map and
# Parallel states have their own copy of the retry loop), and the program ends ABORTED as it does
# after any state. StopExecution returns once the execution has ended, as on AWS, bounded by
# STOP_SETTLE_SECONDS.
STOP_SETTLE_SECONDS = 2.0


CLOSED_TASK_TOKENS: set[str] = set()  # tokens of the tasks StopExecution closed: SendTask* with them time out


class StoppedWhileWaiting(BaseException):
    """Unwinds an interrupted state past moto's `except Exception` handlers, which would record a failure."""


def ending_waiting_tasks(original: Callable) -> Callable:
    def stop(self, stop_date, error, cause) -> None:
        original(self, stop_date, error, cause)
        env = getattr(self.exec_worker, "env", None)
        if env is None:
            return
        waiting = [endpoint for endpoint in list(env.callback_pool_manager._pool.values()) if endpoint.get_outcome() is None]
        for endpoint in waiting:
            CLOSED_TASK_TOKENS.add(endpoint.callback_id)
            endpoint.interrupt_all()
        if waiting:  # the woken task unwinds in milliseconds, needing nothing this request holds
            pause = threading.Event()
            for _ in range(int(STOP_SETTLE_SECONDS / 0.01)):
                if self.exec_status != ExecutionStatus.RUNNING:
                    break
                pause.wait(0.01)

    return stop


def quiet_when_stopped(original: Callable) -> Callable:
    def _evaluate_with_timeout(self, env) -> None:
        try:
            original(self, env)
        except Exception:
            if isinstance(env.program_state(), ProgramStopped):
                raise StoppedWhileWaiting from None
            raise

    return _evaluate_with_timeout


def returning_when_stopped(original: Callable) -> Callable:
    def _eval_state(self, env) -> None:
        try:
            original(self, env)
        except StoppedWhileWaiting:
            pass  # the state returns without output; the program sees the stop and records ExecutionAborted

    return _eval_state


def closed_tokens_time_out(original: Callable) -> Callable:
    """SendTask* with a token StopExecution closed: TaskTimedOut (moto's own TaskTimedOut() cannot be built: HTTP 500)."""

    def send(self, task_token, *arguments, **keywords):
        if task_token in CLOSED_TASK_TOKENS:
            raise TaskTimedOut("Task Timed Out: 'Provided task does not exist anymore'", "TaskTimedOut", 400)
        return original(self, task_token, *arguments, **keywords)

    return send


def execute_state_machines(moto_port: int) -> None:
    """Settings that must be in place before moto handles a request: the interpreter executes state machines (moto's
    default only records executions), and calls Lambda, SNS, DynamoDB... at localhost:`moto_port` (see in_process)."""
    os.environ["MOTO_PORT"] = str(moto_port)
    default_user_config["stepfunctions"]["execute_state_machine"] = True


FIXES = (
    Patch(
        boto_client,
        "boto_client_for",
        "1f44dc2ac8aa2179df62365a6e5ea377f1770ea828a0f107440a2554f1b4edb8",
        cached_boto_client_for,
        hot_spot=True,
    ),
    Patch(
        ExecutionWorker,
        "_get_evaluation_entrypoint",
        "2b25949ae855da8035b347b28ac72f90d7d6542bf26ef7e1f03a50ce6a981fde",
        cached_entrypoint,
        hot_spot=True,
    ),
    # extract_json builds a new jsonpath parser (a yacc table) for every path of every state of
    # every execution; parsed paths hold no data, so each distinct path is parsed once.
    Patch(json_path, "parse", "8e8fc5e91980418de2f2dda0105ef9082ea234aeb8625c1a96401aeb399e50b7", memoized, hot_spot=True),
    Patch(
        StepFunctionResponse,
        "describe_execution",
        "c3953bdc9ce21fda47ee3e996bf749950fb31c22a169464f6f2c878aa8372977",
        describe_execution_output_as_json,
    ),
    Patch(
        StepFunctionResponse,
        "send_task_failure",
        "f0fed5e805768377c3886da87839f8dc3ea37bdaa5a64bab13da2784b5e00304",
        send_task_failure_with_cause,
    ),
    Patch(
        StateTaskServiceCallback, "_from_error", "1b5fce896077838065829de102fa3780e4f8a63b047fa03b4e9bd79dd32c8736", heartbeat_timeout_named
    ),
    Patch(StateTaskActivity, "_from_error", "8aae6eb423a2d3fa246927cdc66bb87f5e54b3292bfb1c3506b0731f180b09e2", heartbeat_timeout_named),
    Patch(Execution, "start", "07e927c2d5f9e1045b9afd33ffd85b672eca4da712ad93354365076b2419cc13", announcing_start),
    Patch(Execution, "stop", "16663c65db9a2f964cf64a120175dffa68489dc6c8a664b4e6e47700938ee2e0", ending_waiting_tasks),
    Patch(ExecutionState, "_evaluate_with_timeout", "c56deda08a42e98d3958bfb2ab95de74c7ec7a515085614a80e1ea4948722485", quiet_when_stopped),
    Patch(StateMap, "_eval_state", "bc5ea7fa3b82b34731c0f513ca58d518b2a540c6183e7067dc3c42a84fadfa26", returning_when_stopped),
    Patch(StateParallel, "_eval_state", "1d86cbe57c7641265acb5ff7ce8141530d364d6a4f596d1c1402656f0f985487", returning_when_stopped),
    Patch(ExecutionState, "_eval_state", "88a5f8e4c72b10849ada6345c535c9eb30519136b9bb838952f2d9b5ce38ff0b", returning_when_stopped),
    Patch(
        StepFunctionsParserBackend,
        "send_task_success",
        "2e95c66f0d676001a8c7b2e9b5b43972c0419af46a28f49842c81f0405bfc402",
        closed_tokens_time_out,
    ),
    Patch(
        StepFunctionsParserBackend,
        "send_task_failure",
        "2d5a9597cf1d92f9cb4bc47b3b6ae48a0fe5d3c72e20b3cc57afdeabfcddd5ca",
        closed_tokens_time_out,
    ),
    Patch(
        StepFunctionsParserBackend,
        "send_task_heartbeat",
        "279ad79cd7a2f24b6971a61a7924c092b4684bfa25fdb4b36ad922140c2917de",
        closed_tokens_time_out,
    ),
    Patch(
        BaseExecutionWorkerCommunication, "terminated", "360372a6a57bf99b6067dcd0a364f56330f090650dc94d32f80b41b875456caf", announcing_end
    ),
)
RELIED_ON = (
    Fingerprint(json_path, "extract_json", "932245247973780c72287b75597e70031472f0cd764f35a199100d8a195987a4"),
    # What execute_state_machines sets is read there: the flag by the backend choice, MOTO_PORT by the interpreter's clients.
    Fingerprint(StepFunctionResponse, "stepfunction_backend", "ef7c66ee18e68476b4644798547bbe4d60c197758e9e49e974ec49d7ca13d10a"),
    Fingerprint(stepfunctions_responses, "get_backend", "e736380f7d9c98a50540b6b8e86c014eeb8c3beb66eefc05b2fa73796b0d1589"),
    Fingerprint(moto.settings, "moto_server_port", "b039b19fa4d3bda1b9b87cf335c29730ed2d0274ecd46b7032a44b74702c718c"),
)
