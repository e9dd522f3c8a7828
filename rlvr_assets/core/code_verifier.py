"""Sandboxed unit-test verification of generated code, fast enough to sit inside a GRPO reward.

One sandboxed worker process (its own process group, network namespace where available, memory and
file-size limits) imports the standard library once, then forks fresh processes for every verification;
the next verification's processes are forked and confined while the current one runs, so forking stays
off the critical path. The candidate always runs in a process of its own, confined before any of its code
runs: its own process group, stdin/stdout/stderr on /dev/null, every other file descriptor closed except
its own pipe ends, CPU and process-count limits, chrooted into an empty per-job directory (so neither the
seed files, the benchmark data nor anything else on disk can be read, and only preloaded modules can be
imported) and dropped to the unprivileged `nobody` user. Where chroot or the privilege drop is impossible
(the worker is not root), it runs without them and `CodeSandbox.guard` says which guards are active, e.g.
"unshare-net+chroot+nobody" here, "unshare-net" without them.

Two test styles:
- `cases` (the project's seeds): the candidate process only evaluates the function on each input and
  returns the values as JSON; the expected outputs never enter the sandbox and are compared here.
- `tests` (HumanEval style `check(candidate)`): two processes per job. A harness process (dropped to
  nobody too, and non-dumpable, so the same-user candidate cannot ptrace it) execs the trusted prelude and
  the tests and hands `check` a proxy that sends the arguments over a pipe to the candidate process and
  decodes its JSON reply into fresh built-in data (tuples, sets, dicts and nan preserved); a candidate
  exception comes back as an exception, a dead candidate fails the tests. Only the harness holds the pipe
  that carries the verdict to the worker, and the tests go from the worker's input pipe straight into the
  harness: they are never in the worker's memory, so never in the candidate's. The tests see the
  prelude's names, then the entry point and the candidate's other top-level functions as proxies (never
  shadowing a builtin or a prelude name), then their own definitions. While they take turns, harness and
  candidate are pinned to one CPU for the first 50 ms (a same-CPU wakeup is several times faster).

Exiting early, printing PASSED, objects whose __eq__ is always true, patching builtins or the harness,
shadowing builtins the tests use, forging a verdict and reading answers from disk all score 0. The worker
kills both processes at the wall deadline; a crash of either is reward 0 with the reason.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import re
import select
import shutil
import signal
import subprocess
import sys
from typing import Any

from rlvr_assets.core.answers import Verdict
from rlvr_assets.core.sandbox import SandboxLimits, _kill_group, _limit_child, network_guard
from rlvr_assets.core.tasks import UnitTests

_CODE_BLOCK = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.DOTALL)

WORKER = r"""
import builtins, json, os, resource, select, shutil, signal, sys, tempfile, time
# the standard library a solution or its tests may import, loaded before any candidate is chrooted
import math, cmath, re, string, itertools, functools, collections, collections.abc, heapq, bisect, random
import statistics, fractions, decimal, operator, copy, typing, hashlib, datetime, calendar, textwrap, locale
import unicodedata, array, struct, base64, binascii, zlib, enum, dataclasses, numbers, abc, types, io, ast
import contextlib, weakref, keyword, queue, pprint, difflib, _strptime
import encodings.ascii, encodings.latin_1, encodings.utf_16, encodings.utf_32
import gc

NOBODY = 65534
MAX_REPLY = 4_000_000
MAX_FD = os.sysconf("SC_OPEN_MAX")
devnull = os.open(os.devnull, os.O_RDWR)
out = os.fdopen(os.dup(1), "w")
os.dup2(devnull, 1)


