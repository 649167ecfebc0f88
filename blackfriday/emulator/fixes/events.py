"""EventBridge: rules with Lambda targets invoke the function, as on AWS."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable

from moto.events.models import Rule
from moto.events.utils import EventTemplateParser
from moto.stepfunctions.parser.asl.utils import boto_client
from moto.utilities.arns import parse_arn

from blackfriday.emulator.fixes.registry import Patch

log = logging.getLogger("blackfriday.emulator.fixes.events")


# moto's Rule.send_to_targets knows logs, SQS, event buses and API destinations; a Lambda target
# raises NotImplementedError: PutEvents answers HTTP 500 (after the targets before it got the event)
# and S3's EventBridge notifications drop it silently. EventBridge invokes Lambda targets
# asynchronously (InvocationType Event) with the event, transformed as for any target. The
# invocation goes through Lambda's API, as the Step Functions interpreter calls it, so it reaches
# the emulator's Lambda runtime and never waits for the handler.
def with_lambda_targets(original: Callable) -> Callable:
    def send_to_targets(self, original_event, transform_input: bool = True) -> None:
        lambda_targets = [target for target in self.targets if parse_arn(target["Arn"]).service == "lambda"]
        if not lambda_targets or not self.event_pattern.matches_event(original_event):
            return original(self, original_event, transform_input)
        other_targets = copy.copy(self)
        other_targets.targets = [target for target in self.targets if target not in lambda_targets]
        original(other_targets, original_event, transform_input)
        for target in lambda_targets:
            invoke_target(self, target, original_event, transform_input)

    return send_to_targets


def invoke_target(rule, target: dict, event: dict, transform_input: bool) -> None:
    payload = event
    if transform_input:  # as moto's send_to_targets does for its targets
        transformer = target.get("InputTransformer", {})
        payload = EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"), input_paths_map=transformer.get("InputPathsMap", {}), event=event
        )
    try:
        client = boto_client.boto_client_for(rule.region_name, "lambda")
        client.invoke(FunctionName=target["Arn"], InvocationType="Event", Payload=json.dumps(payload))
    except Exception:  # asynchronous on AWS: the event is delivered or retried, never reported to the sender
        log.exception("rule %s could not invoke its target %s", rule.name, target["Arn"])


FIXES = (Patch(Rule, "send_to_targets", "472e002e2dab8a599554a7d6c7ea0910625a5b39c7699b9ca4404255efcfc172", with_lambda_targets),)
RELIED_ON = ()
