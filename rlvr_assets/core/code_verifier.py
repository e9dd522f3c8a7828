"""Sandboxed unit-test verification of generated code, fast enough to sit inside a GRPO reward.

One sandboxed worker process (its own process group, network namespace where available, memory and
file-size limits) imports the standard library once, then forks a child per verification. Each child
drops to an unprivileged user (when the worker runs as root), lowers its CPU limit, caps its process
count, chdirs into an empty private directory, silences stdout/stderr, and only then runs the candidate.

Two test styles:
- `cases` (the project's seeds): the child only evaluates the candidate on each input and returns the
  values as JSON; the expected outputs never enter the sandbox and are compared here. Printing PASSED,
  exiting early, objects whose __eq__ is always true (not JSON) and reading answers from disk all fail.
- `tests` (HumanEval style `check(candidate)`): the child runs the assertions itself; return values must be
  plain built-in data (no custom __eq__), builtins and the harness are checked for tampering afterwards,
  and a pass is only counted when the child reports a per-job secret through a private pipe after
  `check` returns. A candidate that deliberately searches the child's memory for that secret could forge
  it; the `cases` style has no such secret.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import select
import shutil
import subprocess
import sys
from typing import Any

from rlvr_assets.core.answers import Verdict
from rlvr_assets.core.sandbox import SandboxLimits, _kill_group, _limit_child, network_guard
from rlvr_assets.core.tasks import UnitTests

_CODE_BLOCK = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.DOTALL)

WORKER = r"""
import builtins, json, os, resource, select, signal, sys, tempfile, time
# the standard library a solution may import, loaded before privileges are dropped
import math, cmath, re, string, itertools, functools, collections, heapq, bisect, random, statistics
import fractions, decimal, operator, copy, typing, hashlib, datetime, calendar, textwrap, unicodedata, array

PLAIN = (int, float, complex, str, bool, type(None), bytes)
out = os.fdopen(os.dup(1), "w")
devnull = os.open(os.devnull, os.O_RDWR)
os.dup2(devnull, 1)
SAFE = dict(vars(builtins))

def plain(value, depth=0):
    if depth > 50:
        raise TypeError("return value nested too deeply")
    t = type(value)
    if t in PLAIN:
        return value
    if t in (list, tuple, set, frozenset):
        return t(plain(v, depth + 1) for v in value)
    if t is dict:
        return {plain(k, depth + 1): plain(v, depth + 1) for k, v in value.items()}
    raise TypeError(f"return value of type {t.__name__} is not plain data")

