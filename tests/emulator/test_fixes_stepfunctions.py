"""The Step Functions fixes: same programs and clients as moto's, built once."""

from __future__ import annotations

import json

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
