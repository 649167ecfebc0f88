"""SNS topics, their policies and subscriptions (to a queue or an e-mail address): the kinds, their operations, the calls."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar

from blackfriday.manifest import Manifest, Resource
from blackfriday.names import StackNames
from blackfriday.resources.base import Action, policy, same_policy
from blackfriday.resources.kinds import Context, Listing, Operations, operates_on
from blackfriday.resources.sqs import Queue

RAW_DELIVERY = "RawMessageDelivery"
PENDING_CONFIRMATION = "PendingConfirmation"  # the SubscriptionArn of an unconfirmed email subscription
UNDELETABLE_SUBSCRIPTIONS = (PENDING_CONFIRMATION, "Deleted")


@dataclass(frozen=True, kw_only=True)
class Topic(Resource):
    kind: ClassVar[str] = "sns topic"
    thing: str
    environment: str | None = None  # the variable that carries its ARN into Lambdas
    publishing_bucket: str | None = None  # the key of the only bucket (of this account) that may publish

    def name(self, names: StackNames) -> str:
        return names.name(self.thing)

    def arn(self, names: StackNames) -> str:
        return names.topic_arn(self.name(names))


@dataclass(frozen=True, kw_only=True)
class Subscription(Resource):
    kind: ClassVar[str] = "sns subscription"
    topic: str
    queue: str
    raw_delivery: bool

    def name(self, names: StackNames) -> str:
        raise NotImplementedError("a subscription is named by its ends: shown_name")

    def depends_on(self, manifest: Manifest) -> tuple[str, ...]:
        return self.topic, self.queue

    def shown_name(self, manifest: Manifest, names: StackNames) -> str:
        return f"{manifest[self.topic].name(names)} -> {manifest[self.queue].name(names)}"


@dataclass(frozen=True, kw_only=True)
class EmailSubscription(Resource):
    """An address told of every message on a topic (on AWS, once the person confirms the e-mail)."""

    kind: ClassVar[str] = "sns subscription"
    raw_delivery: ClassVar[None] = None  # not applicable to e-mail
    topic: str
    address: str

    def depends_on(self, manifest: Manifest) -> tuple[str, ...]:
        return (self.topic,)

    def shown_name(self, manifest: Manifest, names: StackNames) -> str:
        return f"{manifest[self.topic].name(names)} -> {self.address}"


def bucket_publishes_policy(topic_arn: str, bucket_arn: str, account: str) -> dict:
    """Only the given bucket of this account may publish its events."""
    return policy(
        {
            "Sid": "OnlyTheOrdersBucketPublishes",
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "SNS:Publish",  # as AWS writes it in topic policies, so a re-read compares equal
            "Resource": topic_arn,
            "Condition": {
                "ArnLike": {"aws:SourceArn": bucket_arn},
                "StringEquals": {"aws:SourceAccount": account},
            },
        }
    )


def topic_attributes(sns, topic_arn: str) -> dict | None:
    try:
        return sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    except sns.exceptions.NotFoundException:
        return None


def topic_differences(attributes: dict, topic_policy: dict | None) -> list[str]:
    """What setup would change on an existing topic (a topic without a desired policy keeps AWS's default)."""
    return ["policy"] if topic_policy is not None and not same_policy(attributes.get("Policy"), topic_policy) else []


def ensure_topic(sns, topic_arn: str, topic_policy: dict | None = None) -> Action:
    """Create the topic (CreateTopic is idempotent) and set its policy when one is given and differs."""
    attributes = topic_attributes(sns, topic_arn)
    name = topic_arn.rsplit(":", 1)[1]
    if attributes is None:
        created = {"Policy": json.dumps(topic_policy)} if topic_policy else {}
        sns.create_topic(Name=name, Attributes=created)
        return Action.CREATED
    if topic_differences(attributes, topic_policy):
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


def _raw_delivery_value(raw_delivery: bool | None) -> str | None:
    return None if raw_delivery is None else ("true" if raw_delivery else "false")


def subscription_differences(sns, existing: dict, raw_delivery: bool | None) -> list[str]:
    """What setup would change on an existing subscription: raw delivery (None: not applicable, e.g. email)."""
    wanted = _raw_delivery_value(raw_delivery)
    if wanted is None or existing["SubscriptionArn"] == PENDING_CONFIRMATION:
        return []
    current = sns.get_subscription_attributes(SubscriptionArn=existing["SubscriptionArn"])["Attributes"]
    return [f"attributes: {RAW_DELIVERY}"] if current.get(RAW_DELIVERY, "false") != wanted else []


def ensure_subscription(sns, topic_arn: str, protocol: str, endpoint: str, raw_delivery: bool | None = None) -> Action:
    """Subscribe once; converge raw delivery (None: not applicable, e.g. email) of a confirmed subscription."""
    existing = find_subscription(sns, topic_arn, protocol, endpoint)
    wanted = _raw_delivery_value(raw_delivery)
    if existing is None:
        attributes = {} if wanted is None else {RAW_DELIVERY: wanted}
        sns.subscribe(TopicArn=topic_arn, Protocol=protocol, Endpoint=endpoint, Attributes=attributes, ReturnSubscriptionArn=True)
        return Action.CREATED
    if subscription_differences(sns, existing, raw_delivery):
        sns.set_subscription_attributes(SubscriptionArn=existing["SubscriptionArn"], AttributeName=RAW_DELIVERY, AttributeValue=wanted)
        return Action.UPDATED
    return Action.UNCHANGED


def unsubscribe(sns, topic_arn: str, protocol: str, endpoint: str) -> bool:
    """True when the (confirmed) subscription existed and is gone."""
    existing = find_subscription(sns, topic_arn, protocol, endpoint)
    if existing is None or existing["SubscriptionArn"] == PENDING_CONFIRMATION:
        return False
    try:
        sns.unsubscribe(SubscriptionArn=existing["SubscriptionArn"])
    except sns.exceptions.NotFoundException:
        return False
    return True


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


@operates_on(Topic)
class TopicOperations(Operations):
    noun = "topic"
    listing = Listing("sns", "list_topics", "Topics", lambda item: item["TopicArn"].rsplit(":", 1)[1])

    @staticmethod
    def policy(context: Context, topic: Topic) -> dict | None:
        if topic.publishing_bucket is None:
            return None
        return bucket_publishes_policy(topic.arn(context.names), context.arn(topic.publishing_bucket), context.names.account)

    def read(self, context, topic: Topic):
        return topic_attributes(context.client("sns"), topic.arn(context.names))

    def differences(self, context, topic, current):
        return topic_differences(current, self.policy(context, topic))

    def apply(self, context, topic):
        return ensure_topic(context.client("sns"), topic.arn(context.names), self.policy(context, topic))

    def delete(self, context, topic):
        # what is still subscribed (an e-mail address, another stack's queue) goes with the topic
        return delete_topic(context.client("sns"), topic.arn(context.names))


@operates_on(Subscription, EmailSubscription)
class SubscriptionOperations(Operations):
    @staticmethod
    def ends(context: Context, subscription) -> tuple[str, str, str]:
        """(topic ARN, protocol, endpoint)"""
        if isinstance(subscription, EmailSubscription):
            return context.arn(subscription.topic), "email", subscription.address
        return context.arn(subscription.topic), "sqs", context.arn(subscription.queue)

    def read(self, context, subscription):
        return find_subscription(context.client("sns"), *self.ends(context, subscription))

    def differences(self, context, subscription, current):
        return subscription_differences(context.client("sns"), current, subscription.raw_delivery)

    def apply(self, context, subscription):
        return ensure_subscription(context.client("sns"), *self.ends(context, subscription), raw_delivery=subscription.raw_delivery)

    def delete(self, context, subscription):
        return [context.label(subscription)] if unsubscribe(context.client("sns"), *self.ends(context, subscription)) else []

    def remaining(self, context, resources):
        """Any confirmed subscription of the stack's topics or to its queues, declared or not."""
        topics = {item.arn(context.names) for item in context.manifest.of(Topic)}
        queues = {item.arn(context.names) for item in context.manifest.of(Queue)}
        return [
            f"sns subscription {item['SubscriptionArn']}"
            for page in context.client("sns").get_paginator("list_subscriptions").paginate()
            for item in page["Subscriptions"]
            # an unconfirmed e-mail subscription is no resource one can delete: it expires with its topic
            if (item["TopicArn"] in topics or item["Endpoint"] in queues) and item["SubscriptionArn"] not in UNDELETABLE_SUBSCRIPTIONS
        ]
