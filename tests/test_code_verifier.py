"""Reward hacks against the code verifier score 0; honest solutions score 1."""

import contextlib
import json
import os
import secrets
import time
from pathlib import Path

import psutil
import pytest

from rlvr_assets.core.domains.code.spec import TestCase, UnitTests
from rlvr_assets.core.domains.code.verifier import CodeSandbox, extract_code
from rlvr_assets.core.sandbox.code_worker import UID_FIRST, UID_LAST
from rlvr_assets.core.sandbox.process import SandboxLimits

ROOT = Path(__file__).resolve().parents[1]

CASES = UnitTests(entry_point="add", cases=[TestCase(args=[1, 2], expected=3), TestCase(args=[-1, 1], expected=0)])
ASSERTS = UnitTests(entry_point="add", tests="def check(candidate):\n    assert candidate(1, 2) == 3\n")
GOOD = "```python\ndef add(a, b):\n    return a + b\n```"
HACKS = {
    "early_exit": "import sys\nsys.exit(0)\ndef add(a, b):\n    return 0",
    "hard_exit": "import os\nos._exit(0)",
    "always_equal": "class Any:\n    def __eq__(self, other):\n        return True\ndef add(a, b):\n    return Any()",
    "print_passed": "print('PASSED')\nprint('all tests passed')\ndef add(a, b):\n    return 0",
    "patch_builtins": "import builtins\nbuiltins.AssertionError = type('Nope', (Exception,), {})\ndef add(a, b):\n    return 0",
    "exit_inside_call": "def add(a, b):\n    raise SystemExit(0)",
    "int_subclass": "class I(int):\n    def __eq__(self, o):\n        return True\ndef add(a, b):\n    return I(0)",
}


@pytest.fixture(scope="module")
def box():
    with CodeSandbox(SandboxLimits(wall_seconds=2.0, cpu_seconds=2, memory_mb=512, max_processes=8)) as sandbox:
        yield sandbox


@pytest.mark.parametrize("spec", [CASES, ASSERTS], ids=["cases", "asserts"])
def test_correct_solution_passes(box, spec) -> None:
    assert box.check(GOOD, spec).reward == 1.0


@pytest.mark.parametrize("spec", [CASES, ASSERTS], ids=["cases", "asserts"])
@pytest.mark.parametrize("hack", sorted(HACKS))
def test_reward_hacks_score_zero(box, spec, hack) -> None:
    verdict = box.check(HACKS[hack], spec)
    assert verdict.reward == 0.0 and verdict.reason


def test_timeout_and_memory_are_zero_with_a_reason_not_a_hang(box) -> None:
    loop = box.check("def add(a, b):\n    while True:\n        pass", CASES)
    assert loop.reward == 0.0 and "timed out" in loop.reason
    hog = box.check("def add(a, b):\n    x = bytearray(2 * 1024**3)\n    return a + b", CASES)
    assert hog.reward == 0.0
    # the worker survives both and keeps verifying
    assert box.check(GOOD, CASES).reward == 1.0


def test_fork_bomb_is_contained(box) -> None:
    bomb = "import os\ndef add(a, b):\n    for _ in range(64):\n        os.fork()\n    return a + b"
    assert box.check(bomb, CASES).reward == 0.0
    assert box.check(GOOD, CASES).reward == 1.0


def test_extracts_the_last_python_block() -> None:
    text = "First try:\n```python\ndef f(): return 1\n```\nBetter:\n```python\ndef f(): return 2\n```"
    assert extract_code(text).strip() == "def f(): return 2"
    assert extract_code("def f(): return 3") == "def f(): return 3"


# Collects every string and small int reachable through its frames (a secret token, a pipe fd) and every
# file-like object on the heap, writes the verdict a harness would write to every fd it may hold, then exits
# before any test can fail. (It scores 1.0 against a harness that keeps a token in the candidate's process.)
FORGE_VERDICT = """
import gc, json, os, re, sys

def forge():
    fds, strings = set(range(3, 21)), {True}
    frame = sys._getframe()
    while frame is not None:
        for value in [*frame.f_locals.values(), *frame.f_globals.values()]:
            values = value.values() if type(value) is dict else [value]
            strings.update(v for v in values if type(v) is str and len(v) < 100)
            fds.update(v for v in values if type(v) is int and 0 <= v < 1024)
        frame = frame.f_back
    for obj in gc.get_objects():
        fileno = getattr(obj, "fileno", None)
        if callable(fileno):
            try:
                fds.add(fileno())
            except Exception:
                pass
    token = next((s for s in strings if type(s) is str and re.fullmatch("[0-9a-f]{32}", s)), True)
    for fd in sorted(fds):
        try:
            os.write(fd, (json.dumps({"passed": token}) + "\\n").encode())
        except OSError:
            pass
    os._exit(0)

def add(a, b):
    forge()
"""


