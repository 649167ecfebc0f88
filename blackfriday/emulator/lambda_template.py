"""The template process of one function code (`lambda_worker.py` run as a template), as the runtime drives it.

The template has imported boto3 from the code's sys.path once; each warm worker is forked from it on a
request on its control socket, which also reports each worker's exit status (protocol in lambda_worker.py).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from blackfriday.emulator.errors import WorkerGone
from blackfriday.emulator.lambda_worker import FRAME_HEADER, read_exactly

WORKER_SCRIPT = Path(__file__).with_name("lambda_worker.py")
INIT_TIMEOUT_SECONDS = 10.0  # as on AWS: a handler module gets 10 s to import
EXIT_STATUS_SECONDS = 2.0  # how long to wait for a worker's exit status before killing it
# The worker's base environment: enough to run Python, nothing of the server's credentials or settings.
INHERITED_VARIABLES = ("PATH", "LANG", "LC_ALL", "TMPDIR", "HOME", "SYSTEMROOT")


def inherited_environment() -> dict[str, str]:
    return {name: os.environ[name] for name in INHERITED_VARIABLES if name in os.environ}


class Template:
    """The template process of one code directory, and the exit statuses of the workers forked from it."""

    def __init__(self, code_dir: Path):
        self.code_dir = code_dir
        self.last_used = time.monotonic()  # set by the runtime (under its lock) each time it hands the template out
        runtime_end, template_end = socket.socketpair()
        environment = inherited_environment() | {"LAMBDA_TASK_ROOT": str(code_dir)}
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", str(WORKER_SCRIPT), str(template_end.fileno())],
                pass_fds=(template_end.fileno(),),
                cwd=code_dir,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=None,  # the emulator's log: a template that cannot start says why there
            )
        finally:
            template_end.close()
        self.control = runtime_end
        self.spawn_lock = threading.Lock()  # one spawn at a time: its answer is the next "spawned" frame
        self.condition = threading.Condition()
        self.spawned: list[int] = []
        self.live: set[int] = set()
        self.exit_codes: dict[int, int] = {}
        self.closed = False  # the template ended: nothing more will be spawned or reported
        threading.Thread(target=self.read_reports, name=f"lambda-template-{self.process.pid}", daemon=True).start()

    def read_reports(self) -> None:
        """Spawned pids and exit statuses, until the template ends; the socket is closed here, never under a read."""
        fd = self.control.fileno()
        while (header := read_exactly(fd, FRAME_HEADER.size)) is not None:
            body = read_exactly(fd, FRAME_HEADER.unpack(header)[0])
            if body is None:
                break
            report = json.loads(body)
            with self.condition:
                if "spawned" in report:
                    self.spawned.append(report["spawned"])
                    self.live.add(report["spawned"])
                else:
                    self.exit_codes[report["exited"]] = report["code"]
                    self.live.discard(report["exited"])
                self.condition.notify_all()
        with self.condition:
            self.closed = True
            self.condition.notify_all()
        self.control.close()

    def spawn(self, environment: dict[str, str], fds: tuple[int, int, int]) -> int:
        """Fork a worker with this environment and these pipes (request read end, response and output write ends)."""
        with self.spawn_lock:
            body = json.dumps({"environment": environment}).encode()
            try:
                socket.send_fds(self.control, [FRAME_HEADER.pack(len(body)) + body], list(fds))
            except OSError:
                raise WorkerGone() from None
            with self.condition:
                self.condition.wait_for(lambda: self.spawned or self.closed, INIT_TIMEOUT_SECONDS)
                if self.spawned:
                    return self.spawned.pop()
            self.process.kill()  # ended, or stuck: a late answer must never be taken for the next spawn's
            raise WorkerGone()

    def exit_code(self, pid: int, timeout: float) -> int | None:
        """The worker's exit status once it has ended, None while it runs (after `timeout` seconds of waiting)."""
        with self.condition:
            self.condition.wait_for(lambda: pid in self.exit_codes or self.closed, timeout)
            return self.exit_codes.get(pid)

    def idle_since(self, cutoff: float) -> bool:
        with self.condition:
            return not self.live and self.last_used < cutoff

    @property
    def alive(self) -> bool:
        return not self.closed and self.process.poll() is None

    def stop(self) -> None:
        """Shut the control socket: the template sees its end and exits (its workers end when their request pipes close)."""
        try:
            self.control.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # the template has already ended
        try:
            self.process.wait(timeout=EXIT_STATUS_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
