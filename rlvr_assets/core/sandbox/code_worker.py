"""The Python job worker of the sandbox (used by `rlvr_assets.core.domains.code.verifier`), run as a script:
`python -I -B code_worker.py`; also the worker kit other sandbox workers import (see `sandbox/process.py`).

It runs isolated (-I), so it imports nothing from rlvr_assets, and the package never imports it. The script
is read once at startup; only the job processes it forks are chrooted, never the worker itself.

Protocol, on stdin/stdout: the worker first writes one JSON line naming the guards its job processes get
({"chroot": bool, "uid": bool}). Then, per job, it reads a length-prefixed JSON job (`frame`) and, for a
`tests` job, the length-prefixed tests right after it (read by the job's harness, never by the worker), and
writes one JSON reply line {"id", "raw", "timed_out", "signals"}. It exits at the end of its input, or when
its input may be out of step (a harness died before it took its tests off the input).

Every job gets a uid of its own (rotating through UID_FIRST..UID_LAST; its candidate and harness share it),
so a process a candidate leaves behind (one that left the job's process group with setsid) can only signal
processes of its own job. When a job is discarded, every process of its uid is killed (`sweep`).

Started as PID 1 of a PID namespace of its own (`unshare --pid --fork`), it forks the real worker and only
reaps orphans; its exit (after the worker's, or when killed) kills every process left in the namespace.
"""

from __future__ import annotations

import builtins
import contextlib
import gc
import importlib
import json
import os
import resource
import select
import signal
import sys
import tempfile
import time
from dataclasses import dataclass

# the standard library a solution or its tests may import, loaded before any candidate is chrooted
PRELOAD = (
    *("math", "cmath", "numbers", "fractions", "decimal", "statistics", "random", "operator", "functools"),
    *("itertools", "collections", "collections.abc", "heapq", "bisect", "array", "queue", "copy", "weakref"),
    *("re", "string", "textwrap", "difflib", "unicodedata", "locale", "pprint", "keyword"),
    *("struct", "base64", "binascii", "zlib", "hashlib", "datetime", "calendar", "_strptime"),
    *("typing", "types", "abc", "enum", "dataclasses", "contextlib", "io", "ast"),
    *("encodings.ascii", "encodings.latin_1", "encodings.utf_16", "encodings.utf_32"),
)

UID_FIRST, UID_LAST = 60001, 60999  # one per job, in turn; never two live jobs with the same uid
SWEEPER_UID = 60000  # the worker's real uid while it sweeps a job's uid: no job process can signal it
MAX_REPLY = 4_000_000
MAX_FD = os.sysconf("SC_OPEN_MAX")
PIN_SECONDS = 0.05
# A job's whole writable disk: a tmpfs of its own (where the worker can mount one in a private mount namespace),
# this big with this many inodes; past them a write fails with ENOSPC. Unmounting it frees everything at once.
JOB_DISK_BYTES = 8 << 20
JOB_INODES = 256
REMOVE_STEPS = 2_000_000  # the most entries one cleanup visits (only without a tmpfs): it always ends
CLONE_NEWNS, MS_NOSUID, MS_NODEV, MS_REC, MS_PRIVATE, MNT_DETACH = 0x20000, 2, 4, 16384, 1 << 18, 2
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True)
class Guards:
    """What job processes can apply here, found at startup, and the worker's /dev/null descriptor."""

    devnull: int
    chroot: bool
    drop: bool  # to a uid of the job's own (needs root, as chroot does)
    suid_dumpable: str | None
    libc: object = None  # for mount(2): set only when job directories are tmpfs mounts (`disk` below)
    disk: str = "shared"  # "tmpfs": a bounded tmpfs per job; "none": nothing writable; "shared": the host's


def private_mounts(libc):
    # A mount namespace of the worker's own, with nothing propagated back to the host: a job's tmpfs is never
    # seen outside, and the kernel frees it when the worker's namespace ends, however the worker ends.
    if libc is None or os.geteuid() != 0:
        return False
    if libc.unshare(CLONE_NEWNS) != 0:
        return False
    return libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) == 0


def mount_job_disk(libc, path, uid):
    opts = f"size={JOB_DISK_BYTES},nr_inodes={JOB_INODES},mode=0700,uid={uid},gid={uid}"
    return libc.mount(b"tmpfs", os.fsencode(path), b"tmpfs", MS_NOSUID | MS_NODEV, opts.encode()) == 0


