"""Serve moto in the foreground: one process per group of services, or all of them in one (`processes=1`).

The front process listens on the public port. In the grouped mode it starts one child per group
(`groups.GROUPS`) on a socket it opened itself (so every port is known before anything starts), serves
the remaining services itself and forwards the groups' requests to them (`front.Router`); its health
route lists every process. A child that dies takes the emulator down with it, and a child whose front
process dies (even by SIGKILL) is told by the kernel to stop (PR_SET_PDEATHSIG).

HTTP: werkzeug's threaded server (one thread per connection, so a request that waits, such as a
long poll or a Lambda invocation whose handler calls back into the same process, never keeps another
from running) with moto's request handler (it keeps S3 metadata header names as sent), made to keep
connections alive: werkzeug's own `run_wsgi` answers every response with `Connection: close`, and
its drain of unread input would swallow the next request on a kept connection. Here each request's
body is read whole before the app runs and each response goes out with its Content-Length, so a
connection carries request after request: no TCP handshake or thread start per request.
"""

from __future__ import annotations

import ctypes
import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from blackfriday.emulator import HEALTH_PATH, SERVICE_NAME, groups
from blackfriday.target import EMULATOR_HOST

log = logging.getLogger("blackfriday.emulator")

IDLE_CONNECTION_SECONDS = 3600  # keep-alive connections stay open between bursts of a run
LISTEN_BACKLOG = 1024
GROUP_START_TIMEOUT_SECONDS = 60.0
GROUP_STOP_TIMEOUT_SECONDS = 10.0
PR_SET_PDEATHSIG = 1


# moto builds each service's Flask app on its first request (a second for Lambda): building a process's
# apps in the background right after start keeps that off the first calls.
WARM_HOSTS = {
    "s3": "s3",
    "sns": "sns",
    "sqs": "sqs",
    "events": "events",
    "dynamodb": "dynamodb",
    "dynamodbstreams": "dynamodbstreams",
    "stepfunctions": "states",
    "awslambda": "lambda",
    "logs": "logs",
    "iam": "iam",
    "sts": "sts",
    "cloudwatch": "monitoring",
}


def warm_up(dispatcher, backends) -> None:
    for backend in backends:
        service = WARM_HOSTS[backend]
        dispatcher.get_application(
            {
                "PATH_INFO": "/",
                "HTTP_HOST": f"{service}.us-east-1.amazonaws.com",
                "HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 Credential=warm-up/20250101/us-east-1/{service}/aws4_request",
                "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.ListTables",
            }
        )


def served_backends(group_name: str) -> list[str]:
    """The warm-up list of a process: its group's services; the front's own; every one in the single mode."""
    if group_name == groups.ALL_SERVICES:
        return list(WARM_HOSTS)
    if group_name == groups.FRONT:
        grouped = set().union(*(group.backends for group in groups.GROUPS))
        return [backend for backend in WARM_HOSTS if backend not in grouped]
    return [backend for backend in WARM_HOSTS if backend in groups.GROUPS_BY_NAME[group_name].backends]


def services_of(group_name: str) -> list[str]:
    if group_name == groups.ALL_SERVICES:
        return ["all"]
    if group_name == groups.FRONT:
        return ["sts", "cloudwatch", "apigateway", "every other service"]
    return list(groups.GROUPS_BY_NAME[group_name].clients)


def build_app(front_port: int, group_name: str, health: bytes, endpoints: dict[str, str], fixes: bool = True):
    """moto's dispatcher behind the request gate and our health route: (app, dispatcher); `fixes=False` leaves
    moto's hot spots (bench only). The process serving API Gateway answers its deployed APIs first (execute_api)."""
    from blackfriday.emulator import execute_api, gate, in_process, lambda_runtime
    from blackfriday.emulator import fixes as moto_fixes

    moto_fixes.stepfunctions.execute_state_machines(front_port)  # before moto handles a request
    runtime = None
    if group_name in (groups.WORKFLOW.name, groups.ALL_SERVICES):
        runtime = lambda_runtime.install(front_port, endpoints, moto_fixes.logs.put_log_events)
    lambda_elsewhere = endpoints["lambda"] if group_name == groups.MESSAGING.name else None
    log.info("moto fixes applied: %s", ", ".join(moto_fixes.install(hot_spots=fixes, lambda_url=lambda_elsewhere)))
    dispatcher = moto_fixes.core.dispatcher()
    threading.Thread(target=warm_up, args=(dispatcher, served_backends(group_name)), name="warm-up", daemon=True).start()
    app = gate.RequestGate(dispatcher, health)
    # moto's own calls (the interpreter's tasks, its status events, EventBridge's Lambda targets) to this process's
    # services run in it; a grouped service's go straight to its group's process.
    if group_name == groups.ALL_SERVICES:
        in_process.install(app, front_port, None, {})
    elif group_name != groups.FRONT:
        in_process.install(app, front_port, frozenset(groups.GROUPS_BY_NAME[group_name].clients), endpoints)
    if group_name == groups.ALL_SERVICES:
        # Deployed REST APIs answer before moto (which has no API Gateway data plane); their Lambdas run outside the gate.
        app = execute_api.ExecuteApi(
            app, execute_api.in_process_invoke(runtime, gate.held), execute_api.in_process_may_invoke(gate.held), gate.held
        )
    elif group_name == groups.FRONT:
        from blackfriday.emulator.fixes.awslambda import LambdaClients

        lambda_client_for = LambdaClients(endpoints["lambda"])
        app = execute_api.ExecuteApi(
            app, execute_api.remote_invoke(lambda_client_for), execute_api.remote_may_invoke(lambda_client_for), gate.held
        )
    return app, dispatcher