def encode(value):
    if isinstance(value, float) and value != value:
        return {"nan": True}
    if isinstance(value, (set, frozenset)):
        return {"set": sorted((encode(v) for v in value), key=repr)}
    if isinstance(value, tuple):
        return {"tuple": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {"dict": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, (bytes, complex)):
        return {"repr": repr(value)}
    return value

def child(job, w):
    cpu = job["cpu"]
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    work = tempfile.mkdtemp(prefix="job-")
    if os.getuid() == 0:
        os.chown(work, 65534, 65534)
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
    resource.setrlimit(resource.RLIMIT_NPROC, (job["nproc"], job["nproc"]))
    os.chdir(work)
    os.dup2(devnull, 0)
    os.dup2(devnull, 2)
    token = job.pop("token", None)
    ns = {"__name__": "candidate", "__builtins__": builtins}
    try:
        exec(compile(job["code"], "candidate.py", "exec"), ns)
        fn = ns[job["entry_point"]]
    except BaseException as exc:
        os.write(w, json.dumps({"error": f"definition failed: {type(exc).__name__}"}).encode())
        return
    if job.get("cases") is not None:
        results = []
        for args, kwargs in job["cases"]:
            try:
                results.append({"value": encode(plain(fn(*args, **kwargs)))})
            except BaseException as exc:
                results.append({"error": type(exc).__name__})
        os.write(w, json.dumps({"results": results}).encode())
        return
    def guarded(*args, **kwargs):
        return plain(fn(*args, **kwargs))
    try:
        tns = {**ns, "__name__": "tests"}  # as in HumanEval, tests see helpers defined beside the solution
        exec(compile(job["tests"], "tests.py", "exec"), tns)
        tns["check"](guarded)
    except BaseException as exc:
        os.write(w, json.dumps({"error": f"tests failed: {type(exc).__name__}"}).encode())
        return
    tampered = [k for k, v in SAFE.items() if vars(builtins).get(k) is not v]
    if tampered:
        os.write(w, json.dumps({"error": f"builtins tampered: {tampered[:5]}"}).encode())
        return
    os.write(w, json.dumps({"passed": token}).encode())

for line in sys.stdin:
    job = json.loads(line)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        out.close()
        try:
            child(job, w)
        finally:
            os._exit(0)
    os.close(w)
    chunks, deadline, timed_out = [], time.monotonic() + job["wall"], False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        ready, _, _ = select.select([r], [], [], left)
        if not ready:
            continue
        data = os.read(r, 65536)
        if not data:
            break
        chunks.append(data)
        if sum(map(len, chunks)) > 4_000_000:
            break
    if timed_out:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(r)
    raw = b"".join(chunks).decode("utf-8", "replace")
    out.write(json.dumps({"id": job["id"], "raw": raw, "timed_out": timed_out, "status": status}) + "\n")
    out.flush()
"""


def extract_code(completion: str) -> str:
    """The last fenced Python block of a completion, or the whole completion when it has none."""
    blocks = _CODE_BLOCK.findall(completion)
    return blocks[-1] if blocks else completion


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if "tuple" in value:
            return tuple(_decode(v) for v in value["tuple"])
        if "set" in value:
            return {"set": value["set"]}
        if "dict" in value:
            return {_freeze(_decode(k)): _decode(v) for k, v in value["dict"]}
        if "nan" in value:
            return float("nan")
        return value
    return value


def _freeze(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _equal(got: Any, expected: Any) -> bool:
    if isinstance(expected, float) or isinstance(got, float):
        try:
            return math.isclose(float(got), float(expected), rel_tol=1e-9, abs_tol=1e-9)
        except (TypeError, ValueError):
            return False
    if isinstance(expected, list | tuple) and isinstance(got, list | tuple):
        return len(got) == len(expected) and all(_equal(g, e) for g, e in zip(got, expected, strict=True))
    if isinstance(expected, dict) and isinstance(got, dict):
        return got.keys() == expected.keys() and all(_equal(got[k], expected[k]) for k in expected)
    return type(got) is type(expected) and got == expected


class CodeSandbox:
    """A pool of one sandboxed worker; verifications run one at a time, each in a fresh forked child."""

    def __init__(self, limits: SandboxLimits | None = None) -> None:
        self.limits = limits or SandboxLimits(wall_seconds=3.0, cpu_seconds=3, memory_mb=1024, max_processes=8)
        self._proc: subprocess.Popen[str] | None = None
        self.guard = network_guard()

    def _start(self) -> subprocess.Popen[str]:
        argv = [sys.executable, "-I", "-B", "-c", WORKER]
        if self.guard.startswith("unshare-net"):
            flags = ["--net"] if self.guard == "unshare-net" else ["--net", "--map-root-user"]
            argv = [shutil.which("unshare") or "unshare", *flags, *argv]
        worker_limits = SandboxLimits(
            wall_seconds=self.limits.wall_seconds,
            cpu_seconds=10**6,  # the worker lives long; each child lowers its own CPU limit
            memory_mb=self.limits.memory_mb,
            file_size_mb=self.limits.file_size_mb,
            max_processes=10**5,
        )
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0", "TMPDIR": "/tmp"}
        return subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd="/tmp",
            preexec_fn=lambda: _limit_child(worker_limits),
        )

    def close(self) -> None:
        if self._proc is not None:
            _kill_group(self._proc.pid)
            self._proc.wait()
            self._proc = None

    def __enter__(self) -> CodeSandbox:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _run(self, job: dict[str, Any]) -> dict[str, Any] | None:
        for _attempt in range(2):
            if self._proc is None or self._proc.poll() is not None:
                self._proc = self._start()
            assert self._proc.stdin is not None and self._proc.stdout is not None
            try:
                self._proc.stdin.write(json.dumps(job) + "\n")
                self._proc.stdin.flush()
                ready, _, _ = select.select([self._proc.stdout], [], [], self.limits.wall_seconds + 5)
                line = self._proc.stdout.readline() if ready else ""
            except (BrokenPipeError, OSError):
                line = ""
            if line:
                return json.loads(line)
            self.close()  # the worker died or hung (e.g. a memory limit hit the worker): restart it
        return None

    def check(self, completion: str, spec: UnitTests) -> Verdict:
        code = extract_code(completion)
        if not code.strip():
            return Verdict(0.0, "no code in completion")
        if spec.prelude:
            code = f"{spec.prelude}\n\n{code}"
        token = secrets.token_hex(16)
        job: dict[str, Any] = {
            "id": token[:8],
            "code": code,
            "entry_point": spec.entry_point,
            "cpu": self.limits.cpu_seconds,
            "wall": self.limits.wall_seconds,
            "nproc": self.limits.max_processes,
        }
        if spec.cases is not None:
            job["cases"] = [[c.args, c.kwargs] for c in spec.cases]
        else:
            job["tests"], job["token"] = spec.tests, token
        reply = self._run(job)
        if reply is None:
            return Verdict(0.0, "sandbox worker failed")
        if reply["timed_out"]:
            return Verdict(0.0, f"timed out after {self.limits.wall_seconds}s")
        try:
            result = json.loads(reply["raw"]) if reply["raw"] else {}
        except json.JSONDecodeError:
            return Verdict(0.0, "malformed result from sandbox")
        if "error" in result:
            return Verdict(0.0, str(result["error"]))
        if spec.cases is not None:
            return _score_cases(result.get("results"), spec)
        if result.get("passed") == token:
            return Verdict(1.0, "all tests passed")
        return Verdict(0.0, "no verdict (crashed, exited early, or was killed)")


def _score_cases(results: Any, spec: UnitTests) -> Verdict:
    assert spec.cases is not None
    if not isinstance(results, list) or len(results) != len(spec.cases):
        return Verdict(0.0, "no results (crashed, exited early, or was killed)")
    for i, (case, got) in enumerate(zip(spec.cases, results, strict=True)):
        if not isinstance(got, dict) or "value" not in got:
            error = got.get("error", "no value") if isinstance(got, dict) else "no value"
            return Verdict(0.0, f"case {i} raised {error}")
        if not _equal(_decode(got["value"]), case.expected):
            return Verdict(0.0, f"case {i} returned a wrong value")
    return Verdict(1.0, f"all {len(spec.cases)} cases passed")


def check_code(completion: str, spec: UnitTests, sandbox: CodeSandbox | None = None) -> Verdict:
    """Verify one completion (opens and closes a worker unless one is passed in)."""
    if sandbox is not None:
        return sandbox.check(completion, spec)
    with CodeSandbox() as box:
        return box.check(completion, spec)
