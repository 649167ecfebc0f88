"""Emptying a bucket larger than one listing page."""

import boto3
from moto import mock_aws

from blackfriday.resources.s3 import DELETE_BATCH, empty_and_delete_bucket


@mock_aws
def test_a_bucket_with_more_objects_than_one_page_is_emptied_and_deleted():
    # GIVEN a versioned bucket with 1,500 orders (more than one 1,000-key listing), one of them overwritten
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="bf-orders")
    s3.put_bucket_versioning(Bucket="bf-orders", VersioningConfiguration={"Status": "Enabled"})
    for index in range(DELETE_BATCH + 500):
        s3.put_object(Bucket="bf-orders", Key=f"orders/{index % 256:02x}/{index}.json", Body=b"{}")
    s3.put_object(Bucket="bf-orders", Key="orders/00/0.json", Body=b"{}")
    # WHEN it is emptied and deleted
    removed = empty_and_delete_bucket(s3, "bf-orders")
    # THEN every version went, and the bucket with them
    assert removed == DELETE_BATCH + 501
    assert "bf-orders" not in [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]]
    # AND a second call finds nothing to do
    assert empty_and_delete_bucket(s3, "bf-orders") is None