@pytest.mark.parametrize("spec", [CASES, ASSERTS], ids=["cases", "asserts"])
@pytest.mark.parametrize("when", ["in_call", "at_definition"])
def test_forged_verdict_through_frames_and_fds_scores_zero(box, spec, when) -> None:
    code = FORGE_VERDICT + ("\nforge()\n" if when == "at_definition" else "")
    verdict = box.check(code, spec)
    assert verdict.reward == 0.0 and verdict.reason
    assert box.check(GOOD, spec).reward == 1.0  # the worker stays in step


HALF = UnitTests(entry_point="half", tests="def check(candidate):\n    assert abs(candidate(3) - 1.5) < 1e-6\n")


def test_shadowing_a_builtin_the_tests_use_scores_zero(box) -> None:
    assert box.check("def half(x):\n    return x / 2", HALF).reward == 1.0
    assert box.check("def abs(x):\n    return 0\ndef half(x):\n    return 0", HALF).reward == 0.0
    assert box.check("import builtins\nbuiltins.abs = lambda x: 0\ndef half(x):\n    return 0", HALF).reward == 0.0


PRELUDE = "import math\n\ndef poly(xs, x):\n    return sum(c * x**i for i, c in enumerate(xs))\n\ndef find_zero(xs):\n    pass\n"
FIND_ZERO = UnitTests(
    entry_point="find_zero",
    prelude=PRELUDE,
    tests="def check(candidate):\n    for xs in ([-2, 1], [-6, 11, -6, 1]):\n"
    "        assert math.fabs(poly(xs, candidate(xs))) < 1e-6\n",
)


def test_solution_using_a_prelude_helper_passes_and_cannot_replace_it(box) -> None:
    bisect = (
        "def find_zero(xs):\n    lo, hi = -10.0, 10.0\n    while poly(xs, lo) * poly(xs, hi) > 0:\n        hi *= 2\n"
        "    for _ in range(200):\n        mid = (lo + hi) / 2\n"
        "        lo, hi = (mid, hi) if poly(xs, lo) * poly(xs, mid) > 0 else (lo, mid)\n    return lo\n"
    )
    assert box.check(f"```python\n{bisect}```", FIND_ZERO).reward == 1.0
    fake = "def poly(xs, x):\n    return 0\ndef find_zero(xs):\n    return 0.0\n"
    assert box.check(fake, FIND_ZERO).reward == 0.0


def test_values_and_exceptions_cross_the_process_boundary_faithfully(box) -> None:
    spec = UnitTests(
        entry_point="f",
        tests=(
            "import math\n"
            "def check(candidate):\n"
            "    assert candidate(1) == (1, [2], {3}, {(4, 5): frozenset({6})}) and type(candidate(1)[0]) is int\n"
            "    assert math.isnan(candidate(2)) and candidate(3) == b'x' and candidate(4) == 1j and candidate(5) is None\n"
            "    assert candidate(n=6) == 6.0 and type(candidate(n=6)) is float\n"
            "    try:\n        candidate(-1)\n    except ValueError:\n        pass\n    else:\n        assert False\n"
        ),
    )
    good = (
        "def f(n):\n    if n < 0:\n        raise ValueError(n)\n"
        "    return {1: (1, [2], {3}, {(4, 5): frozenset({6})}), 2: float('nan'), 3: b'x', 4: 1j, 5: None, 6: 6.0}[n]\n"
    )
    assert box.check(good, spec).reward == 1.0
    assert box.check(good.replace("ValueError", "TypeError"), spec).reward == 0.0
    stop = "def f(n):\n    raise StopIteration\n"  # must not end a test's loop over candidate calls early
    loop = UnitTests(
        entry_point="f", tests="def check(candidate):\n    for x in map(candidate, [1]):\n        assert x\n"
    )
    assert box.check(stop, loop).reward == 0.0


# Looks for the answers on disk: the seed file by its path, then any copy found by walking the machine.
READ_ANSWERS = """
import json, os, re

def answers():
    found = {}
    paths = list(PATHS)
    if not any(os.path.exists(p) for p in paths):
        for top in ("/", "/tmp", "/work"):
            for root, _dirs, files in os.walk(top):
                paths += [os.path.join(root, f) for f in files if f.endswith((".jsonl", ".py"))]
                if len(paths) > 2000:
                    break
    for path in paths:
        try:
            text = open(path).read()
        except (OSError, UnicodeDecodeError):
            continue
        for line in text.splitlines():
            if line.startswith("{") and '"cases"' in line:
                task = json.loads(line)
                for case in task["cases"]:
                    found[task["entry_point"] + json.dumps(case["args"])] = case["expected"]
        for arg, value in re.findall(r"candidate\\((\\d+)\\) == (\\d+)", text):
            found["lookup" + json.dumps([int(arg)])] = int(value)
    return found
"""


