"""`make ui` stops cleanly: SIGTERM to make (what a supervisor or `kill` sends) and Ctrl-C reach `dagster dev`,
which stops its webserver, daemon and code server instead of leaving them running. `kill` works however
`make ui` or `rlvr-assets` was started, from a terminal or in the background of a script."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, write_config

VENV = Path(sys.executable).parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _read_seeds(config: Path, home: Path) -> None:
    import dagster as dg

    from rlvr_assets.core.config import load_config
    from rlvr_assets.definitions import build_definitions

    defs = build_definitions(load_config(config))
    home.mkdir(parents=True, exist_ok=True)  # no dagster.yaml in it: `make ui` links the top-level one in
    with dg.DagsterInstance.local_temp(str(home)) as instance:
        assets = [defs.get_assets_def(name) for name in ("seed_tasks", "smoke_suite")]
        assert dg.materialize(assets, resources=defs.resources, instance=instance).success


def _as_a_script_starts_it() -> None:
    """A background job of a non-interactive shell (`make ui &` in a script, a CI step) starts with SIGINT
    ignored; a terminal's foreground job does not."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_a_run_started_in_the_background_of_a_script_still_stops_on_kill() -> None:
    # Dagster gives SIGTERM whatever SIGINT has: without `restore_interrupt_handling` SIGTERM would be ignored
    code = (
        "import time\n"
        "from dagster._utils.interrupts import setup_interrupt_handlers\n"
        "from rlvr_assets.cli import restore_interrupt_handling\n"
        "restore_interrupt_handling()\n"
        "setup_interrupt_handlers()\n"
        "print('ready', flush=True)\n"
        "time.sleep(120)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True, preexec_fn=_as_a_script_starts_it
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) != 0
    finally:
        proc.kill()
        proc.wait()


# SIGTERM as a supervisor sends it to `make ui` started in the background; Ctrl-C as a terminal sends it
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_make_ui_stops_dagster_dev_and_its_children(tmp_path: Path, sig: signal.Signals) -> None:
    if shutil.which("make") is None or not (VENV / ".setup-stamp").exists():
        pytest.skip("needs make and a set-up virtualenv (scripts/setup.sh)")
    port = _free_port()
    config = write_config(tmp_path)
    _read_seeds(config, tmp_path / "home")  # as after `make run`: the seed sensor has nothing to re-prepare
    env = {
        **os.environ,
        "RLVR_ASSETS_CONFIG": str(config),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    log = (tmp_path / "ui.log").open("w")
    make = subprocess.Popen(
        [
            *("make", "--no-print-directory", "-o", f"{VENV}/.setup-stamp", "ui"),  # -o: never re-run set-up here
            *(f"VENV={VENV}", f"UI_HOME={tmp_path / 'home'}", f"UI_ARGS=-h 127.0.0.1 -p {port}"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: everything make starts, and only that
        preexec_fn=_as_a_script_starts_it if sig == signal.SIGTERM else None,
    )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                time.sleep(1)
        else:
            pytest.fail(f"dagster dev did not serve on {port}:\n{(tmp_path / 'ui.log').read_text()[-2000:]}")
        if sig == signal.SIGTERM:
            make.send_signal(sig)  # to make alone, as `kill` or a supervisor does; make passes it to its child
        else:
            os.killpg(make.pid, sig)  # Ctrl-C: the terminal signals the whole foreground group
        stopped = time.monotonic() + 60
        while time.monotonic() < stopped:
            make.poll()  # reap make itself, so only live processes keep the group alive
            if not _group_alive(make.pid):
                break
            time.sleep(0.5)
        left = subprocess.run(["ps", "-o", "pid,ppid,cmd", "-g", str(make.pid)], capture_output=True, text=True).stdout
        assert not _group_alive(make.pid), f"still running 60s after the signal:\n{left}"
        output = (tmp_path / "ui.log").read_text()
        warnings = [line for line in output.splitlines() if "WARNING" in line]
        assert "Found a dagster instance configuration" not in output, output[-2000:]
        assert not [w for w in warnings if "dagster.yaml" in w or "DAGSTER_HOME" in w], warnings
        assert (tmp_path / "home" / "dagster.yaml").resolve() == ROOT / "dagster.yaml"  # the file in use
    finally:
        if _group_alive(make.pid):
            os.killpg(make.pid, signal.SIGKILL)
        make.wait(timeout=10)
        log.close()
