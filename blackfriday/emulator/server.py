"""Serve moto's WSGI app in the foreground, with the Step Functions interpreter on and Lambdas that really run."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading

from blackfriday.emulator import SERVICE_NAME
from blackfriday.target import EMULATOR_HOST

log = logging.getLogger("blackfriday.emulator")


def configure_moto(port: int) -> None:
    """Settings that must be in place before moto handles a request."""
    # The Step Functions interpreter calls Lambda, SNS, DynamoDB... over HTTP at localhost:$MOTO_PORT.
    os.environ["MOTO_PORT"] = str(port)
    from moto.core.config import default_user_config

    default_user_config["stepfunctions"]["execute_state_machine"] = True


# The services the pipeline calls. moto builds each service's Flask app on its first request (a
# second for Lambda): building them in the background right after start keeps that off the first calls.
WARM_SERVICES = ("s3", "sns", "sqs", "lambda", "iam", "sts", "dynamodb", "states", "logs", "monitoring")


def warm_up(dispatcher) -> None:
    for service in WARM_SERVICES:
        dispatcher.get_application(
            {
                "PATH_INFO": "/",
                "HTTP_HOST": f"{service}.us-east-1.amazonaws.com",
                "HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 Credential=warm-up/20250101/us-east-1/{service}/aws4_request",
                "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.ListTables",
            }
        )


def build_app(port: int, fixes: bool = True):
    """moto's dispatcher wrapped with our health route; `fixes=False` leaves moto's hot spots (bench only)."""
    configure_moto(port)
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        create_backend_app,
    )

    from blackfriday.emulator import execute_api, gate, lambda_runtime
    from blackfriday.emulator import fixes as moto_fixes

    runtime = lambda_runtime.install(port)
    log.info("moto fixes applied: %s", ", ".join(moto_fixes.install(hot_spots=fixes)))
    dispatcher = DomainDispatcherApplication(create_backend_app)
    threading.Thread(target=warm_up, args=(dispatcher,), name="warm-up", daemon=True).start()
    health = json.dumps({"service": SERVICE_NAME, "pid": os.getpid(), "port": port}).encode()
    # Deployed REST APIs answer before moto (which has no API Gateway data plane); their Lambdas run outside the gate.
    return execute_api.ExecuteApi(
        gate.RequestGate(dispatcher, health), execute_api.in_process_invoke(runtime, gate.held), execute_api.in_process_may_invoke(gate.held), gate.held
    )


def quiet_request_handler():
    """moto's request handler without one access-log line per request (a 10,000-order run makes ~100,000)."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class QuietRequestHandler(MotoRequestHandler):
        def log_request(self, code="-", size="-"):
            if str(code).startswith("5"):
                super().log_request(code, size)

    return QuietRequestHandler


def serve(port: int, fixes: bool = True) -> None:
    """Run until SIGTERM/SIGINT, then stop the Lambda workers."""
    from werkzeug.serving import make_server

    from blackfriday.emulator import lambda_runtime

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = build_app(port, fixes)
    # threaded: one thread per connection, HTTP/1.1 keep-alive, so concurrent clients and the
    # Step Functions interpreter's callbacks into this same server never wait on each other.
    server = make_server(EMULATOR_HOST, port, app, threaded=True, request_handler=quiet_request_handler())
    server.daemon_threads = True

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    log.info("%s pid %s listening on http://%s:%s (hot-spot fixes %s)", SERVICE_NAME, os.getpid(), EMULATOR_HOST, port, "on" if fixes else "off")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        lambda_runtime.shutdown()
        log.info("%s stopped", SERVICE_NAME)
