"""Starting, finding and stopping the emulator in the background; a port taken by another program."""

from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from blackfriday.emulator import lifecycle
from blackfriday.emulator.__main__ import main as emulator_cli
from blackfriday.errors import UsageProblem

pytestmark = pytest.mark.emulator


@pytest.fixture
def state_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(lifecycle, "STATE_DIR", tmp_path)
    return tmp_path


class QuietHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass  # its access log would land in the CLI's captured stderr


@pytest.fixture
def other_program(free_tcp_port):
    """An HTTP server that is not our emulator (it answers 501 to everything), on a free port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_tcp_port), QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield free_tcp_port
    server.shutdown()
    server.server_close()


def run_cli(*args: str):
    return CliRunner().invoke(emulator_cli, list(args))


GROUP_SERVICES = {
    "front": ["sts", "cloudwatch", "apigateway", "every other service"],
    "messaging": ["s3", "sns", "sqs", "events"],
    "dynamodb": ["dynamodb", "dynamodbstreams"],
    "workflow": ["stepfunctions", "lambda", "logs", "iam"],
}


def is_alive(pid: int) -> bool:
    """Running, not a zombie waiting for its parent to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_start_status_stop_round_trip(state_dir, free_tcp_port):
    port = str(free_tcp_port)
    # GIVEN nothing on the port
    assert lifecycle.status(free_tcp_port) is None
    try:
        # WHEN the emulator is ensured twice
        started = lifecycle.ensure_running(free_tcp_port)
        again = lifecycle.ensure_running(free_tcp_port)
        # THEN the first call started it detached, logging to the state directory; the second found it
        assert (started.started, started.url, started.port) == (True, f"http://127.0.0.1:{port}", free_tcp_port)
        assert started.log_path == state_dir / f"emulator-{port}.log" and started.log_path.exists()
        # AND it is a front process on the port and one process per group, each on its own port
        assert [(process.group, process.services) for process in started.processes] == list(GROUP_SERVICES.items())
        front, *others = started.processes
        assert (front.pid, front.port) == (started.pid, free_tcp_port)
        assert len({process.port for process in started.processes}) == 4
        assert len({process.pid for process in started.processes}) == 4
        pids = [process.pid for process in started.processes]
        assert (state_dir / f"emulator-{port}.pid").read_text() == "".join(f"{pid}\n" for pid in pids)
        assert (again.started, again.pid, again.processes) == (False, started.pid, started.processes)
        # AND the CLI lists every process, as text and as JSON
        status = run_cli("status", "--port", port)
        assert (status.exit_code, status.output) == (
            0,
            f"emulator running at {started.url} (pid {started.pid}, log {started.log_path})\n"
            + "".join(
                f"  {process.group:<10} pid {process.pid:<8} port {process.port:<6} {', '.join(process.services)}\n"
                for process in started.processes
            ),
        )
        as_json = run_cli("status", "--port", port, "--json")
        assert json.loads(as_json.output) == {
            "running": True,
            "url": started.url,
            "pid": started.pid,
            "port": free_tcp_port,
            "log": str(started.log_path),
            "processes": [
                {"group": process.group, "pid": process.pid, "port": process.port, "services": process.services}
                for process in started.processes
            ],
        }
    finally:
        # WHEN it is stopped through the CLI
        stopped = run_cli("stop", "--port", port)
    # THEN every process of it is gone, its pid file too; status says so with exit 1, and a second stop is harmless
    assert (stopped.exit_code, stopped.output) == (0, f"emulator on port {port} stopped\n")
    assert [pid for pid in pids if is_alive(pid)] == []
    assert lifecycle.status(free_tcp_port) is None
    assert not (state_dir / f"emulator-{port}.pid").exists()
    assert (run_cli("status", "--port", port).exit_code, run_cli("status", "--port", port).output) == (
        1,
        f"emulator not running on port {port}\n",
    )
    assert lifecycle.stop(free_tcp_port) is False


