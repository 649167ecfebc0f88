"""The client gateway: one shared config, one client per service, shared across threads."""

import threading

from blackfriday.clients import MAX_ATTEMPTS, AwsGateway
from blackfriday.target import Target


def local_gateway(pool=64):
    return AwsGateway(Target("endpoint", "eu-west-1", "bf", "http://127.0.0.1:1"), max_pool_connections=pool)


def test_clients_share_one_config_with_standard_retries_timeouts_and_pool():
    gateway = local_gateway(pool=40)
    client = gateway.client("sqs")
    config = client.meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": MAX_ATTEMPTS}
    assert (config.connect_timeout, config.read_timeout, config.max_pool_connections) == (5, 70, 40)
    assert client.meta.endpoint_url == "http://127.0.0.1:1"
    assert client.meta.region_name == "eu-west-1"


def test_one_client_per_service_even_when_threads_race_for_it():
    # GIVEN a gateway and 16 threads asking for the same client at once
    gateway = local_gateway()
    seen = []
    barrier = threading.Barrier(16)

    def grab():
        barrier.wait()
        seen.append(gateway.client("s3"))

    threads = [threading.Thread(target=grab) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # THEN every thread got the very same client
    assert len({id(client) for client in seen}) == 1
    assert gateway.client("s3") is seen[0]
    assert gateway.client("sqs") is not seen[0]


def test_local_targets_never_send_real_credentials(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "real-secret")
    credentials = local_gateway().session.get_credentials()
    assert (credentials.access_key, credentials.secret_key) == ("testing", "testing")
