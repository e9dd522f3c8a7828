"""Tool calls of every environment run in a sandboxed worker, never in the verifier's own process.

The worker (`tool_worker.py`, run as a script: its own process group, network and PID namespaces where
available, memory and file-size limits) imports the project's simulated environments and BFCL's executable
API classes once, then forks one confined *session* process per environment instance: chrooted into an
empty directory, dropped to a uid of its own, unable to fork or write a file (see the worker's docstring).

- BFCL multi-turn: one stateful session per episode holds BFCL's instances for the whole episode, so a
  tool call costs one pipe round trip instead of a Python start and a replay of the history; the final
  check (`multi_turn_checker`) runs in a session of its own.
- The project's environments: their state is plain data, kept here; each step sends the state and the
  parsed calls to one shared stateless session and gets the new state and the results back.

A worker serves a whole process (`shared_tool_sandbox()`), started on first use and again after it dies or
the process forks; sessions never share state, so sharing the worker changes no result.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import select
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from rlvr_assets.core.sandbox.process import SandboxLimits, _kill_group, namespace_flags, network_guard, spawn_worker

_WORKER = Path(__file__).with_name("tool_worker.py")  # run as a script, never imported
_PROJECT_ROOT = Path(__file__).resolve().parents[4]


class ToolSandboxError(RuntimeError):
    """A tool session could not answer (timed out, died, refused); the message says why, in one line."""


class ToolSandbox:
    """One sandboxed tool worker; sessions are confined processes it forks."""

    def __init__(self, wall_seconds: float = 30.0, memory_mb: int = 2048) -> None:
        self.wall_seconds = wall_seconds
        self.memory_mb = memory_mb
        self._proc: subprocess.Popen[bytes] | None = None
        self._info: dict[str, bool] = {}
        self._ids = itertools.count()
        self._lock = threading.RLock()
        self._generation = 0  # bumped at every worker start: sessions of an older worker are gone
        self._project: ToolSession | None = None  # the stateless session of the project's environments

    # --- the worker -----------------------------------------------------------------------------------
    def _start(self) -> subprocess.Popen[bytes]:
        argv = [sys.executable, "-I", "-B", str(_WORKER), str(_PROJECT_ROOT), str(self.wall_seconds)]
        return spawn_worker(
            argv, SandboxLimits(wall_seconds=self.wall_seconds, memory_mb=self.memory_mb, file_size_mb=4)
        )

    def _ensure_worker(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        self.close()
        self._proc = self._start()
        self._generation += 1
        assert self._proc.stdout is not None
        ready, _, _ = select.select([self._proc.stdout], [], [], 60)
        try:
            self._info = json.loads(self._proc.stdout.readline()) if ready else {}
        except json.JSONDecodeError:
            self._info = {}
        if not self._info:
            self.close()
            raise ToolSandboxError("the tool sandbox worker did not start")

    @property
    def guard(self) -> str:
        """The guards tool sessions run under here, e.g. 'unshare-net+pid+chroot+uid-per-session'."""
        with self._lock:
            self._ensure_worker()
        parts = [] if network_guard() == "none" else [network_guard()]
        if namespace_flags()[1]:
            parts.append("pid" if parts else "unshare-pid")
        if self._info.get("chroot"):
            parts.append("chroot" if self._info.get("uid") else "chroot-as-root")
        if self._info.get("uid"):
            parts.append("uid-per-session")
        return "+".join(parts) or "none"

    def close(self) -> None:
        """Stop the worker; it kills its sessions, and its PID namespace whatever is left."""
        with self._lock:
            if self._proc is not None:
                if self._proc.stdin is not None:
                    with contextlib.suppress(OSError):
                        self._proc.stdin.close()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(timeout=2)
                _kill_group(self._proc.pid)
                self._proc.wait()
                self._proc = None

    def __enter__(self) -> ToolSandbox:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _call(self, message: dict[str, Any], generation: int | None = None) -> dict[str, Any]:
        """Send one request to the worker and return its reply body (ToolSandboxError on any failure)."""
        with self._lock:
            if generation is not None and (
                generation != self._generation or self._proc is None or self._proc.poll() is not None
            ):
                raise ToolSandboxError("tool session lost (the sandbox worker restarted)")
            self._ensure_worker()
            assert self._proc is not None and self._proc.stdin is not None and self._proc.stdout is not None
            message = {**message, "id": next(self._ids)}
            data = json.dumps(message).encode()
            try:
                self._proc.stdin.write(b"%d\n%s" % (len(data), data))
                self._proc.stdin.flush()
                ready, _, _ = select.select([self._proc.stdout], [], [], self.wall_seconds + 10)
                line = self._proc.stdout.readline() if ready else b""
                reply = json.loads(line) if line else None
            except (OSError, ValueError):
                reply = None
            if not isinstance(reply, dict) or reply.get("id") != message["id"]:
                self.close()  # hung or dead: the next request starts a fresh worker
                raise ToolSandboxError("the tool sandbox worker failed")
            if reply.get("error") is not None:
                raise ToolSandboxError(str(reply["error"])[:300])
            body = reply.get("body")
            if not isinstance(body, dict):
                raise ToolSandboxError("malformed reply from the tool sandbox")
            if "error" in body:
                raise ToolSandboxError(str(body["error"])[:300])
            return body

    # --- sessions -------------------------------------------------------------------------------------
    def open(self, kind: str, setup: dict[str, Any]) -> ToolSession:
        """A confined session of `kind` ('project' or 'bfcl') set up with `setup`."""
        with self._lock:
            sid = f"s{next(self._ids)}"
            self._call({"op": "open", "session": sid, "kind": kind, "setup": setup})
            return ToolSession(self, sid, self._generation)

    def project_step(
        self, environment: str, state: dict[str, Any], calls: list[tuple[str, dict[str, Any]]]
    ) -> tuple[dict[str, Any], list[str]]:
        """Run `calls` of a project environment on `state` in the shared stateless session: (new state, results)."""
        body = {"environment": environment, "state": state, "calls": [[n, a] for n, a in calls]}
        with self._lock:
            for attempt in range(2):
                try:
                    if self._project is None or self._project.generation != self._generation:
                        self._project = self.open("project", {})
                    reply = self._project.request(body)
                    break
                except ToolSandboxError:
                    self._project = None
                    if attempt:
                        raise
        new_state, results = reply.get("state"), reply.get("results")
        if not isinstance(new_state, dict) or not isinstance(results, list) or len(results) != len(calls):
            raise ToolSandboxError("malformed reply from the tool session")
        return new_state, [str(r) for r in results]


class ToolSession:
    """One confined session process in a ToolSandbox; `request` sends it one body and returns its reply."""

    def __init__(self, sandbox: ToolSandbox, sid: str, generation: int) -> None:
        self.sandbox, self.sid, self.generation = sandbox, sid, generation
        self.closed = False

    def request(self, body: dict[str, Any]) -> dict[str, Any]:
        if self.closed:
            raise ToolSandboxError("tool session closed")
        try:
            return self.sandbox._call({"op": "request", "session": self.sid, "body": body}, self.generation)
        except ToolSandboxError as exc:
            if "no such tool session" in str(exc) or "lost" in str(exc):
                self.closed = True
            raise

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(ToolSandboxError):
                self.sandbox._call({"op": "close", "session": self.sid}, self.generation)

    def __enter__(self) -> ToolSession:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


@functools.cache
def _shared(pid: int) -> ToolSandbox:
    return ToolSandbox()


def shared_tool_sandbox() -> ToolSandbox:
    """This process's tool sandbox (a forked child gets its own: it cannot share its parent's pipes)."""
    return _shared(os.getpid())
