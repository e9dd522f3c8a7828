"""Sandboxed unit-test verification of generated code, fast enough to sit inside a GRPO reward.

One sandboxed worker process (`code_worker.py`, run as a script: its own process group, network and PID
namespaces where available, memory and file-size limits) imports the standard library once, then forks
fresh processes for every verification; the next verification's processes are forked and confined while
the current one runs, so forking stays off the critical path. The candidate always runs in a process of its
own, confined before any of its code runs: its own process group, stdin/stdout/stderr on /dev/null, every
other file descriptor closed except its own pipe ends, CPU and process-count limits, chrooted into an empty
per-job directory (so neither the seed files, the benchmark data nor anything else on disk can be read, and
only preloaded modules can be imported) and dropped to an unprivileged uid of its job's own (60001..60999 in
turn). A process it leaves behind (forked, then out of the job's process group with setsid) can signal only
processes of that uid, so no other job's, and it is killed with every other process of the uid when the job
is discarded; closing the sandbox kills whatever is left in its PID namespace. Where chroot or the privilege
drop is impossible (the worker is not root), it runs without them and `CodeSandbox.guard` says which guards
are active, e.g. "unshare-net+pid+chroot+uid-per-job" here, "unshare-net" without them.

Two test styles:
- `cases` (the project's seeds): the candidate process only evaluates the function on each input and
  returns the values as JSON; the expected outputs never enter the sandbox and are compared here.
- `tests` (HumanEval style `check(candidate)`): two processes per job. A harness process (dropped to the
  job's uid too, and non-dumpable, so the same-user candidate cannot ptrace it) execs the trusted prelude
  and the tests and hands `check` a proxy that sends the arguments over a pipe to the candidate process and
  decodes its JSON reply into fresh built-in data (tuples, sets, dicts and nan preserved); a candidate
  exception comes back as an exception, a dead candidate fails the tests. Only the harness holds the pipe
  that carries the verdict to the worker, and the tests go from the worker's input pipe straight into the
  harness: they are never in the worker's memory, so never in the candidate's. The tests see the
  prelude's names, then the entry point and the candidate's other top-level functions as proxies (never
  shadowing a builtin or a prelude name), then their own definitions. While they take turns, harness and
  candidate are pinned to one CPU for the first 50 ms (a same-CPU wakeup is several times faster).

Exiting early, printing PASSED, objects whose __eq__ is always true, patching builtins or the harness,
shadowing builtins the tests use, forging a verdict and reading answers from disk all score 0, and killing
later jobs' processes cannot make them score 0. The worker kills both processes at the wall deadline; a crash
of either is reward 0 with the reason.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import select
import signal
import subprocess
import sys
from typing import TYPE_CHECKING, Any

from rlvr_assets.core.kernel.markers import fenced_blocks
from rlvr_assets.core.kernel.verdict import Verdict
from rlvr_assets.core.sandbox.process import (
    CODE_WORKER,
    SandboxLimits,
    _kill_group,
    namespace_flags,
    network_guard,
    spawn_worker,
)

if TYPE_CHECKING:
    from rlvr_assets.core.domains.code.spec import UnitTests

_WORKER = CODE_WORKER  # run as a script, never imported


def extract_code(completion: str) -> str:
    """The last fenced Python block of a completion, or the whole completion when it has none."""
    blocks = fenced_blocks(completion, ("python", "py"))  # linear: no backtracking regex (markers.py)
    return blocks[-1] if blocks else completion


def _decode(value: Any) -> Any:
    """The worker's encoding of a `cases` result -> JSON-comparable values (sets stay tagged: no JSON equal)."""
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if "tuple" in value:
            return tuple(_decode(v) for v in value["tuple"])
        if "set" in value or "frozenset" in value:
            return {"set": value.get("set", value.get("frozenset"))}
        if "dict" in value:
            return {_freeze(_decode(k)): _decode(v) for k, v in value["dict"]}
        if "nan" in value:
            return float("nan")
        return value
    return value


def _freeze(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)  # a bool is not a number here; nor a str that reads as one


