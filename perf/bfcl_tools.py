"""BFCL multi-turn tool calls: one sandboxed session per episode against one Python start per call.

Replays the ground-truth steps of the first N `multi_turn_base` items, as a live episode does, two ways in
the same run: the session path the pipeline uses (`bfcl.BFCLTools`: BFCL's instances live in one confined
session of the tool sandbox for the whole episode, one pipe round trip per step) and the path it replaced
(every step starts a sandboxed `python -I` that imports bfcl_eval and replays the episode's history before
running the step). Prints milliseconds per step for both, their ratio, and whether the results agree.

    python perf/bfcl_tools.py [--items 5]
"""

from __future__ import annotations

import argparse
import json
import secrets
import time
from typing import Any

from rlvr_assets.core.domains.function_calling.bfcl import BFCLTools
from rlvr_assets.core.domains.function_calling.spec import BFCLMultiTurn
from rlvr_assets.core.domains.function_calling.tool_sandbox import shared_tool_sandbox
from rlvr_assets.core.evaluation.benchmarks import bfcl_multi_turn_items
from rlvr_assets.core.sandbox.process import SandboxLimits, run_python

# the replaced path, kept here only as the baseline
_PER_CALL_PROGRAM = """
import json, sys
from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_utils import execute_multi_turn_func_call
job = json.loads(sys.stdin.read())
entry = job["entry"]
results = []
for step in job["history"] + [job["calls"]]:
    results, _ = execute_multi_turn_func_call(step, entry["initial_config"], entry["involved_classes"],
                                              "rlvr", entry["id"])
sys.stdout.write("\\n" + MARKER + json.dumps([str(r) for r in results]) + "\\n")
"""


def per_call(entry: dict[str, Any], history: list[list[str]], calls: list[str]) -> list[str]:
    marker = f"@@BFCL-{secrets.token_hex(8)}@@"
    program = _PER_CALL_PROGRAM.replace("MARKER", json.dumps(marker))
    job = json.dumps({"entry": entry, "history": history, "calls": calls})
    result = run_python(program, job, SandboxLimits(wall_seconds=30, cpu_seconds=30, memory_mb=2048))
    line = next(x for x in result.stdout.splitlines() if x.startswith(marker))
    return json.loads(line[len(marker) :])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=5)
    args = parser.parse_args()
    items = bfcl_multi_turn_items()[: args.items]
    print(f"tool sandbox guard: {shared_tool_sandbox().guard}")
    session_s = per_call_s = 0.0
    steps = agree = 0
    for task in items:
        spec = task.verifier
        assert isinstance(spec, BFCLMultiTurn)
        tools = BFCLTools(spec.entry)
        history: list[list[str]] = []
        for step in (s for s in spec.ground_truth if s):
            start = time.perf_counter()
            new = tools.execute(step)
            session_s += time.perf_counter() - start
            start = time.perf_counter()
            old = per_call(spec.entry, history, step)
            per_call_s += time.perf_counter() - start
            history.append(step)
            steps += 1
            agree += new == old
        tools.close()
    print(f"{len(items)} episodes, {steps} steps; results agree on {agree}/{steps} steps")
    print(f"session per episode: {1000 * session_s / steps:.1f} ms/step")
    print(f"python start per call (replaced): {1000 * per_call_s / steps:.1f} ms/step")
    print(f"ratio: {per_call_s / session_s:.1f}x fewer seconds per step with a session")


if __name__ == "__main__":
    main()