def remove_tree(path):
    # Remove `path` and all under it, bottom-up and iteratively: one directory descriptor open at a time (the
    # way up is "..", safe once the job's processes are dead), no recursion, no path longer than one name, at
    # most REMOVE_STEPS entries visited. Never raises: a tree 100,000 levels deep is removed like a flat one.
    parent_path, name = os.path.split(os.path.abspath(path))
    try:
        top = os.open(parent_path, DIR_FLAGS)
    except OSError:
        return False
    cur, names, stuck, steps = -1, [], set(), 0
    try:
        try:
            cur = os.open(name, DIR_FLAGS, dir_fd=top)
            names.append(name)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(name, dir_fd=top)
            return True
        while names and steps < REMOVE_STEPS:
            sub = None
            with contextlib.suppress(OSError):
                os.fchmod(cur, 0o700)  # a directory the candidate made unwritable (when it ran as this user)
            try:
                scan = os.open(".", DIR_FLAGS, dir_fd=cur)  # a fresh descriptor: reads from the start
                with os.scandir(scan) as entries:
                    for entry in entries:
                        steps += 1
                        if entry.is_dir(follow_symlinks=False):
                            if (entry.inode(), entry.name) not in stuck:
                                sub = entry.name
                                break
                        else:
                            with contextlib.suppress(OSError):
                                os.unlink(entry.name, dir_fd=cur)
                os.close(scan)
            except OSError:
                pass
            if sub is not None:
                try:
                    down = os.open(sub, DIR_FLAGS, dir_fd=cur)
                except OSError:
                    stuck.add((os.stat(sub, dir_fd=cur, follow_symlinks=False).st_ino, sub))
                    continue
                os.close(cur)
                cur = down
                names.append(sub)
                continue
            done = names.pop()
            up = os.open("..", DIR_FLAGS, dir_fd=cur) if names else -1
            info = os.fstat(cur)
            os.close(cur)
            cur = up
            try:
                os.rmdir(done, dir_fd=cur if names else top)
            except OSError:
                stuck.add((info.st_ino, done))  # not empty (an entry could not go): never entered again
        return not names
    except OSError:
        return False
    finally:
        for fd in (cur, top):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)


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
        view = view[os.write(fd, view) :]


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


def frame(message):
    data = json.dumps(message).encode()
    return b"%d\n%s" % (len(data), data)


def close_except(keep):
    low = 3
    for fd in sorted(keep):
        if fd >= low:
            os.closerange(low, fd)
            low = fd + 1
    os.closerange(low, MAX_FD)


def probe():
    # which guards a job process can apply here: (chroot, drop to a job uid); both need root
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
                os.setgid(UID_FIRST)
                os.setuid(UID_FIRST)
                code |= 2
            except OSError:
                pass
            os._exit(code)
        _, status = os.waitpid(pid, 0)
    finally:
        os.rmdir(work)
    code = max(os.waitstatus_to_exitcode(status), 0)
    return bool(code & 1), bool(code & 2)


def limit_cpu(job):
    resource.setrlimit(resource.RLIMIT_CPU, (job["cpu"], job["cpu"] + 1))  # SIGXCPU first, SIGKILL 1 s later


def drop_privileges(guards, uid):
    if guards.drop:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)


def limit_processes(job):
    resource.setrlimit(resource.RLIMIT_NPROC, (job["nproc"], job["nproc"]))


def define(job):
    ns = {"__name__": "candidate", "__builtins__": builtins}
    exec(compile(job["code"], "candidate.py", "exec"), ns)
    ns[job["entry_point"]]  # a KeyError when the entry point is not defined
    return ns


def candidate_child(guards, uid, work, ctl_r, out_w, req_r, resp_w):
    # Forked ahead of its job and confined at once: own process group, stdio to /dev/null, only its pipe
    # ends open, chrooted into the empty `work`, dropped to the job's uid. Then it waits for the job (from
    # the worker on ctl_r): `cases` results go to the worker on out_w; in `tests` mode it serves the harness
    # [name, args, kwargs] -> {"value": encoded} or {"error": ExcName}, one JSON line each.
    setup_error = None
    try:
        os.setpgid(0, 0)
        for fd in (0, 1, 2):
            os.dup2(guards.devnull, fd)
        close_except({ctl_r, out_w, req_r, resp_w})
        if guards.chroot:
            os.chroot(work)
            os.chdir("/")
        else:
            os.chdir(work)
        drop_privileges(guards, uid)
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
    # imported before privileges are dropped: the job's uid may not be able to read the standard library
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True)
    except Exception:
        return None