def test_single_process_mode_serves_every_service_in_one_process(state_dir, free_tcp_port):
    try:
        # WHEN the emulator is started with one process
        started = lifecycle.ensure_running(free_tcp_port, processes=1)
        # THEN status lists that one process, serving every service
        assert started.processes == (lifecycle.EmulatorProcess("all", started.pid, free_tcp_port, ["all"]),)
        assert (state_dir / f"emulator-{free_tcp_port}.pid").read_text() == f"{started.pid}\n"
    finally:
        assert lifecycle.stop(free_tcp_port) is True
    assert not is_alive(started.pid)


@pytest.mark.parametrize("cleaner", ["stop", "start"])
def test_a_front_process_killed_outright_leaves_nothing_behind(state_dir, free_tcp_port, cleaner):
    # GIVEN a running emulator whose front process is killed with SIGKILL (it cannot stop the others)
    started = lifecycle.ensure_running(free_tcp_port)
    pids = [process.pid for process in started.processes]
    os.kill(started.pid, signal.SIGKILL)
    lifecycle.wait_for_exit(started.pid, 10)
    try:
        # WHEN the user runs `stop`, or the next `start`
        if cleaner == "stop":
            assert run_cli("stop", "--port", str(free_tcp_port)).output == f"emulator not running on port {free_tcp_port}\n"
        else:
            restarted = lifecycle.ensure_running(free_tcp_port)
            assert restarted.started is True and not set(pids) & {process.pid for process in restarted.processes}
        # THEN none of the killed emulator's processes is left
        assert [pid for pid in pids if is_alive(pid)] == []
    finally:
        lifecycle.stop(free_tcp_port)


def test_a_process_is_exiting_only_between_the_start_of_its_exit_and_its_end():
    # GIVEN a running process
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    # THEN it is not exiting (its command line says what it is)
    assert lifecycle.is_exiting(child.pid) is False
    # WHEN it has ended, its status not yet collected (a zombie), THEN it is no longer exiting: it has exited
    child.stdin.close()
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
    assert (is_alive(child.pid), lifecycle.is_exiting(child.pid)) == (False, False)
    # AND once reaped, there is no such process
    child.wait()
    assert lifecycle.is_exiting(child.pid) is False


def test_a_port_taken_by_another_program_is_a_configuration_error(state_dir, other_program):
    expected = (
        f"port {other_program} is taken by another program (not the blackfriday emulator): "
        "stop it or choose another port with BF_EMULATOR_PORT"
    )
    # WHEN the emulator is looked for or started on a port another HTTP server holds
    with pytest.raises(UsageProblem) as raised:
        lifecycle.ensure_running(other_program)
    # THEN it refuses, says why, and starts nothing; the CLI says it in one line with exit 2
    assert str(raised.value) == expected
    assert not list(state_dir.iterdir())
    for command in ("status", "start", "stop"):
        result = run_cli(command, "--port", str(other_program))
        assert (result.exit_code, result.output) == (2, f"Error: {expected}\n")


def test_an_invalid_port_is_a_usage_error():
    # WHEN the CLI gets a port out of range
    result = run_cli("status", "--port", "70000")
    # THEN one line, exit 2
    assert result.exit_code == 2
    assert result.output.startswith("Error: Invalid value for '--port': 70000 is not in the range 1<=x<=65535")


def test_serve_refuses_a_port_our_emulator_already_serves(emulator_url):
    # GIVEN the session's emulator
    port = emulator_url.rsplit(":", 1)[1]
    # WHEN another one is asked to serve on its port
    result = run_cli("serve", "--port", port)
    # THEN it says so in one line, exit 2, and does not start
    pid = lifecycle.status(int(port)).pid
    assert (result.exit_code, result.output) == (2, f"Error: the emulator already runs at {emulator_url} (pid {pid})\n")
