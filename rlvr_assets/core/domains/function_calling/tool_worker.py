"""The sandbox worker of `rlvr_assets.core.domains.function_calling.tool_sandbox`, run as a script: `python -I -B tool_worker.py ROOT`.

Tool calls of every environment run here, never in the verifier's process: the project's simulated
environments (`rlvr_assets.core.domains.function_calling.environments`) and BFCL's executable API classes (`bfcl_eval`). The worker
imports both (from the project root ROOT and the installed packages) and the standard library a tool may
need, then forks one *session* process per environment instance. A session is confined before it reads
its first request: its own process group, stdio on /dev/null, every other descriptor closed except its two
pipe ends, chrooted into an empty directory it cannot even list, a uid of its own (61001..61999, never the
code sandbox's), no child processes (RLIMIT_NPROC), no file writes (RLIMIT_FSIZE 0) and a CPU limit. So a
tool call that names `open`, `exec` or `__import__` (the parent refuses those before they get here) finds
no file to touch, no module to load and nothing to signal. The worker itself only relays.

Protocol, on stdin/stdout: the worker first writes one JSON line naming the guards sessions get
({"chroot": bool, "uid": bool}). Then it reads length-prefixed JSON requests
{"id", "op": "open"|"request"|"close", "session", "kind", "setup" | "body"} and writes one JSON line per
request: {"id", "body"} or {"id", "error"}. A session that exceeds the wall limit of a request, dies or
answers with something that is not one JSON line is killed, and its uid swept.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import resource
import signal
import sys
import tempfile
import time

# The one bootstrap of a sandbox worker: the worker kit's folder on sys.path (see sandbox/process.py).
sys.path.insert(
    0, os.path.dirname(os.path.normpath(os.path.join(os.path.abspath(__file__), "../../../sandbox/code_worker.py")))
)
import code_worker as cw  # the generic sandbox helpers: framing, probing, fd hygiene

UID_FIRST, UID_LAST = 61001, 61999  # sessions' uids: disjoint from the code sandbox's jobs
SWEEPER_UID = 61000
MAX_REPLY = 4_000_000
SESSION_CPU_SECONDS = 120
BFCL_MODULES = (
    "bfcl_eval.eval_checker.multi_turn_eval.multi_turn_utils",
    "bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker",
)
BFCL_CLASSES = (
    "GorillaFileSystem",
    "MathAPI",
    "MessageAPI",
    "TwitterAPI",
    "TicketAPI",
    "TradingBot",
    "TravelAPI",
    "VehicleControlAPI",
)


def preload():
    # everything a session may import, imported before any session is confined
    for name in cw.PRELOAD:
        importlib.import_module(name)
    loaded = {"project": False, "bfcl": False}
    with contextlib.suppress(Exception):
        importlib.import_module("rlvr_assets.core.domains.function_calling.environments")
        loaded["project"] = True
    with contextlib.suppress(Exception):
        for name in BFCL_MODULES:
            importlib.import_module(name)
        from bfcl_eval.constants.executable_backend_config import CLASS_FILE_PATH_MAPPING

        for cls in BFCL_CLASSES:
            importlib.import_module(CLASS_FILE_PATH_MAPPING[cls])
        loaded["bfcl"] = True
    return loaded


# --- what a session does --------------------------------------------------------------------------------
def project_handler(setup):
    # stateless: the parent holds the environment's state (plain data) and sends it with every step
    from rlvr_assets.core.domains.function_calling.environments import ENVIRONMENTS, ToolError, _validate

    def handle(body):
        tools = ENVIRONMENTS[body["environment"]]
        state = body["state"]
        results = []
        for name, arguments in body["calls"]:
            tool = tools.get(name)
            try:
                if tool is None:
                    raise ToolError(f"unknown tool {name!r}")
                if type(arguments) is not dict:
                    raise ToolError(f"arguments of {name} must be an object")
                _validate(tool, arguments)
                output = {"result": tool.run(state, dict(arguments))}
            except ToolError as exc:
                output = {"error": str(exc)}
            except Exception as exc:  # a tool that breaks on an input fails that call, not the episode
                output = {"error": f"{name} failed: {type(exc).__name__}"}
            results.append(json.dumps(output))
        return {"state": state, "results": results}

    return handle


def bfcl_handler(setup):
    # stateful: BFCL's instances live in this process for the whole episode
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker import multi_turn_checker
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_utils import execute_multi_turn_func_call

    entry = setup["entry"]
    unknown = [c for c in entry["involved_classes"] if c not in BFCL_CLASSES]
    if unknown:
        raise ValueError(f"unsupported BFCL classes {unknown}")

    def handle(body):
        if body["op"] == "execute":
            results, _ = execute_multi_turn_func_call(
                body["calls"], entry["initial_config"], entry["involved_classes"], "rlvr", entry["id"]
            )
            return {"results": [str(r) for r in results]}
        verdict = multi_turn_checker(body["decoded"], body["ground_truth"], entry, "multi_turn_base", "rlvr")
        return {"valid": bool(verdict["valid"]), "reason": str(verdict.get("error_message", ""))[:300]}

    return handle


HANDLERS = {"project": project_handler, "bfcl": bfcl_handler}


def session_child(guards, uid, work, req_r, resp_w, kind, setup):
    # confined first, then it serves requests: one length-prefixed JSON body in, one JSON line out
    def send(message):
        cw.write_all(resp_w, (json.dumps(message) + "\n").encode())

    try:
        os.setpgid(0, 0)
        for fd in (0, 1, 2):
            os.dup2(guards.devnull, fd)
        cw.close_except({req_r, resp_w})
        if guards.chroot:
            os.chroot(work)
        os.chdir("/" if guards.chroot else work)
        cw.drop_privileges(guards, uid)
        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0) if guards.drop else (1, 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
        resource.setrlimit(resource.RLIMIT_CPU, (SESSION_CPU_SECONDS, SESSION_CPU_SECONDS + 1))
        handle = HANDLERS[kind](setup)
    except BaseException as exc:
        return send({"error": f"session setup failed: {type(exc).__name__}"})
    send({"body": {"ready": True}})
    while True:
        body = cw.read_message(req_r)
        if body is None:
            return
        try:
            reply = {"body": handle(body)}
            data = json.dumps(reply)
        except BaseException as exc:  # whatever a call does, the session answers
            data = json.dumps({"error": f"{type(exc).__name__}: {str(exc)[:200]}"})
        cw.write_all(resp_w, (data + "\n").encode())


class Session:
    def __init__(self, guards, uid, kind, setup):
        self.guards, self.uid = guards, uid
        self.work = tempfile.mkdtemp(prefix="rlvr-tools-")
        req_r, self.req_w = os.pipe()
        self.resp_r, resp_w = os.pipe()
        try:
            self.pid = cw.fork(session_child, guards, uid, self.work, req_r, resp_w, kind, setup)
            with contextlib.suppress(OSError):
                os.setpgid(self.pid, self.pid)
        finally:
            os.close(req_r)
            os.close(resp_w)

    def receive(self, wall):
        line, timed_out, complete = cw.collect(self.resp_r, time.monotonic() + wall)
        if timed_out:
            raise RuntimeError(f"tool call timed out after {wall}s")
        if not complete:
            raise RuntimeError("tool session died" if len(line) <= MAX_REPLY else "tool result too large")
        return json.loads(line)

    def discard(self):
        cw.kill(self.pid, True)
        cw.reap(self.pid)
        if self.guards.drop:
            sweep(self.uid)
        for fd in (self.req_w, self.resp_r):
            with contextlib.suppress(OSError):
                os.close(fd)
        cw.remove_tree(self.work)  # iterative, never raises: whatever the session left, however deep


def sweep(uid):
    # as code_worker.sweep, with this worker's own sweeper uid
    os.setresuid(SWEEPER_UID, uid, 0)
    try:
        for _pass in range(2):
            os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        pass
    finally:
        os.setresuid(0, 0, 0)


class Worker:
    def __init__(self, guards, out, wall, loaded):
        self.guards, self.out, self.wall, self.loaded = guards, out, wall, loaded
        self.sessions = {}
        self.next_uid = UID_FIRST + int.from_bytes(os.urandom(2), "little") % (UID_LAST - UID_FIRST + 1)

    def new_uid(self):
        live = {s.uid for s in self.sessions.values()}
        for _ in range(UID_LAST - UID_FIRST + 1):
            uid = self.next_uid
            self.next_uid = uid + 1 if uid < UID_LAST else UID_FIRST
            if uid not in live:
                return uid
        raise RuntimeError("too many live tool sessions")

    def reply(self, request_id, body=None, error=None):
        message = {"id": request_id, "error": error} if error is not None else {"id": request_id, "body": body}
        self.out.write(json.dumps(message) + "\n")
        self.out.flush()

    def close_session(self, sid):
        session = self.sessions.pop(sid, None)
        if session is not None:
            session.discard()

    def handle(self, request):
        op, sid = request["op"], request["session"]
        if op == "open":
            kind = request["kind"]
            if not self.loaded.get(kind):
                raise RuntimeError(f"{kind} tools are not available in the sandbox")
            self.close_session(sid)
            session = self.sessions[sid] = Session(self.guards, self.new_uid(), kind, request["setup"])
            ready = session.receive(self.wall)
            if "error" in ready:
                self.close_session(sid)
                raise RuntimeError(ready["error"])
            return {"ready": True}
        if op == "close":
            self.close_session(sid)
            return {"closed": True}
        session = self.sessions.get(sid)
        if session is None:
            raise RuntimeError("no such tool session (it died or was closed)")
        try:
            cw.write_all(session.req_w, cw.frame(request["body"]))
            reply = session.receive(self.wall)
        except BaseException:
            self.close_session(sid)
            raise
        if type(reply) is not dict or ("body" not in reply and "error" not in reply):
            self.close_session(sid)
            raise RuntimeError("malformed reply from the tool session")
        if "error" in reply:
            return {"error": str(reply["error"])[:300]}
        return reply["body"]

    def serve(self):
        while True:
            request = cw.read_message(0)
            if request is None:
                break
            request_id = request.get("id") if type(request) is dict else None
            try:
                body = self.handle(request)
            except Exception as exc:
                self.reply(request_id, error=f"{type(exc).__name__}: {str(exc)[:200]}")
                continue
            self.reply(request_id, body=body)
        for sid in list(self.sessions):
            self.close_session(sid)


def main():
    cw.become_init_if_pid_1()
    sys.path.insert(0, sys.argv[1])
    wall = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
    loaded = preload()
    devnull = os.open(os.devnull, os.O_RDWR)
    out = os.fdopen(os.dup(1), "w")
    os.dup2(devnull, 1)
    chroot, drop = cw.probe()
    guards = cw.Guards(devnull=devnull, chroot=chroot, drop=drop, suid_dumpable=None)
    time.localtime()  # the time zone is read before any session is chrooted away from it
    gc.collect()
    gc.freeze()
    out.write(json.dumps({"chroot": chroot, "uid": drop, **{f"has_{k}": v for k, v in loaded.items()}}) + "\n")
    out.flush()
    Worker(guards, out, wall, loaded).serve()


if __name__ == "__main__":
    sys.exit(main())