def harness_child(guards, uid, hctl_r, req_w, resp_r, verdict_w):
    # Forked ahead of its job (or at it) and set up at once: stdout/stderr to /dev/null, only its pipe ends
    # and the worker's input open, dropped to the job's uid, non-dumpable. Then it waits for the job (from
    # the worker on hctl_r), takes the tests off the worker's input, and only then lets the candidate start.
    def verdict(msg):
        write_all(verdict_w, (json.dumps(msg) + "\n").encode())

    setup_error = None
    try:
        for fd in (1, 2):
            os.dup2(guards.devnull, fd)
        close_except({guards.devnull, hctl_r, req_w, resp_r, verdict_w})
        os.chdir("/")
        # changing uid makes a process non-dumpable when fs.suid_dumpable is 0; otherwise ask for it
        libc = None if guards.drop and guards.suid_dumpable == "0" else libc_or_none()
        drop_privileges(guards, uid)
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
        os.dup2(guards.devnull, 0)
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
        if (
            type(name) is str
            and name.isidentifier()
            and not name.startswith("__")
            and name not in ns
            and not hasattr(builtins, name)
        ):
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


def pin(pids, cpus):
    for pid in pids:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(pid, cpus)


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
            with contextlib.suppress(OSError):
                send(pid, signal.SIGKILL)


def reap(pid):
    if pid is None:
        return None
    _, status = os.waitpid(pid, 0)
    return os.WTERMSIG(status) if os.WIFSIGNALED(status) else None


def sweep(uid):
    # SIGKILL every process of a job's uid, wherever it went (setsid escapes the process-group kill, not this).
    # For the kill the worker takes that uid as its effective uid only: then it may signal exactly the
    # processes of that uid (and of SWEEPER_UID, its real uid meanwhile, which nothing else runs as), and they
    # may not signal it; its saved uid stays root, to return to. No fork: this runs once per job.
    os.setresuid(SWEEPER_UID, uid, 0)
    try:
        for _pass in range(2):  # a second pass for anything forked while the first went through
            os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:  # none (left)
        pass
    finally:
        os.setresuid(0, 0, 0)


class Spare:
    # A candidate process forked and confined ahead of its job (and, when a `tests` job is expected, its
    # harness too), with the worker's ends of their pipes; `uid` is the job's own.
    def __init__(self, guards, uid, with_harness):
        self.guards, self.uid = guards, uid
        self.pid = self.hpid = None
        self.hctl_w = self.verdict_r = -1
        self.work = tempfile.mkdtemp(prefix="rlvr-job-")
        self.mounted = False
        if guards.disk == "tmpfs":
            self.mounted = mount_job_disk(guards.libc, self.work, uid if guards.drop else os.getuid())
        if not self.mounted and guards.disk == "none":
            os.chmod(self.work, 0o555)  # root's and empty: a chrooted job under its own uid can write nothing
        elif not self.mounted and guards.drop:
            os.chown(self.work, uid, uid)
        ctl_r, self.ctl_w = os.pipe()
        self.out_r, out_w = os.pipe()
        req_r, self.req_w = os.pipe()
        self.resp_r, resp_w = os.pipe()
        try:
            self.pid = fork(candidate_child, guards, uid, self.work, ctl_r, out_w, req_r, resp_w)
            with contextlib.suppress(OSError):
                os.setpgid(self.pid, self.pid)  # as the child does: its group exists before either goes on
        finally:
            for fd in (ctl_r, out_w, req_r, resp_w):
                os.close(fd)
        if with_harness:
            self.add_harness()

    def add_harness(self):
        hctl_r, self.hctl_w = os.pipe()
        self.verdict_r, verdict_w = os.pipe()
        try:
            self.hpid = fork(harness_child, self.guards, self.uid, hctl_r, self.req_w, self.resp_r, verdict_w)
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
        # forked ahead, they could have died meanwhile
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
        if self.guards.drop:
            sweep(self.uid)  # whatever the candidate left behind, before its uid is ever handed out again
        self.close_fds()
        if self.mounted:  # the kernel frees the job's files at once, however many or deep they are
            self.mounted = self.guards.libc.umount2(os.fsencode(self.work), MNT_DETACH) != 0
        remove_tree(self.work)
        return signals