def listening_socket() -> socket.socket:
    """A socket on a free port for a group process, opened by the front process before the group starts."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((EMULATOR_HOST, 0))
    listener.listen(LISTEN_BACKLOG)
    return listener


def keep_alive_request_handler():
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class KeepAliveRequestHandler(MotoRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = IDLE_CONNECTION_SECONDS  # an idle kept connection is closed after this, its thread ends

        def setup(self):
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # headers and body go out at once

        def run_wsgi(self):
            if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            environ = self.make_environ()
            if environ.get("wsgi.input_terminated"):  # chunked: werkzeug's DechunkedInput stops at the last chunk
                body = environ["wsgi.input"].read()
            else:
                body = self.rfile.read(int(environ.get("CONTENT_LENGTH") or 0))
            environ.pop("HTTP_TRANSFER_ENCODING", None)
            environ.pop("wsgi.input_terminated", None)
            environ.update({"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))})
            status, headers, payload = self.call_app(environ)
            code, _, reason = status.partition(" ")
            self.send_response(int(code), reason)
            declared_length = None
            for name, value in headers:
                lowered = name.lower()
                if lowered == "content-length":
                    declared_length = value
                elif lowered not in ("connection", "transfer-encoding", "keep-alive"):
                    self.send_header(name, value)
            if not (int(code) < 200 or int(code) in (204, 304)):
                # A HEAD answer declares the length of what a GET would return.
                is_head = self.command == "HEAD"
                self.send_header("Content-Length", declared_length if is_head and declared_length else str(len(payload)))
            self.end_headers()
            if self.command != "HEAD" and payload:
                self.wfile.write(payload)

        def call_app(self, environ) -> tuple[str, list, bytes]:
            answer = {}

            def start_response(status, headers, exc_info=None):
                answer["status"], answer["headers"] = status, headers
                return chunks.append

            chunks: list[bytes] = []
            try:
                result = self.server.app(environ, start_response)
                try:
                    chunks.extend(result)
                finally:
                    if hasattr(result, "close"):
                        result.close()
            except Exception:
                log.exception("error on %s %s", environ["REQUEST_METHOD"], environ.get("PATH_INFO"))
                return "500 Internal Server Error", [("Content-Type", "text/plain")], b"internal error in the emulator (see its log)"
            return answer["status"], answer["headers"], b"".join(chunks)

        def log_request(self, code="-", size="-"):
            if str(code).startswith("5"):  # one access-log line per request would be ~100,000 per large run
                super().log_request(code, size)

    return KeepAliveRequestHandler


def run_http(app, name: str, on_stop, port: int = 0, fd: int | None = None) -> None:
    """Serve `app` on the port (or on the listening socket `fd`) until SIGTERM/SIGINT, then call `on_stop`."""
    from werkzeug.serving import ThreadedWSGIServer

    server = ThreadedWSGIServer(EMULATOR_HOST, port, app, keep_alive_request_handler(), fd=fd)
    server.daemon_threads = True

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    log.info("%s %s pid %s listening on http://%s:%s", SERVICE_NAME, name, os.getpid(), EMULATOR_HOST, server.server_address[1])
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        on_stop()
        log.info("%s %s stopped", SERVICE_NAME, name)


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(process)d: %(message)s")


def health_body(health: dict) -> bytes:
    return json.dumps(health).encode()


def serve(port: int, fixes: bool = True, processes: int = groups.GROUPED) -> None:
    """The front process: run until SIGTERM/SIGINT, then stop the group processes and the Lambda workers."""
    from blackfriday.emulator import lambda_runtime

    configure_logging()
    # The public port is bound last: a client that reaches it gets an answer, not a wait on a process still starting.
    if processes == groups.SINGLE:
        health = {"service": SERVICE_NAME, "pid": os.getpid(), "port": port, "group": groups.ALL_SERVICES, "services": ["all"]}
        health["processes"] = [dict(health)]
        app, _ = build_app(port, groups.ALL_SERVICES, health_body(health), {}, fixes)
        run_http(app, "single process", lambda_runtime.shutdown, port=port)
        return
    children = GroupProcesses(port, fixes)
    try:
        children.start()
        endpoints = groups.endpoint_map(children.urls)
        front = {"service": SERVICE_NAME, "pid": os.getpid(), "port": port, "group": groups.FRONT, "services": services_of(groups.FRONT)}
        health = {**front, "processes": [front, *children.describe()], "endpoints": endpoints}
        app, dispatcher = build_app(port, groups.FRONT, health_body(health), endpoints, fixes)
        from blackfriday.emulator.front import Router

        router = Router(app, dispatcher, children.urls)
        children.watch()
    except BaseException:
        children.stop()
        raise
    run_http(router, "front", children.stop, port=port)


def serve_group(group_name: str, listener_fd: int, front_port: int, endpoints: dict[str, str], fixes: bool = True) -> None:
    """One group's process, started by the front process on a socket it opened."""
    from blackfriday.emulator import lambda_runtime

    stop_with_parent()
    configure_logging()
    with socket.socket(fileno=os.dup(listener_fd)) as listener:  # a copy: closing it leaves the server's
        port = listener.getsockname()[1]
    health = {"service": SERVICE_NAME, "pid": os.getpid(), "port": port, "group": group_name, "services": services_of(group_name)}
    app, _ = build_app(front_port, group_name, health_body(health), endpoints, fixes)
    run_http(app, group_name, lambda_runtime.shutdown, fd=listener_fd)