def encode(value, depth=0):
    # plain built-in data -> JSON; subclasses and other objects are refused
    if depth > 100:
        raise TypeError("value nested too deeply")
    t = type(value)
    if t is float:
        return {"nan": True} if value != value else value
    if t in (int, str, bool) or value is None:
        return value
    if t is list:
        return [encode(v, depth + 1) for v in value]
    if t is tuple:
        return {"tuple": [encode(v, depth + 1) for v in value]}
    if t in (set, frozenset):
        return {t.__name__: sorted((encode(v, depth + 1) for v in value), key=repr)}
    if t is dict:
        return {"dict": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    if t is bytes:
        return {"bytes": value.hex()}
    if t is complex:
        return {"complex": [encode(value.real), encode(value.imag)]}
    raise TypeError(f"value of type {t.__name__} is not plain data")


def decode(value, depth=0):
    # JSON from encode() -> fresh built-in data
    if depth > 100:
        raise TypeError("value nested too deeply")
    t = type(value)
    if t is list:
        return [decode(v, depth + 1) for v in value]
    if t is dict:
        ((tag, body),) = value.items()
        if tag == "tuple":
            return tuple(decode(v, depth + 1) for v in body)
        if tag == "set":
            return {decode(v, depth + 1) for v in body}
        if tag == "frozenset":
            return frozenset(decode(v, depth + 1) for v in body)
        if tag == "dict":
            return {decode(k, depth + 1): decode(v, depth + 1) for k, v in body}
        if tag == "nan":
            return float("nan")
        if tag == "bytes":
            return bytes.fromhex(body)
        if tag == "complex":
            return complex(float(body[0]), float(body[1]))
        raise TypeError(f"unknown tag {tag!r}")
    if t in (int, float, str, bool) or value is None:
        return value
    raise TypeError(f"cannot decode {t.__name__}")


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def read_message(fd):
    # one length-prefixed JSON message, read exactly (never past its end); None at EOF
    header = b""
    while not header.endswith(b"\n"):
        byte = os.read(fd, 1)
        if not byte or len(header) > 20:
            return None
        header += byte
    left, chunks = int(header), []
    while left:
        data = os.read(fd, min(left, 1 << 20))
        if not data:
            return None
        chunks.append(data)
        left -= len(data)
    return json.loads(b"".join(chunks))


def close_except(keep):
    low = 3
    for fd in sorted(keep):
        if fd >= low:
            os.closerange(low, fd)
            low = fd + 1
    os.closerange(low, MAX_FD)


def probe():
    # which guards a job process can apply here: (chroot, drop to nobody); both need root
    if os.geteuid() != 0:
        return False, False
    work = tempfile.mkdtemp(prefix="rlvr-probe-")
    try:
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                os.chroot(work)
                os.chdir("/")
                code |= 1
            except OSError:
                pass
            try:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
                code |= 2
            except OSError:
                pass
            os._exit(code)
        _, status = os.waitpid(pid, 0)
    finally:
        os.rmdir(work)
    code = max(os.waitstatus_to_exitcode(status), 0)
    return bool(code & 1), bool(code & 2)


CHROOT, DROP = probe()
try:
    with open("/proc/sys/fs/suid_dumpable") as f:
        SUID_DUMPABLE = f.read().strip()
except OSError:
    SUID_DUMPABLE = None
gc.collect()
gc.freeze()  # forked job processes never walk (and so never copy) the preloaded objects
out.write(json.dumps({"chroot": CHROOT, "nobody": DROP}) + "\n")
out.flush()


def limit_cpu(job):
    resource.setrlimit(resource.RLIMIT_CPU, (job["cpu"], job["cpu"] + 1))  # SIGXCPU first, SIGKILL 1 s later


def drop_privileges():
    if DROP:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)


def limit_processes(job):
    resource.setrlimit(resource.RLIMIT_NPROC, (job["nproc"], job["nproc"]))


def define(job):
    ns = {"__name__": "candidate", "__builtins__": builtins}
    exec(compile(job["code"], "candidate.py", "exec"), ns)
    ns[job["entry_point"]]
    return ns