def _equal(got: Any, expected: Any) -> bool:
    """Exact type rules: a bool equals only a bool, a str only an equal str, a number only a number (the float
    tolerance, rel 1e-9, applies only when both are numbers and one is a float), a list or tuple an equal
    sequence, a dict a dict with the same keys. "2.5" is not 2.5, and 2.5 is not "2.50"."""
    if isinstance(expected, bool) or isinstance(got, bool):  # True is not 1.0: booleans compare as booleans
        return type(got) is bool and type(expected) is bool and got == expected
    if _is_number(expected) or _is_number(got):
        if not (_is_number(expected) and _is_number(got)):
            return False
        if type(expected) is int and type(got) is int:
            return got == expected
        try:
            return math.isclose(float(got), float(expected), rel_tol=1e-9, abs_tol=1e-9)
        except OverflowError:  # an int beyond float range is no float's neighbour
            return False
    if isinstance(expected, list | tuple) and isinstance(got, list | tuple):
        return len(got) == len(expected) and all(_equal(g, e) for g, e in zip(got, expected, strict=True))
    if isinstance(expected, dict) and isinstance(got, dict):
        return got.keys() == expected.keys() and all(_equal(got[k], expected[k]) for k in expected)
    return type(got) is type(expected) and got == expected


def _frame(message: dict[str, Any]) -> bytes:
    data = json.dumps(message).encode()
    return b"%d\n%s" % (len(data), data)


