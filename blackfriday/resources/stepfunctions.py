"""The order workflow (the StateMachine kind and its operations): render the ASL file, derive the role's permissions
from it, create or update in place."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from blackfriday.errors import RunFailure, error_code, error_message
from blackfriday.manifest import Manifest, Resource
from blackfriday.names import StackNames
from blackfriday.resources.awslambda import Function
from blackfriday.resources.base import Action, CannotConverge, policy, retry_while
from blackfriday.resources.kinds import Listing, Operations, operates_on, reported_deletion

PLACEHOLDER = re.compile(r"\$\{([a-z]+(?::[a-z_]+)?)\}")
ANY_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
STANDARD = "STANDARD"
DELETE_POLLS = 60  # x 2 s: a Standard state machine is DELETING for a moment after DeleteStateMachine
DYNAMODB_INTEGRATIONS = {"getItem": "GetItem", "putItem": "PutItem", "updateItem": "UpdateItem", "deleteItem": "DeleteItem"}


@dataclass(frozen=True, kw_only=True)
class StateMachine(Resource):
    kind: ClassVar[str] = "state machine"
    thing: str
    role: str
    environment: str | None = None  # the variable that carries its ARN into Lambdas

    def name(self, names: StackNames) -> str:
        return names.name(self.thing)

    def arn(self, names: StackNames) -> str:
        return names.arn("states", f"stateMachine:{self.name(names)}")

    def executions_arn(self, names: StackNames) -> str:
        return names.arn("states", f"execution:{self.name(names)}:*")

    def depends_on(self, manifest: Manifest) -> tuple[str, ...]:
        # the ASL may name any function of the stack
        return self.role, *(item.key for item in manifest.of(Function))


def render_definition(asl_path: Path, values: dict[str, str]) -> str:
    """The ASL file with its placeholders filled in; stops on an unknown or leftover placeholder or invalid JSON."""
    template = asl_path.read_text()
    unknown = sorted({match for match in PLACEHOLDER.findall(template) if match not in values})
    if unknown:
        raise RunFailure(f"{asl_path}: unknown placeholders {', '.join('${' + item + '}' for item in unknown)}")
    rendered = PLACEHOLDER.sub(lambda match: values[match.group(1)], template)
    leftover = sorted(set(ANY_PLACEHOLDER.findall(rendered)))
    if leftover:
        raise RunFailure(f"{asl_path}: placeholders left after rendering: {', '.join(leftover)}")
    try:
        json.loads(rendered)
    except json.JSONDecodeError as error:
        raise RunFailure(f"{asl_path} is not valid JSON: {error}") from None
    return rendered


def _task_states(states: dict):
    for state_name, state in states.items():
        if state.get("Type") == "Task":
            yield state_name, state
        for branch in state.get("Branches", []):
            yield from _task_states(branch["States"])
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from _task_states(processor["States"])


def _literal(state_name: str, state: dict, field: str) -> str:
    parameters = state.get("Parameters") or state.get("Arguments") or {}
    if field not in parameters:
        raise RunFailure(f"state {state_name}: {field} must be a literal (no {field}.$) so the workflow role can name it")
    return parameters[field]


def _permission(names: StackNames, state_name: str, state: dict) -> tuple[str, str]:
    """The one (action, resource ARN) a Task state needs."""
    resource = state["Resource"]
    if resource.startswith(f"arn:{names.partition}:lambda:"):
        return "lambda:InvokeFunction", resource
    integration = resource.removeprefix(f"arn:{names.partition}:states:::").split(".")[0]  # drop .sync / .waitForTaskToken
    if integration == "lambda:invoke":
        function = _literal(state_name, state, "FunctionName")
        arn = function if function.startswith("arn:") else names.arn("lambda", f"function:{function}")
        return "lambda:InvokeFunction", arn
    if integration == "sns:publish":
        return "sns:Publish", _literal(state_name, state, "TopicArn")
    service, _, operation = integration.partition(":")
    if service == "dynamodb" and operation in DYNAMODB_INTEGRATIONS:
        return f"dynamodb:{DYNAMODB_INTEGRATIONS[operation]}", names.table_arn(_literal(state_name, state, "TableName"))
    raise RunFailure(
        f"state {state_name}: no least-privilege rule for Resource {resource}; "
        "teach blackfriday/resources/stepfunctions.py which action and resource it needs"
    )


def workflow_policy(names: StackNames, definition: str) -> dict:
    """Exactly the actions and resources the workflow's Task states use."""
    resources_by_action: dict[str, set[str]] = defaultdict(set)
    for state_name, state in _task_states(json.loads(definition)["States"]):
        action, resource = _permission(names, state_name, state)
        resources_by_action[action].add(resource)
    return policy(
        *(
            {
                "Sid": "Allow" + action.split(":")[0].capitalize() + action.split(":")[1],
                "Effect": "Allow",
                "Action": action,
                "Resource": sorted(resources),
            }
            for action, resources in sorted(resources_by_action.items())
        )
    )