def candidate_child(work, ctl_r, out_w, req_r, resp_w):
    # Forked ahead of its job and confined at once: own process group, stdio to /dev/null, only its pipe
    # ends open, chrooted into the empty `work`, dropped to nobody. Then it waits for the job (from the
    # worker on ctl_r): `cases` results go to the worker on out_w; in `tests` mode it serves the harness
    # [name, args, kwargs] -> {"value": encoded} or {"error": ExcName}, one JSON line each.
    setup_error = None
    try:
        os.setpgid(0, 0)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        close_except({ctl_r, out_w, req_r, resp_w})
        if CHROOT:
            os.chroot(work)
            os.chdir("/")
        else:
            os.chdir(work)
        drop_privileges()
    except BaseException as exc:
        setup_error = f"sandbox setup failed: {type(exc).__name__}"
    job = read_message(ctl_r)
    if job is None:
        return
    os.close(ctl_r)
    cases = job.get("cases")
    if cases is not None:
        os.close(req_r)
        os.close(resp_w)
        w = out_w
    else:
        os.close(out_w)
        w = resp_w

    def send(msg):
        write_all(w, (json.dumps(msg) + "\n").encode())

    try:
        limit_cpu(job)
        limit_processes(job)
    except BaseException as exc:
        setup_error = setup_error or f"sandbox setup failed: {type(exc).__name__}"
    if setup_error:
        return send({"error": setup_error})
    if cases is None:
        requests = os.fdopen(req_r, "rb")
        if requests.readline() != b"go\n":  # the harness is non-dumpable before any candidate code runs
            return
    try:
        ns = define(job)
    except BaseException as exc:
        return send({"error": f"definition failed: {type(exc).__name__}"})
    if cases is not None:
        fn, results = ns[job["entry_point"]], []
        for args, kwargs in cases:
            try:
                results.append({"value": encode(fn(*args, **kwargs))})
            except BaseException as exc:
                results.append({"error": type(exc).__name__})
        return send({"results": results})
    functions = {k: v for k, v in ns.items() if type(k) is str and callable(v) and not isinstance(v, type)}
    send({"ready": sorted(functions)[:1000]})
    for line in requests:
        try:
            name, args, kwargs = json.loads(line)
            reply = {"value": encode(functions[name](*decode(args), **decode(kwargs)))}
            data = (json.dumps(reply) + "\n").encode()
        except BaseException as exc:
            data = (json.dumps({"error": type(exc).__name__}) + "\n").encode()
        write_all(resp_w, data)


class CandidateError(Exception):
    pass


class CandidateDied(BaseException):
    # the candidate process is gone (exited, crashed or killed); no test can catch this
    pass


def exception_from(name):
    cls = getattr(builtins, name, None) if type(name) is str else None
    stop = (StopIteration, StopAsyncIteration)  # would silently end a test's loop over candidate calls
    if isinstance(cls, type) and issubclass(cls, Exception) and not issubclass(cls, stop):
        return cls("raised by the candidate")
    return CandidateError(str(name)[:100])


def libc_or_none():
    # imported before privileges are dropped: nobody may not be able to read the standard library
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True)
    except Exception:
        return None


def harness_child(hctl_r, req_w, resp_r, verdict_w):
    # Forked ahead of its job (or at it) and set up at once: stdout/stderr to /dev/null, only its pipe ends
    # and the worker's input open, dropped to nobody, non-dumpable. Then it waits for the job (from the
    # worker on hctl_r), takes the tests off the worker's input, and only then lets the candidate start.
    def verdict(msg):
        write_all(verdict_w, (json.dumps(msg) + "\n").encode())

    setup_error = None
    try:
        for fd in (1, 2):
            os.dup2(devnull, fd)
        close_except({devnull, hctl_r, req_w, resp_r, verdict_w})
        os.chdir("/")
        # changing uid makes a process non-dumpable when fs.suid_dumpable is 0; otherwise ask for it
        libc = None if DROP and SUID_DUMPABLE == "0" else libc_or_none()
        drop_privileges()
        if libc is not None:
            libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0: a same-user candidate cannot ptrace the harness
    except BaseException as exc:
        setup_error = f"harness setup failed: {type(exc).__name__}"
    job = read_message(hctl_r)
    if job is None:
        return
    payload = read_message(0)  # the tests come straight from the worker's input pipe
    if payload is None:
        return
    write_all(verdict_w, b"R")  # tells the worker its input is in step again
    try:
        os.dup2(devnull, 0)
        limit_cpu(job)
        limit_processes(job)
        if setup_error:
            return verdict({"error": setup_error})
        requests, replies = os.fdopen(req_w, "wb"), os.fdopen(resp_r, "rb")
        requests.write(b"go\n")
        requests.flush()
    except BaseException as exc:
        return verdict({"error": f"harness setup failed: {type(exc).__name__}"})

    def send(msg):
        try:
            requests.write((json.dumps(msg) + "\n").encode())
            requests.flush()
        except BrokenPipeError:
            raise CandidateDied() from None

    def receive():
        line = replies.readline()
        if not line:
            raise CandidateDied()
        msg = json.loads(line)
        if type(msg) is not dict:
            raise CandidateError("malformed reply")
        return msg

    def proxy(name):
        def call(*args, **kwargs):
            send([name, encode(list(args)), encode(kwargs)])
            reply = receive()
            if "value" in reply:
                return decode(reply["value"])
            raise exception_from(reply.get("error"))

        call.__name__ = call.__qualname__ = name
        return call

    ns = {"__name__": "tests", "__builtins__": builtins}
    try:
        tests = compile(payload["tests"], "tests.py", "exec")
        if payload.get("prelude"):
            exec(compile(payload["prelude"], "prelude.py", "exec"), ns)
    except BaseException as exc:
        return verdict({"error": f"prelude or tests failed to load: {type(exc).__name__}"})
    try:
        ready = receive()
    except BaseException:
        return verdict({"error": "candidate exited before it was defined"})
    names = ready.get("ready")
    if type(names) is not list:
        return verdict({"error": str(ready.get("error", "malformed reply from the candidate"))[:200]})
    entry = ns[job["entry_point"]] = proxy(job["entry_point"])
    for name in names:
        if type(name) is str and name.isidentifier() and not name.startswith("__"):
            if name not in ns and not hasattr(builtins, name):
                ns[name] = proxy(name)
    try:
        exec(tests, ns)
        ns["check"](entry)
    except CandidateDied:
        return verdict({"error": "candidate process died during the tests"})
    except BaseException as exc:
        return verdict({"error": f"tests failed: {type(exc).__name__}"})
    verdict({"passed": True})