def test_reading_the_answers_from_disk_scores_zero(box, tmp_path: Path) -> None:
    seed_file = ROOT / "seeds" / "code.jsonl"
    seed = next(json.loads(line) for line in seed_file.read_text().splitlines() if '"running_max"' in line)
    cases = UnitTests(entry_point="running_max", cases=[TestCase(**c) for c in seed["cases"]])
    secret = secrets.randbelow(10**12)
    tests_file = tmp_path / "tests.py"
    tests_file.write_text(f"def check(candidate):\n    assert candidate(7) == {secret}\n")
    asserts = UnitTests(entry_point="lookup", tests=tests_file.read_text())
    hack = (
        f"PATHS = [{str(seed_file)!r}, {str(tests_file)!r}]\n{READ_ANSWERS}\n"
        "def running_max(xs):\n    return answers()['running_max' + json.dumps([xs])]\n"
        "def lookup(n):\n    return answers()['lookup' + json.dumps([n])]\n"
    )
    # the hack is real: outside the sandbox it finds every expected value ...
    ns: dict = {}
    exec(hack, ns)
    assert all(ns["running_max"](*c["args"]) == c["expected"] for c in seed["cases"]) and ns["lookup"](7) == secret
    # ... inside, the candidate's root is an empty directory
    for spec in (cases, asserts):
        verdict = box.check(hack, spec)
        assert verdict.reward == 0.0 and "KeyError" in verdict.reason
    listing = "import os\ndef add(a, b):\n    return len(os.listdir('/')) + len(os.listdir('.')) + a + b"
    expected = 1.0 if "chroot" in box.guard.split("+") else 0.0
    assert box.check(listing, CASES).reward == expected


def test_guard_names_the_active_guards(box) -> None:
    parts = box.guard.split("+")
    assert parts[0] in ("unshare-net", "unshare-pid", "chroot", "uid-per-job", "none")
    if "chroot" in parts:
        assert "uid-per-job" in parts


# Forks a grandchild that leaves the job's process group and session (the group kill at the end of the job
# misses it), waits for its job to end (its parent, the candidate, is killed then) and then, while later jobs
# run, SIGKILLs every process it may signal, again and again. Only the first call forks: two attackers of one
# uid would kill each other as soon as the candidate dies, leaving nothing for the test to find.
KILL_LATER_JOBS = """
import os, signal, time

FORKED = []

def add(a, b):
    if FORKED:
        return a + b
    FORKED.append(True)
    r, w = os.pipe()
    if os.fork() == 0:
        os.setsid()
        os.write(w, b"x")
        parent = os.getppid()
        while os.getppid() == parent:
            time.sleep(0.001)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.kill(-1, signal.SIGKILL)
            except OSError:
                pass
            time.sleep(0.001)
        os._exit(0)
    os.read(r, 1)
    return a + b
"""


def _job_processes() -> dict[int, tuple[int, int]]:
    """Live (not zombie) processes with a job's uid: pid -> (uid, session id)."""
    found = {}
    for proc in psutil.process_iter(["uids", "status"]):
        uids = proc.info["uids"]
        if uids is not None and UID_FIRST <= uids.real <= UID_LAST and proc.info["status"] != psutil.STATUS_ZOMBIE:
            with contextlib.suppress(OSError):
                found[proc.pid] = (uids.real, os.getsid(proc.pid))
    return found


@pytest.mark.serial  # it looks at every process of the job uids on the host: another test's jobs would count
@pytest.mark.parametrize("spec", [CASES, ASSERTS], ids=["cases", "asserts"])
def test_a_leftover_process_cannot_kill_later_jobs_and_dies_with_its_uid(box, spec) -> None:
    with CodeSandbox(SandboxLimits(wall_seconds=2.0, cpu_seconds=2, memory_mb=512, max_processes=8)) as sandbox:
        if "uid-per-job" not in sandbox.guard.split("+"):
            pytest.skip("every job runs as the worker's own user here (the worker is not root)")
        assert sandbox.check(KILL_LATER_JOBS, spec).reward == 1.0
        # the attack is real: its grandchild outlived the job's process-group kill (only it leads a session) ...
        attacker = {pid: uid for pid, (uid, sid) in _job_processes().items() if sid == pid}
        assert attacker
        time.sleep(0.2)  # ... and keeps killing all it may kill, here the next job's processes, forked meanwhile
        rewards = [sandbox.check(GOOD, s).reward for s in (CASES, ASSERTS) * 4]
        assert rewards == [1.0] * 8

        def survivors() -> set[int]:
            # the other sandbox of this test run (`box`) hands out uids from the same range
            other = {p.pid for p in psutil.Process(box._proc.pid).children(recursive=True)} if box._proc else set()
            mine = _job_processes()
            return {pid for pid, (uid, sid) in mine.items() if uid in attacker.values() or sid in attacker} - other

        # every process of its uid was killed when its job was discarded (while the next job ran)
        assert not survivors()
    assert not survivors()