def describe_state_machine(sfn, arn: str) -> dict | None:
    try:
        machine = sfn.describe_state_machine(stateMachineArn=arn)
    except sfn.exceptions.StateMachineDoesNotExist:
        return None
    return None if machine.get("status") == "DELETING" else machine


def _role_not_assumable_yet(error) -> bool:
    # A role created seconds ago: "Neither the global service principal states.amazonaws.com, nor the regional one
    # is authorized to assume the provided role." (IAM is eventually consistent)
    return error_code(error) == "AccessDeniedException" and "assume" in error_message(error)


def _not_ready_yet(error) -> bool:
    # The role is not assumable yet, or a teardown's DeleteStateMachine is finishing.
    return _role_not_assumable_yet(error) or error_code(error) == "StateMachineDeleting"


def state_machine_differences(current: dict, definition: str, role_arn: str) -> list[str]:
    """What setup would change on the deployed workflow: "ASL", "role"; CannotConverge unless it is Standard."""
    if current.get("type", STANDARD) != STANDARD:
        raise CannotConverge(f"state machine {current['name']} exists as {current['type']}; it must be {STANDARD}: run teardown.py first")
    differences = [] if json.loads(current["definition"]) == json.loads(definition) else ["ASL"]
    return differences + ([] if current["roleArn"] == role_arn else ["role"])


def ensure_state_machine(sfn, name: str, arn: str, definition: str, role_arn: str, *, sleep) -> Action:
    """Create the Standard workflow, or update it in place when the rendered definition or role differ."""
    current = describe_state_machine(sfn, arn)
    if current is None:
        retry_while(
            lambda: sfn.create_state_machine(name=name, definition=definition, roleArn=role_arn, type=STANDARD),
            _not_ready_yet,
            sleep=sleep,
        )
        return Action.CREATED
    if not state_machine_differences(current, definition, role_arn):
        return Action.UNCHANGED
    retry_while(
        lambda: sfn.update_state_machine(stateMachineArn=arn, definition=definition, roleArn=role_arn),
        _role_not_assumable_yet,
        sleep=sleep,
    )
    return Action.UPDATED


def delete_state_machine(sfn, arn: str, *, sleep) -> bool:
    """Delete and wait (bounded) until it is gone; True when it existed."""
    if describe_state_machine(sfn, arn) is None:
        return False
    sfn.delete_state_machine(stateMachineArn=arn)
    for _ in range(DELETE_POLLS):
        try:
            sfn.describe_state_machine(stateMachineArn=arn)
        except sfn.exceptions.StateMachineDoesNotExist:
            break
        sleep(2)
    return True


@operates_on(StateMachine)
class StateMachineOperations(Operations):
    noun = "state machine"
    listing = Listing("stepfunctions", "list_state_machines", "stateMachines", lambda item: item["name"])

    def read(self, context, machine: StateMachine):
        return describe_state_machine(context.client("stepfunctions"), machine.arn(context.names))

    def differences(self, context, machine, current):
        return state_machine_differences(current, context.artefacts.definition, context.arn(machine.role))

    def apply(self, context, machine):
        names, definition = context.names, context.artefacts.definition
        return ensure_state_machine(
            context.client("stepfunctions"),
            machine.name(names),
            machine.arn(names),
            definition,
            context.arn(machine.role),
            sleep=context.sleep,
        )

    def delete(self, context, machine):
        existed = delete_state_machine(context.client("stepfunctions"), machine.arn(context.names), sleep=context.sleep)
        return reported_deletion(machine, machine.name(context.names), existed)
