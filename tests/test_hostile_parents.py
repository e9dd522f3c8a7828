"""Class 5 of issue 20: V_faithful trusts only parents that are seeds or variants accepted earlier in the run."""

import json
from pathlib import Path

from rlvr_assets.core.config import GateConfig
from rlvr_assets.core.gate.factors import run_gate
from rlvr_assets.core.tasks.candidates import load_candidates
from rlvr_assets.core.tasks.seeds import load_seed_dir

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = "{name} has {a} apples and buys {b} more apples. How many apples now?"
WRONG = {  # its solve multiplies: V_faithful against the seed's solution rejects it
    "name": "cand-multiplies",
    "parent": "apples-buy",
    "domain": "reasoning",
    "template": TEMPLATE,
    "params": {"name": "Ana", "a": 9, "b": 4},
    "solution": "def solve(a, b, **_):\n    return a * b",
    "answer": "36",
    "known_bad": ["Answer: 5"],
}
CHILD = {  # agrees with its rejected parent's wrong solve
    **WRONG,
    "name": "cand-child-of-rejected",
    "parent": "cand-multiplies",
    "template": "{name} owns {a} apples and then buys {b} more. How many apples?",
    "params": {"name": "Bo", "a": 7, "b": 3},
    "answer": "21",
}


def _scripted(tasks, n):  # the policy's stand-in: a right and a wrong answer per variant
    return [(i, f"Answer: {t.verifier.answer if k % 2 else 0}", 10) for i, t in enumerate(tasks) for k in range(n)]


def test_a_child_of_a_rejected_candidate_fails_v_faithful(tmp_path: Path) -> None:
    path = tmp_path / "candidates.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in (WRONG, CHILD)) + "\n")
    candidates, parents = load_candidates(path, load_seed_dir(ROOT / "seeds"))
    cfg = GateConfig(samples=4, pass_at=2, solve_band=(0.0, 1.0), min_informative_fraction=0.0)
    decisions = {d.variant_id: d for d in run_gate(candidates, parents, _scripted, cfg).decisions}
    parent, child = decisions[candidates[0].id], decisions[candidates[1].id]
    assert not parent.accepted and "faithful" in parent.failed_factors
    assert not child.accepted and "faithful" in child.failed_factors
    assert "neither a seed nor an accepted variant" in child.reason