def fork(target, *args):
    pid = os.fork()
    if pid == 0:
        try:
            target(*args)
        finally:
            os._exit(0)
    return pid


CPUS = sorted(os.sched_getaffinity(0))
PIN_SECONDS = 0.05


def pin(pids, cpus):
    for pid in pids:
        try:
            os.sched_setaffinity(pid, cpus)
        except OSError:
            pass


def other_cpu():
    # a CPU other than the worker's: the worker goes on to fork the next job's candidate
    if len(CPUS) < 2:
        return None
    try:
        fd = os.open("/proc/self/stat", os.O_RDONLY)
        try:
            current = int(os.read(fd, 4096).rsplit(b")", 1)[1].split()[36])
        finally:
            os.close(fd)
    except (OSError, ValueError, IndexError):
        current = CPUS[0]
    return next((c for c in CPUS if c != current), CPUS[0])


def collect(fd, deadline, pinned=()):
    # read one line (the result) unless EOF, the wall deadline or MAX_REPLY bytes come first:
    # (line, timed_out, complete). `pinned` processes are set free again after PIN_SECONDS.
    chunks, size = [], 0
    unpin_at = time.monotonic() + PIN_SECONDS if pinned else None
    while True:
        now = time.monotonic()
        left = deadline - now
        if left <= 0:
            return b"".join(chunks), True, False
        if unpin_at is not None and now >= unpin_at:
            pin(pinned, CPUS)
            unpin_at = None
        wait = left if unpin_at is None else min(left, unpin_at - now)
        ready, _, _ = select.select([fd], [], [], wait)
        if not ready:
            continue
        data = os.read(fd, 65536)
        if not data:
            return b"".join(chunks), False, False
        chunks.append(data)
        size += len(data)
        if b"\n" in data:
            return b"".join(chunks).split(b"\n")[0], False, True
        if size > MAX_REPLY:
            return b"".join(chunks), False, False


def kill(pid, group):
    if pid is not None:
        for send in (os.killpg, os.kill) if group else (os.kill,):
            try:
                send(pid, signal.SIGKILL)
            except OSError:
                pass


def reap(pid):
    if pid is None:
        return None
    _, status = os.waitpid(pid, 0)
    return os.WTERMSIG(status) if os.WIFSIGNALED(status) else None


replied = False


def respond(job, raw, timed_out, signals):
    global replied
    reply = {"id": job.get("id"), "raw": raw.decode("utf-8", "replace"), "timed_out": timed_out, "signals": signals}
    out.write(json.dumps(reply) + "\n")
    out.flush()
    replied = True


