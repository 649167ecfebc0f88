"""Start, probe and stop the local emulator: what setup_infra.py, teardown.py and the emulator CLI call.

The emulator runs detached from the shell that started it, logging to `.emulator/emulator.log` under
the project root with its pid file beside it. Whether it runs is decided by asking the port, never by
the pid file alone: our health route tells our emulator from another program on the same port.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from blackfriday.emulator import HEALTH_PATH, SERVICE_NAME
from blackfriday.errors import UsageProblem
from blackfriday.target import DEFAULT_EMULATOR_PORT, emulator_port, endpoint_answers, local_endpoint_url

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STATE_DIR = PROJECT_ROOT / ".emulator"
PROBE_TIMEOUT_SECONDS = 2.0
START_TIMEOUT_SECONDS = 60.0  # a cold start imports moto and Flask: a few seconds on a slow machine
STOP_TIMEOUT_SECONDS = 15.0
POLL_SECONDS = 0.1


class EmulatorStartError(RuntimeError):
    """The emulator process did not become healthy (the message names its log)."""


@dataclass(frozen=True)
class EmulatorStatus:
    url: str
    pid: int
    port: int
    log_path: Path
    started: bool  # True when this call started it, False when it already ran


def log_path_for(port: int) -> Path:
    suffix = "" if port == DEFAULT_EMULATOR_PORT else f"-{port}"
    return STATE_DIR / f"emulator{suffix}.log"


def pid_path_for(port: int) -> Path:
    return log_path_for(port).with_suffix(".pid")


def probe(url: str) -> dict | None:
    """Our emulator's health document, None when nothing answers; UsageProblem when another program does."""
    if not endpoint_answers(url, timeout=PROBE_TIMEOUT_SECONDS):
        return None
    try:
        with urllib.request.urlopen(url + HEALTH_PATH, timeout=PROBE_TIMEOUT_SECONDS) as response:
            health = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        health = None
    if isinstance(health, dict) and health.get("service") == SERVICE_NAME:
        return health
    raise UsageProblem(
        f"port {urllib.parse.urlsplit(url).port} is taken by another program (not the blackfriday emulator): "
        "stop it or choose another port with BF_EMULATOR_PORT"
    )


def status(port: int | None = None) -> EmulatorStatus | None:
    port = port or emulator_port()
    url = local_endpoint_url(port)
    health = probe(url)
    if health is None:
        return None
    return EmulatorStatus(url, int(health["pid"]), port, log_path_for(port), started=False)


def serve_command(port: int) -> list[str]:
    return [sys.executable, "-m", "blackfriday.emulator", "serve", "--port", str(port)]


def wait_until_healthy(url: str, process: subprocess.Popen, log_path: Path, timeout: float = START_TIMEOUT_SECONDS) -> dict:
    """Poll the health route until our emulator answers; fail early (with the log's tail) if the process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EmulatorStartError(f"the emulator exited with code {process.returncode} before it was healthy; {log_tail(log_path)}")
        health = probe(url)
        if health is not None and health["pid"] == process.pid:
            return health
        time.sleep(POLL_SECONDS)
    process.kill()
    raise EmulatorStartError(f"the emulator was not healthy at {url} after {timeout:.0f} s; {log_tail(log_path)}")


def log_tail(log_path: Path, lines: int = 3) -> str:
    try:
        tail = log_path.read_text(errors="replace").strip().splitlines()[-lines:]
    except OSError:
        tail = []
    return f"see {log_path}" + (": " + " | ".join(tail) if tail else "")


def ensure_running(port: int | None = None) -> EmulatorStatus:
    """Return the running emulator, or start one detached in the background and wait until it is healthy."""
    port = port or emulator_port()
    running = status(port)
    if running is not None:
        return running
    url = local_endpoint_url(port)
    log_path = log_path_for(port)
    STATE_DIR.mkdir(exist_ok=True)
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            serve_command(port),
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # survives the script that started it and its Ctrl-C
        )
    try:
        wait_until_healthy(url, process, log_path)
    except EmulatorStartError:
        running = status(port)  # another script started one at the same moment: use it
        if running is None:
            raise
        return running
    pid_path_for(port).write_text(f"{process.pid}\n")
    return EmulatorStatus(url, process.pid, port, log_path, started=True)


def stop(port: int | None = None) -> bool:
    """Stop our emulator on the port; False when none ran. Never signals a process that is not our emulator."""
    port = port or emulator_port()
    running = status(port)
    if running is None:
        pid_path_for(port).unlink(missing_ok=True)
        return False
    os.kill(running.pid, signal.SIGTERM)  # it stops its Lambda workers on the way out
    if not wait_for_exit(running.pid, STOP_TIMEOUT_SECONDS):
        os.kill(running.pid, signal.SIGKILL)
        wait_for_exit(running.pid, STOP_TIMEOUT_SECONDS)
    pid_path_for(port).unlink(missing_ok=True)
    return True


def wait_for_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)  # reaps it when we started it ourselves
            if finished == pid:
                return True
        except ChildProcessError:
            pass  # not our child: it is gone once signal 0 fails
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(POLL_SECONDS)
    return False