def stop_with_parent() -> None:
    """Ask Linux for SIGTERM when the front process ends, however it ends (elsewhere, `stop` cleans up)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() == 1:  # the parent died before the request took effect
            sys.exit(1)


class GroupProcesses:
    """The group processes of one front process: started, health-checked, watched and stopped together."""

    def __init__(self, front_port: int, fixes: bool):
        self.front_port = front_port
        self.fixes = fixes
        self.listeners = {group.name: listening_socket() for group in groups.GROUPS}
        self.urls = {name: f"http://{EMULATOR_HOST}:{listener.getsockname()[1]}" for name, listener in self.listeners.items()}
        self.processes: dict[str, subprocess.Popen] = {}
        self.stopping = threading.Event()

    def command(self, group_name: str, fd: int) -> list[str]:
        endpoints = json.dumps(groups.endpoint_map(self.urls))
        command = [sys.executable, "-m", "blackfriday.emulator", "serve-group", group_name, "--front-port", str(self.front_port)]
        command += ["--socket-fd", str(fd), "--endpoints", endpoints]
        return command + ([] if self.fixes else ["--no-fixes"])

    def start(self) -> None:
        for name, listener in self.listeners.items():
            fd = listener.fileno()
            self.processes[name] = subprocess.Popen(self.command(name, fd), pass_fds=(fd,), stdin=subprocess.DEVNULL)
            listener.close()  # the child has its own copy; ours would keep the port after the child ends
        deadline = time.monotonic() + GROUP_START_TIMEOUT_SECONDS
        for name, process in self.processes.items():
            self.wait_until_healthy(name, process, deadline)

    def wait_until_healthy(self, name: str, process: subprocess.Popen, deadline: float) -> None:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the {name} process exited with code {process.returncode} while starting")
            try:
                with urllib.request.urlopen(self.urls[name] + HEALTH_PATH, timeout=2) as response:
                    if json.loads(response.read()).get("pid") == process.pid:
                        return
            except (urllib.error.URLError, OSError, ValueError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the {name} process was not healthy after {GROUP_START_TIMEOUT_SECONDS:.0f} s")

    def describe(self) -> list[dict]:
        return [
            {"group": name, "pid": process.pid, "port": int(self.urls[name].rsplit(":", 1)[1]), "services": services_of(name)}
            for name, process in self.processes.items()
        ]

    def watch(self) -> None:
        """A group process that ends on its own takes the emulator down: half an emulator would answer wrongly."""

        def wait_for(name: str, process: subprocess.Popen) -> None:
            code = process.wait()
            if not self.stopping.is_set():
                log.error("the %s process (pid %s) exited with code %s: stopping the emulator", name, process.pid, code)
                os.kill(os.getpid(), signal.SIGTERM)

        for name, process in self.processes.items():
            threading.Thread(target=wait_for, args=(name, process), name=f"watch-{name}", daemon=True).start()

    def stop(self) -> None:
        self.stopping.set()
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + GROUP_STOP_TIMEOUT_SECONDS
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