class Spare:
    # A candidate process forked and confined ahead of its job (and, when a `tests` job is expected, its
    # harness too), with the worker's ends of their pipes.
    def __init__(self, with_harness):
        self.pid = self.hpid = None
        self.hctl_w = self.verdict_r = -1
        self.work = tempfile.mkdtemp(prefix="rlvr-job-")
        if DROP:
            os.chown(self.work, NOBODY, NOBODY)
        ctl_r, self.ctl_w = os.pipe()
        self.out_r, out_w = os.pipe()
        req_r, self.req_w = os.pipe()
        self.resp_r, resp_w = os.pipe()
        try:
            self.pid = fork(candidate_child, self.work, ctl_r, out_w, req_r, resp_w)
            try:
                os.setpgid(self.pid, self.pid)  # as the child does: its group exists before either goes on
            except OSError:
                pass
        finally:
            for fd in (ctl_r, out_w, req_r, resp_w):
                os.close(fd)
        if with_harness:
            self.add_harness()

    def add_harness(self):
        hctl_r, self.hctl_w = os.pipe()
        self.verdict_r, verdict_w = os.pipe()
        try:
            self.hpid = fork(harness_child, hctl_r, self.req_w, self.resp_r, verdict_w)
        finally:
            for fd in (hctl_r, verdict_w, self.req_w, self.resp_r):  # the harness holds the pipes it needs
                os.close(fd)
            self.req_w = self.resp_r = -1

    def close_fds(self):
        for name in ("ctl_w", "out_r", "req_w", "resp_r", "hctl_w", "verdict_r"):
            if getattr(self, name) >= 0:
                os.close(getattr(self, name))
                setattr(self, name, -1)

    def alive(self):
        # forked ahead, they could have been killed meanwhile (the last job's candidate runs as nobody too)
        ok = self.pid is not None
        for name in ("pid", "hpid"):
            pid = getattr(self, name)
            if pid is not None:
                try:
                    gone = os.waitpid(pid, os.WNOHANG)[0] != 0
                except ChildProcessError:
                    gone = True
                if gone:
                    setattr(self, name, None)  # reaped: never signal that pid again
                    ok = False
        return ok

    def kill(self):
        kill(self.pid, True)
        kill(self.hpid, False)

    def discard(self):
        self.kill()
        signals = {"candidate": reap(self.pid), "harness": reap(self.hpid)}
        self.pid = self.hpid = None
        self.close_fds()
        shutil.rmtree(self.work, ignore_errors=True)
        return signals


graveyard = []


def bury():
    # reap killed job processes and remove their directories (done while the next job runs)
    while graveyard:
        graveyard.pop().discard()


def run_job(job, job_procs):
    # returns whether the worker's input is still in step (the harness took the tests off it)
    global spare
    tests = job.get("cases") is None
    raw, timed_out, in_step, done = b"", False, not tests, False
    try:
        deadline = time.monotonic() + job["wall"]
        pinned = ()
        if tests:
            if job_procs.hpid is None:
                job_procs.add_harness()
            result_r, job_procs.verdict_r = job_procs.verdict_r, -1
            # harness and candidate take turns: on one CPU each call is a fast same-CPU wakeup (~5 us, not
            # ~40 us across CPUs); after PIN_SECONDS they are set free so long jobs can spread again
            cpu = other_cpu()
            if cpu is not None:
                pinned = (job_procs.pid, job_procs.hpid)
                pin(pinned, {cpu})
        else:
            kill(job_procs.hpid, False)  # a harness forked ahead for a `tests` job is not needed
            result_r, job_procs.out_r = job_procs.out_r, -1
        message = frame(job)
        for fd in (job_procs.hctl_w, job_procs.ctl_w) if tests else (job_procs.ctl_w,):
            try:
                write_all(fd, message)
            except OSError:
                pass  # it died: no result
        job_procs.close_fds()
        spare = Spare(with_harness=tests)  # the next job's processes are forked, and the last job's reaped,
        bury()  # while this one runs
        raw, timed_out, done = collect(result_r, deadline, pinned)
        os.close(result_r)
        if tests:
            in_step = raw.startswith(b"R")
            raw = raw[1:]
            done = raw == b'{"passed": true}'
    except BaseException:
        graveyard.append(job_procs)
        raise
    finally:
        job_procs.kill()
    if done and in_step:  # how the processes ended cannot change this result: reply before reaping them
        respond(job, raw, timed_out, {})
        graveyard.append(job_procs)
    else:
        respond(job, raw, timed_out, job_procs.discard())
    return in_step


