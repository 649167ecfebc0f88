"""SNS topics, their policies and subscriptions."""

from __future__ import annotations

import json

from blackfriday.names import StackNames
from blackfriday.resources.base import Action, policy, same_policy

RAW_DELIVERY = "RawMessageDelivery"
PENDING_CONFIRMATION = "PendingConfirmation"  # the SubscriptionArn of an unconfirmed email subscription


def new_orders_topic_policy(names: StackNames) -> dict:
    """Only the orders bucket of this account may publish its events."""
    topic_arn = names.topic_arn(names.new_orders_topic)
    return policy(
        {
            "Sid": "OnlyTheOrdersBucketPublishes",
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "SNS:Publish",  # as AWS writes it in topic policies, so a re-read compares equal
            "Resource": topic_arn,
            "Condition": {
                "ArnLike": {"aws:SourceArn": names.bucket_arn},
                "StringEquals": {"aws:SourceAccount": names.account},
            },
        }
    )


def topic_attributes(sns, topic_arn: str) -> dict | None:
    try:
        return sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    except sns.exceptions.NotFoundException:
        return None


def ensure_topic(sns, topic_arn: str, topic_policy: dict | None = None) -> Action:
    """Create the topic (CreateTopic is idempotent) and set its policy when one is given and differs."""
    attributes = topic_attributes(sns, topic_arn)
    name = topic_arn.rsplit(":", 1)[1]
    if attributes is None:
        created = {"Policy": json.dumps(topic_policy)} if topic_policy else {}
        sns.create_topic(Name=name, Attributes=created)
        return Action.CREATED
    if topic_policy is not None and not same_policy(attributes.get("Policy"), topic_policy):
        sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="Policy", AttributeValue=json.dumps(topic_policy))
        return Action.UPDATED
    return Action.UNCHANGED


def subscriptions(sns, topic_arn: str) -> list[dict]:
    """Every subscription of a topic; empty when the topic does not exist."""
    found = []
    try:
        for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
            found.extend(page["Subscriptions"])
    except sns.exceptions.NotFoundException:
        return []
    return found


def find_subscription(sns, topic_arn: str, protocol: str, endpoint: str) -> dict | None:
    return next(
        (item for item in subscriptions(sns, topic_arn) if item["Protocol"] == protocol and item["Endpoint"] == endpoint),
        None,
    )


def ensure_subscription(sns, topic_arn: str, protocol: str, endpoint: str, raw_delivery: bool | None = None) -> Action:
    """Subscribe once; converge raw delivery (None: not applicable, e.g. email) of a confirmed subscription."""
    existing = find_subscription(sns, topic_arn, protocol, endpoint)
    wanted = None if raw_delivery is None else ("true" if raw_delivery else "false")
    if existing is None:
        attributes = {} if wanted is None else {RAW_DELIVERY: wanted}
        sns.subscribe(TopicArn=topic_arn, Protocol=protocol, Endpoint=endpoint, Attributes=attributes, ReturnSubscriptionArn=True)
        return Action.CREATED
    if wanted is None or existing["SubscriptionArn"] == PENDING_CONFIRMATION:
        return Action.UNCHANGED
    current = sns.get_subscription_attributes(SubscriptionArn=existing["SubscriptionArn"])["Attributes"]
    if current.get(RAW_DELIVERY, "false") != wanted:
        sns.set_subscription_attributes(
            SubscriptionArn=existing["SubscriptionArn"], AttributeName=RAW_DELIVERY, AttributeValue=wanted
        )
        return Action.UPDATED
    return Action.UNCHANGED


def delete_topic(sns, topic_arn: str) -> list[str]:
    """Unsubscribe everything confirmed, then delete the topic; returns what existed and is gone."""
    if topic_attributes(sns, topic_arn) is None:
        return []
    deleted = []
    for subscription in subscriptions(sns, topic_arn):
        if subscription["SubscriptionArn"] != PENDING_CONFIRMATION:
            sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])
            endpoint = subscription["Endpoint"].rsplit(":", 1)[-1]  # a queue's name rather than its ARN
            deleted.append(f"sns subscription {topic_arn.rsplit(':', 1)[1]} -> {endpoint}")
    sns.delete_topic(TopicArn=topic_arn)
    deleted.append(f"sns topic {topic_arn.rsplit(':', 1)[1]}")
    return deleted