class CodeSandbox:
    """A pool of one sandboxed worker; verifications run one at a time, each in freshly forked processes."""

    def __init__(self, limits: SandboxLimits | None = None) -> None:
        self.limits = limits or SandboxLimits(wall_seconds=3.0, cpu_seconds=3, memory_mb=1024, max_processes=8)
        self._proc: subprocess.Popen[bytes] | None = None
        self._isolation: dict[str, Any] = {}
        self._ids = itertools.count()

    @property
    def guard(self) -> str:
        """The guards candidate code runs under here, e.g. 'unshare-net+pid+chroot+uid-per-job' (starts it)."""
        self._ensure_worker()
        parts = [] if network_guard() == "none" else [network_guard()]
        if namespace_flags()[1]:
            parts.append("pid" if parts else "unshare-pid")
        if self._isolation.get("chroot"):
            # chrooted root could chroot again and walk out: only a chroot without privileges is a guard
            parts.append("chroot" if self._isolation.get("uid") else "chroot-as-root")
        if self._isolation.get("uid"):
            parts.append("uid-per-job")
        if self._isolation.get("disk") == "tmpfs":
            parts.append("tmpfs-per-job")  # a bounded disk of its own, freed whole at the job's end
        elif self._isolation.get("disk") == "none":
            parts.append("no-disk")
        return "+".join(parts) or "none"

    def _start(self) -> subprocess.Popen[bytes]:
        return spawn_worker([sys.executable, "-I", "-B", str(_WORKER)], self.limits)

    def _ensure_worker(self) -> bool:
        """Start the worker unless it is running; it first reports which guards its job processes get."""
        if self._proc is not None and self._proc.poll() is None:
            return True
        self.close(graceful=False)
        self._proc = self._start()
        assert self._proc.stdout is not None
        ready, _, _ = select.select([self._proc.stdout], [], [], 30)
        try:
            self._isolation = json.loads(self._proc.stdout.readline()) if ready else {}
        except json.JSONDecodeError:
            self._isolation = {}
        if not self._isolation:
            self.close(graceful=False)
            return False
        return True

    def close(self, graceful: bool = True) -> None:
        """Stop the worker; gracefully it first reaps its job processes, kills every process of their uids and
        removes their directories. In a PID namespace of its own, nothing it started outlives it."""
        if self._proc is not None:
            if graceful and self._proc.stdin is not None:
                with contextlib.suppress(OSError):
                    self._proc.stdin.close()  # end of input: the worker cleans up and exits
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(timeout=2)
            _kill_group(self._proc.pid)
            self._proc.wait()
            self._proc = None

    def __enter__(self) -> CodeSandbox:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _run(self, job: dict[str, Any], tests: dict[str, Any] | None) -> dict[str, Any] | None:
        message = _frame(job) + (_frame(tests) if tests is not None else b"")
        for _attempt in range(2):
            if not self._ensure_worker():
                continue
            assert self._proc is not None and self._proc.stdin is not None and self._proc.stdout is not None
            try:
                self._proc.stdin.write(message)
                self._proc.stdin.flush()
                ready, _, _ = select.select([self._proc.stdout], [], [], self.limits.wall_seconds + 5)
                line = self._proc.stdout.readline() if ready else b""
                reply = json.loads(line) if line else None
            except (OSError, ValueError):
                reply = None
            if isinstance(reply, dict) and reply.get("id") == job["id"]:
                return reply
            self.close(graceful=False)  # the worker died or hung (e.g. a memory limit hit it): restart it
        return None

    def _job(self, code: str, spec: UnitTests) -> tuple[dict[str, Any], dict[str, Any] | None]:
        job: dict[str, Any] = {
            "id": next(self._ids),
            "code": code,
            "entry_point": spec.entry_point,
            "cpu": self.limits.cpu_seconds,
            "wall": self.limits.wall_seconds,
            "nproc": self.limits.max_processes,
        }
        if spec.cases is not None:
            job["cases"] = [[c.args, c.kwargs] for c in spec.cases]
            return job, None
        return job, {"prelude": spec.prelude or "", "tests": spec.tests}

    @staticmethod
    def _result(reply: dict[str, Any]) -> dict[str, Any]:
        try:
            result = json.loads(reply["raw"]) if reply["raw"] else {}
        except (ValueError, RecursionError):  # not JSON, an int too long to read, nesting too deep
            result = {"error": "malformed result from sandbox (not JSON, a number too long or nesting too deep)"}
        return result if isinstance(result, dict) else {"error": "malformed result from sandbox"}

    def evaluate(self, completion: str, spec: UnitTests) -> tuple[list[Any], str | None]:
        """The values the completion's entry point returns on each of `spec.cases` (`None` where a case raised),
        computed in the sandbox like a `cases` check; or [] and why there are none."""
        assert spec.cases is not None
        reply = self._run(*self._job(extract_code(completion), spec))
        if reply is None:
            return [], "sandbox worker failed"
        if reply["timed_out"]:
            return [], f"timed out after {self.limits.wall_seconds}s"
        result = self._result(reply)
        results = result.get("results")
        if "error" in result or not isinstance(results, list) or len(results) != len(spec.cases):
            return [], str(result.get("error", "no results (crashed, exited early, or was killed)"))[:300]
        try:
            return [_decode(r["value"]) if isinstance(r, dict) and "value" in r else None for r in results], None
        except (TypeError, ValueError, RecursionError):
            return [], "malformed result from sandbox"

    def check(self, completion: str, spec: UnitTests) -> Verdict:
        code = extract_code(completion)
        if not code.strip():
            return Verdict(0.0, "no code in completion")
        if spec.prelude:
            code = f"{spec.prelude}\n\n{code}"
        reply = self._run(*self._job(code, spec))
        if reply is None:
            return Verdict(0.0, "sandbox worker failed")
        if reply["timed_out"]:
            return Verdict(0.0, f"timed out after {self.limits.wall_seconds}s")
        result = self._result(reply)
        if spec.cases is None and result.get("passed") is True:
            return Verdict(1.0, "all tests passed")
        if spec.cases is not None and "error" not in result:
            try:
                verdict = _score_cases(result.get("results"), spec)
            except Exception:  # whatever the candidate process wrote, it cannot crash the verifier
                verdict = Verdict(0.0, "malformed result from sandbox")
            if verdict.reward == 1.0:
                return verdict
        else:
            verdict = Verdict(0.0, str(result.get("error", "no verdict (crashed, exited early, or was killed)")))
        if signal.SIGXCPU in (reply.get("signals") or {}).values():
            return Verdict(0.0, f"timed out: CPU limit of {self.limits.cpu_seconds}s")
        return verdict


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
