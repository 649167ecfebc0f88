"""IAM roles (the Role kind and its operations): one per Lambda and one for the state machine, each with a single inline
policy of exactly what it uses."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar

from blackfriday.manifest import Resource
from blackfriday.names import StackNames
from blackfriday.resources.base import Action, combined, policy, same_policy
from blackfriday.resources.kinds import Context, Listing, Operations, operates_on

INLINE_POLICY_NAME = "least-privilege"


@dataclass(frozen=True, kw_only=True)
class Role(Resource):
    """A role only `service` acting for this account may assume, allowed exactly what the resource `grants_for` uses."""

    kind: ClassVar[str] = "iam role"
    thing: str
    service: str
    grants_for: str  # key of the function or state machine whose needs make the role's only policy
    description: str
    trusted_source: str | None = None  # key of the one resource the service may assume it for (aws:SourceArn)

    def name(self, names: StackNames) -> str:
        return names.name(self.thing)

    def arn(self, names: StackNames) -> str:
        return names.role_arn(self.name(names))


def trust_policy(service: str, account: str, source_arn: str | None = None) -> dict:
    """Only `service` acting for this account (and, when given, for the one resource `source_arn`) may assume the role.

    The conditions are AWS's cross-service confused-deputy protection: without them the service could be
    made to use the role on behalf of another account's resource.
    """
    condition = {"StringEquals": {"aws:SourceAccount": account}}
    if source_arn is not None:
        condition["ArnLike"] = {"aws:SourceArn": source_arn}
    return policy({"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole", "Condition": condition})


def function_policy(grants: list[tuple[tuple[str, ...], str]], log_group_arn: str) -> dict:
    """A function's grants, (actions, resource ARN), plus writing to its own log group, nothing else."""
    statements = [
        {"Sid": f"Grant{index}", "Effect": "Allow", "Action": sorted(actions), "Resource": arn}
        for index, (actions, arn) in enumerate(grants, start=1)
    ]
    statements.append(
        {"Sid": "OwnLogGroup", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": log_group_arn}
    )
    return policy(*statements)


def _inline_policy_names(iam, role_name: str) -> list[str]:
    return [name for page in iam.get_paginator("list_role_policies").paginate(RoleName=role_name) for name in page["PolicyNames"]]


def _attached_policy_arns(iam, role_name: str) -> list[str]:
    return [
        item["PolicyArn"]
        for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name)
        for item in page["AttachedPolicies"]
    ]


def _ensure_only_policy(iam, role_name: str, document: dict) -> Action:
    """Our inline policy as given, and no other inline or managed policy widening the role."""
    action = Action.UNCHANGED
    for other in _inline_policy_names(iam, role_name):
        if other != INLINE_POLICY_NAME:
            iam.delete_role_policy(RoleName=role_name, PolicyName=other)
            action = Action.UPDATED
    for attached in _attached_policy_arns(iam, role_name):
        iam.detach_role_policy(RoleName=role_name, PolicyArn=attached)
        action = Action.UPDATED
    try:
        current = iam.get_role_policy(RoleName=role_name, PolicyName=INLINE_POLICY_NAME)["PolicyDocument"]
    except iam.exceptions.NoSuchEntityException:
        current = None
    if not same_policy(current, document):
        iam.put_role_policy(RoleName=role_name, PolicyName=INLINE_POLICY_NAME, PolicyDocument=json.dumps(document))
        action = Action.UPDATED
    return action


def current_role(iam, role_name: str) -> dict | None:
    try:
        return iam.get_role(RoleName=role_name)["Role"]
    except iam.exceptions.NoSuchEntityException:
        return None


def role_differences(iam, role: dict, trust: dict, document: dict) -> list[str]:
    """What setup would change on an existing role: "trust policy", "policy" (ours, or others widening it)."""
    differences = [] if same_policy(role["AssumeRolePolicyDocument"], trust) else ["trust policy"]
    others = [name for name in _inline_policy_names(iam, role["RoleName"]) if name != INLINE_POLICY_NAME]
    others += _attached_policy_arns(iam, role["RoleName"])
    if others:
        differences.append(f"policy: remove {', '.join(others)}")
    try:
        current = iam.get_role_policy(RoleName=role["RoleName"], PolicyName=INLINE_POLICY_NAME)["PolicyDocument"]
    except iam.exceptions.NoSuchEntityException:
        current = None
    if not same_policy(current, document):
        differences.append("policy")
    return differences


def ensure_role(iam, role_name: str, trust: dict, document: dict, description: str) -> tuple[Action, str]:
    """A role only whom `trust` names may assume, whose only permissions are `document`."""
    try:
        role = iam.get_role(RoleName=role_name)["Role"]
        created = Action.UNCHANGED
        if not same_policy(role["AssumeRolePolicyDocument"], trust):
            iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(trust))
            created = Action.UPDATED
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust), Description=description)["Role"]
        created = Action.CREATED
    return combined(created, _ensure_only_policy(iam, role_name, document)), role["Arn"]


def delete_role(iam, role_name: str) -> bool:
    """Delete the role's policies, then the role; True when it existed."""
    try:
        for name in _inline_policy_names(iam, role_name):
            iam.delete_role_policy(RoleName=role_name, PolicyName=name)
        for attached in _attached_policy_arns(iam, role_name):
            iam.detach_role_policy(RoleName=role_name, PolicyArn=attached)
        iam.delete_role(RoleName=role_name)
    except iam.exceptions.NoSuchEntityException:
        return False
    return True


@operates_on(Role)
class RoleOperations(Operations):
    listing = Listing("iam", "list_roles", "Roles", lambda item: item["RoleName"])

    @staticmethod
    def trust(context: Context, role: Role) -> dict:
        source_arn = context.arn(role.trusted_source) if role.trusted_source else None
        return trust_policy(role.service, context.names.account, source_arn)

    def read(self, context, role: Role):
        return current_role(context.client("iam"), role.name(context.names))

    def differences(self, context, role, current):
        return role_differences(context.client("iam"), current, self.trust(context, role), context.artefacts.policies[role.key])

    def apply(self, context, role):
        document = context.artefacts.policies[role.key]
        return ensure_role(context.client("iam"), role.name(context.names), self.trust(context, role), document, role.description)[0]

    def delete(self, context, role):
        name = role.name(context.names)
        return [f"{role.kind} {name} and its policies"] if delete_role(context.client("iam"), name) else []
