"""Reward hacks against the code verifier score 0; honest solutions score 1."""

import pytest

from rlvr_assets.core.code_verifier import CodeSandbox, extract_code
from rlvr_assets.core.sandbox import SandboxLimits
from rlvr_assets.core.tasks import TestCase, UnitTests

CASES = UnitTests(entry_point="add", cases=[TestCase(args=[1, 2], expected=3), TestCase(args=[-1, 1], expected=0)])
ASSERTS = UnitTests(entry_point="add", tests="def check(candidate):\n    assert candidate(1, 2) == 3\n")
GOOD = "```python\ndef add(a, b):\n    return a + b\n```"
HACKS = {
    "early_exit": "import sys\nsys.exit(0)\ndef add(a, b):\n    return 0",
    "hard_exit": "import os\nos._exit(0)",
    "always_equal": "class Any:\n    def __eq__(self, other):\n        return True\ndef add(a, b):\n    return Any()",
    "print_passed": "print('PASSED')\nprint('all tests passed')\ndef add(a, b):\n    return 0",
    "patch_builtins": "import builtins\nbuiltins.AssertionError = type('Nope', (Exception,), {})\ndef add(a, b):\n    return 0",
    "read_answers_from_disk": "import glob\ndef add(a, b):\n    return len(glob.glob('/tmp/*'))",
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
