"""Run untrusted Python in a separate, resource-limited process.

Every run gets its own process group and temporary working directory, wall/CPU/memory/file-size/process
limits, a scrubbed environment, and, where the kernel allows unprivileged namespaces, no network
(`unshare --net`). The guard that was active is reported with every result.
"""

from __future__ import annotations

import contextlib
import functools
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SandboxLimits:
    wall_seconds: float = 10.0
    cpu_seconds: int = 10
    memory_mb: int = 1024
    file_size_mb: int = 4
    max_processes: int = 64
    max_output_bytes: int = 1_000_000


@dataclass(frozen=True)
class SandboxResult:
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool
    wall_seconds: float
    cpu_seconds: float
    network_guard: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


@functools.cache
def network_guard() -> str:
    """'unshare-net' when a private network namespace can be created here, else 'none' (reported, not hidden)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return "none"
    for flags in (["--net"], ["--net", "--map-root-user"]):
        try:
            probe = subprocess.run([unshare, *flags, "true"], capture_output=True, timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return "unshare-net" + ("" if flags == ["--net"] else "+userns")
    return "none"


@functools.cache
def namespace_flags() -> tuple[tuple[str, ...], bool]:
    """`unshare` flags for the worker: network_guard's, plus a PID namespace of its own where one can be made
    here (`--pid --fork`: the worker's PID 1 adopts and reaps orphans, and its exit kills all that is left).
    Returns (flags, whether they include the PID namespace)."""
    net = network_guard()
    flags = {"unshare-net": ("--net",), "unshare-net+userns": ("--net", "--map-root-user")}.get(net, ())
    unshare = shutil.which("unshare")
    if unshare is not None:
        with_pid = (*flags, "--pid", "--fork")
        try:
            probe = subprocess.run([unshare, *with_pid, "true"], capture_output=True, timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            probe = None
        if probe is not None and probe.returncode == 0:
            return with_pid, True
    return flags, False


# The worker kit: code_worker.py (this folder) runs Python jobs, and its framing, probing, fd-hygiene and uid
# sweeping helpers are shared by every other sandbox worker. A worker starts isolated (`python -I`), so it
# cannot import the package: its one bootstrap is to put this folder on sys.path and `import code_worker`
# (see domains/function_calling/tool_worker.py). No other module touches sys.path (tests/test_layers.py).
CODE_WORKER = Path(__file__).with_name("code_worker.py")
WORKER_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0", "TMPDIR": "/tmp"}


def spawn_worker(argv: list[str], limits: SandboxLimits) -> subprocess.Popen[bytes]:
    """A long-lived sandbox worker (the code and tool sandboxes fork their jobs from one): in its own network
    and, where possible, PID namespace, with a clean environment and `limits` on memory and file size; its
    CPU and process limits are lifted, since each job it forks lowers its own."""
    flags, _ = namespace_flags()
    if flags:
        argv = [shutil.which("unshare") or "unshare", *flags, *argv]
    worker_limits = SandboxLimits(
        wall_seconds=limits.wall_seconds,
        cpu_seconds=10**6,
        memory_mb=limits.memory_mb,
        file_size_mb=limits.file_size_mb,
        max_processes=10**5,
    )
    return subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=dict(WORKER_ENV),
        cwd="/tmp",
        preexec_fn=lambda: _limit_child(worker_limits),
    )


def _limit_child(limits: SandboxLimits) -> None:
    """Runs in the child between fork and exec."""
    os.setsid()
    mem = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    fsize = limits.file_size_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    _, nproc_hard = resource.getrlimit(resource.RLIMIT_NPROC)
    nproc = limits.max_processes if nproc_hard == resource.RLIM_INFINITY else min(limits.max_processes, nproc_hard)
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_python(code: str, stdin: str = "", limits: SandboxLimits | None = None) -> SandboxResult:
    """Execute `code` with `python -I` in a fresh temp dir under the limits; never raises on untrusted failure."""
    limits = limits or SandboxLimits()
    guard = network_guard()
    with tempfile.TemporaryDirectory(prefix="rlvr-sbx-") as workdir:
        script = Path(workdir) / "main.py"
        script.write_text(code)
        argv = [sys.executable, "-I", "-B", str(script)]
        if guard.startswith("unshare-net"):
            flags = ["--net"] if guard == "unshare-net" else ["--net", "--map-root-user"]
            argv = [shutil.which("unshare") or "unshare", *flags, *argv]
        env = {"PATH": "/usr/bin:/bin", "HOME": workdir, "TMPDIR": workdir, "PYTHONHASHSEED": "0", "LANG": "C.UTF-8"}
        start = time.monotonic()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.Popen(
            argv,
            cwd=workdir,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=lambda: _limit_child(limits),
        )
        timed_out = False
        try:
            out, err = proc.communicate(stdin.encode(), timeout=limits.wall_seconds)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc.pid)
            out, err = proc.communicate()
        _kill_group(proc.pid)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return SandboxResult(
            returncode=proc.returncode if not timed_out else -signal.SIGKILL,
            stdout=out[: limits.max_output_bytes].decode("utf-8", "replace"),
            stderr=err[: limits.max_output_bytes].decode("utf-8", "replace"),
            timed_out=timed_out,
            wall_seconds=time.monotonic() - start,
            cpu_seconds=cpu,
            network_guard=guard,
        )


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
