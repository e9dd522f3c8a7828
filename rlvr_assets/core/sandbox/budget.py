"""Run a trusted, pure function under a wall-clock budget, in a helper process kept warm between calls.

Some checks have no time limit of their own: sympy's `simplify` took 107 s on `(exp(x)+exp(y)+sin(z))**30`.
Python cannot interrupt such a computation from another thread, and a signal works only in the main
thread, so the check runs in a helper process (`python -I`, its own process group, address-space limit,
no network where a namespace can be made) that imports the function once and answers one JSON line per
call. A call past its budget kills the helper (the next call starts a fresh one) and raises
`BudgetExceeded`. Arguments and results are JSON.

One helper per function serves a process (`budgeted(target)`); it holds no state between calls.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import select
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from rlvr_assets.core.sandbox.process import SandboxLimits, _kill_group, _limit_child, network_guard

_PROJECT_ROOT = Path(__file__).resolve().parents[3]
_HELPER = """
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
module, _, name = sys.argv[2].partition(":")
function = getattr(importlib.import_module(module), name)
out = sys.stdout
out.write("ready\\n")
out.flush()
for line in sys.stdin:
    try:
        reply = {"value": function(*json.loads(line))}
    except Exception as exc:
        reply = {"error": type(exc).__name__}
    out.write(json.dumps(reply) + "\\n")
    out.flush()
"""


class BudgetExceeded(Exception):
    """The call did not finish within its budget (or its helper died); the helper was killed."""


class BudgetedFunction:
    """`module:function` called in a helper process, each call under a wall-clock budget."""

    def __init__(self, target: str, memory_mb: int = 2048, start_seconds: float = 60.0) -> None:
        self.target = target
        self.memory_mb = memory_mb
        self.start_seconds = start_seconds  # startup (imports) is not part of any call's budget
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def _start(self) -> subprocess.Popen[bytes]:
        argv = [sys.executable, "-I", "-B", "-c", _HELPER, str(_PROJECT_ROOT), self.target]
        if network_guard().startswith("unshare-net"):
            flags = ["--net"] if network_guard() == "unshare-net" else ["--net", "--map-root-user"]
            argv = [shutil.which("unshare") or "unshare", *flags, *argv]
        limits = SandboxLimits(cpu_seconds=10**6, memory_mb=self.memory_mb, max_processes=64)
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"},
            cwd="/tmp",
            preexec_fn=lambda: _limit_child(limits),
        )
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], self.start_seconds)
        if not ready or proc.stdout.readline() != b"ready\n":
            self._kill(proc)
            raise BudgetExceeded(f"helper for {self.target} did not start")
        return proc

    @staticmethod
    def _kill(proc: subprocess.Popen[bytes]) -> None:
        _kill_group(proc.pid)
        with contextlib.suppress(OSError):
            proc.kill()
        proc.wait()

    def __call__(self, *args: Any, budget_seconds: float) -> Any:
        """The function's result; BudgetExceeded past `budget_seconds`; RuntimeError(type name) when it raised."""
        line = (json.dumps(list(args)) + "\n").encode()
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._proc = self._start()
            proc = self._proc
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(line)
                proc.stdin.flush()
                ready, _, _ = select.select([proc.stdout], [], [], budget_seconds)
                answer = proc.stdout.readline() if ready else b""
                reply = json.loads(answer) if answer else None
            except (OSError, ValueError):
                reply = None
            if not isinstance(reply, dict):
                self._kill(proc)
                self._proc = None
                raise BudgetExceeded(f"{self.target} took longer than {budget_seconds:g}s (or its helper died)")
        if "error" in reply:
            raise RuntimeError(str(reply["error"]))
        return reply.get("value")

    def close(self) -> None:
        with self._lock:
            if self._proc is not None:
                self._kill(self._proc)
                self._proc = None


@functools.cache
def _shared(target: str, pid: int) -> BudgetedFunction:
    return BudgetedFunction(target)


def budgeted(target: str) -> BudgetedFunction:
    """This process's helper for `target` ('module:function'); a forked child gets its own."""
    return _shared(target, os.getpid())