def frame(message):
    data = json.dumps(message).encode()
    return b"%d\n%s" % (len(data), data)


spare = None
while True:
    if spare is None:
        spare = Spare(with_harness=True)
    job = read_message(0)
    if job is None:
        break
    replied = False
    job_procs, spare = spare, None
    if not job_procs.alive():
        graveyard.append(job_procs)
        job_procs = Spare(with_harness=job.get("cases") is None)
    try:
        in_step = run_job(job, job_procs)
    except Exception as exc:
        in_step = False
        if not replied:
            respond(job, json.dumps({"error": f"sandbox error: {type(exc).__name__}"}).encode(), False, {})
    if not in_step:  # tests the harness never read may still be in the input: start afresh
        break
if spare is not None:
    spare.discard()
bury()
"""


def extract_code(completion: str) -> str:
    """The last fenced Python block of a completion, or the whole completion when it has none."""
    blocks = _CODE_BLOCK.findall(completion)
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


def _frame(message: dict[str, Any]) -> bytes:
    data = json.dumps(message).encode()
    return b"%d\n%s" % (len(data), data)


class CodeSandbox:
    """A pool of one sandboxed worker; verifications run one at a time, each in freshly forked processes."""

    def __init__(self, limits: SandboxLimits | None = None) -> None:
        self.limits = limits or SandboxLimits(wall_seconds=3.0, cpu_seconds=3, memory_mb=1024, max_processes=8)
        self._proc: subprocess.Popen[bytes] | None = None
        self._isolation: dict[str, bool] = {}
        self._ids = itertools.count()

    @property
    def guard(self) -> str:
        """The guards candidate code runs under here, e.g. 'unshare-net+chroot+nobody' (starts the worker)."""
        self._ensure_worker()
        parts = [] if network_guard() == "none" else [network_guard()]
        if self._isolation.get("chroot"):
            # chrooted root could chroot again and walk out: only a chroot without privileges is a guard
            parts.append("chroot" if self._isolation.get("nobody") else "chroot-as-root")
        if self._isolation.get("nobody"):
            parts.append("nobody")
        return "+".join(parts) or "none"

    def _start(self) -> subprocess.Popen[bytes]:
        argv = [sys.executable, "-I", "-B", "-c", WORKER]
        net = network_guard()
        if net.startswith("unshare-net"):
            flags = ["--net"] if net == "unshare-net" else ["--net", "--map-root-user"]
            argv = [shutil.which("unshare") or "unshare", *flags, *argv]
        worker_limits = SandboxLimits(
            wall_seconds=self.limits.wall_seconds,
            cpu_seconds=10**6,  # the worker lives long; each job process lowers its own CPU limit
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
            env=env,
            cwd="/tmp",
            preexec_fn=lambda: _limit_child(worker_limits),
        )

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
        """Stop the worker; gracefully it first removes its job directories and reaps its job processes."""
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

    def check(self, completion: str, spec: UnitTests) -> Verdict:
        code = extract_code(completion)
        if not code.strip():
            return Verdict(0.0, "no code in completion")
        if spec.prelude:
            code = f"{spec.prelude}\n\n{code}"
        job: dict[str, Any] = {
            "id": next(self._ids),
            "code": code,
            "entry_point": spec.entry_point,
            "cpu": self.limits.cpu_seconds,
            "wall": self.limits.wall_seconds,
            "nproc": self.limits.max_processes,
        }
        tests = None
        if spec.cases is not None:
            job["cases"] = [[c.args, c.kwargs] for c in spec.cases]
        else:
            tests = {"prelude": spec.prelude or "", "tests": spec.tests}
        reply = self._run(job, tests)
        if reply is None:
            return Verdict(0.0, "sandbox worker failed")
        if reply["timed_out"]:
            return Verdict(0.0, f"timed out after {self.limits.wall_seconds}s")
        try:
            result = json.loads(reply["raw"]) if reply["raw"] else {}
        except json.JSONDecodeError:
            result = {"error": "malformed result from sandbox"}
        if not isinstance(result, dict):
            result = {"error": "malformed result from sandbox"}
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