class Worker:
    """The job loop: one job at a time, the next job's processes forked while the current one runs."""

    def __init__(self, guards, out):
        self.guards, self.out = guards, out
        self.spare = None
        self.graveyard = []  # killed job processes, reaped and swept while the next job runs
        self.replied = False
        # a random start: two workers without PID namespaces of their own seldom hand out the same uid at once
        self.next_uid = UID_FIRST + int.from_bytes(os.urandom(2), "little") % (UID_LAST - UID_FIRST + 1)

    def new_spare(self, with_harness):
        uid = self.next_uid
        self.next_uid = uid + 1 if uid < UID_LAST else UID_FIRST
        return Spare(self.guards, uid, with_harness)

    def respond(self, job, raw, timed_out, signals):
        reply = {"id": job.get("id"), "raw": raw.decode("utf-8", "replace"), "timed_out": timed_out}
        reply["signals"] = signals
        self.out.write(json.dumps(reply) + "\n")
        self.out.flush()
        self.replied = True

    def bury(self):
        # reap killed job processes, sweep their uids and remove their directories (while the next job runs)
        while self.graveyard:
            self.graveyard.pop().discard()

    def run_job(self, job, job_procs):
        # returns whether the worker's input is still in step (the harness took the tests off it)
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
                with contextlib.suppress(OSError):  # it died: no result
                    write_all(fd, message)
            job_procs.close_fds()
            # the next job's processes are forked, and the last job's reaped, while this one runs
            self.spare = self.new_spare(with_harness=tests)
            self.bury()
            raw, timed_out, done = collect(result_r, deadline, pinned)
            os.close(result_r)
            if tests:
                in_step = raw.startswith(b"R")
                raw = raw[1:]
                done = raw == b'{"passed": true}'
        except BaseException:
            self.graveyard.append(job_procs)
            raise
        finally:
            job_procs.kill()
        if done and in_step:  # how the processes ended cannot change this result: reply before reaping them
            self.respond(job, raw, timed_out, {})
            self.graveyard.append(job_procs)
        else:
            self.respond(job, raw, timed_out, job_procs.discard())
        return in_step

    def serve(self):
        while True:
            if self.spare is None:
                self.spare = self.new_spare(with_harness=True)
            job = read_message(0)
            if job is None:
                break
            self.replied = False
            job_procs, self.spare = self.spare, None
            if not job_procs.alive():
                self.graveyard.append(job_procs)
                job_procs = self.new_spare(with_harness=job.get("cases") is None)
            try:
                in_step = self.run_job(job, job_procs)
            except Exception as exc:
                in_step = False
                if not self.replied:
                    error = json.dumps({"error": f"sandbox error: {type(exc).__name__}"}).encode()
                    self.respond(job, error, False, {})
            if not in_step:  # tests the harness never read may still be in the input: start afresh
                break
        if self.spare is not None:
            self.spare.discard()
        self.bury()


def become_init_if_pid_1():
    # In a PID namespace of its own (`unshare --pid --fork`) the worker starts as its PID 1, which adopts
    # every orphan and whose exit kills every process left in the namespace. Orphans must be reaped (a zombie
    # still counts against its uid's process limit), so PID 1 forks the real worker and only reaps.
    if os.getpid() != 1:
        return
    worker = os.fork()
    if worker == 0:
        return
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    close_except(set())
    while True:
        pid, status = os.wait()
        if pid == worker:
            os._exit(max(os.waitstatus_to_exitcode(status), 0))


def job_disk(chroot, drop):
    # "tmpfs" when a bounded tmpfs can be mounted per job (a private mount namespace, as root), else "none"
    # when jobs are chrooted under uids of their own (an empty root-owned directory: nothing to write to),
    # else "shared": a job runs as this user and can write wherever it can (reported, not hidden)
    libc = libc_or_none()
    if private_mounts(libc):
        work = tempfile.mkdtemp(prefix="rlvr-probe-")
        try:
            if mount_job_disk(libc, work, 0):
                libc.umount2(os.fsencode(work), MNT_DETACH)
                return libc, "tmpfs"
        finally:
            remove_tree(work)
    return None, "none" if chroot and drop else "shared"


def main():
    become_init_if_pid_1()
    for name in PRELOAD:
        importlib.import_module(name)
    devnull = os.open(os.devnull, os.O_RDWR)
    out = os.fdopen(os.dup(1), "w")
    os.dup2(devnull, 1)
    chroot, drop = probe()
    try:
        with open("/proc/sys/fs/suid_dumpable") as f:
            suid_dumpable = f.read().strip()
    except OSError:
        suid_dumpable = None
    libc, disk = job_disk(chroot, drop)
    guards = Guards(devnull=devnull, chroot=chroot, drop=drop, suid_dumpable=suid_dumpable, libc=libc, disk=disk)
    gc.collect()
    gc.freeze()  # forked job processes never walk (and so never copy) the preloaded objects
    out.write(json.dumps({"chroot": chroot, "uid": drop, "disk": disk}) + "\n")
    out.flush()
    Worker(guards, out).serve()


if __name__ == "__main__":
    sys.exit(main())
