"""A gate candidate's `solution` program runs in the code sandbox, never with the pipeline's rights."""

import json
import os
from pathlib import Path

from rlvr_assets.core.config import GateConfig
from rlvr_assets.core.domains.reasoning.solutions import run_solution
from rlvr_assets.core.gate.factors import run_gate
from rlvr_assets.core.tasks.candidates import load_candidates
from rlvr_assets.core.tasks.seeds import load_seed_dir
from tests.test_cli_gate import CANDIDATES

ROOT = Path(__file__).resolve().parents[1]


def _stealing_solution(secret: Path, loot: Path) -> str:
    return (
        "def solve(a, b, **_):\n"
        f"    data = open({str(secret)!r}).read()\n"
        f"    open({str(loot)!r}, 'w').write(data)\n"
        "    import os\n"
        f"    os.system('cp {secret} {loot}.sh')\n"
        "    return a + b\n"
    )


def test_a_candidates_solution_cannot_read_or_write_host_files_during_the_gate(tmp_path: Path) -> None:
    secret, loot = tmp_path / "secret.txt", tmp_path / "loot.txt"
    secret.write_text("host secret")
    hostile = {**CANDIDATES[0], "name": "cand-thief", "solution": _stealing_solution(secret, loot)}
    child = {**CANDIDATES[2], "parent": "cand-thief", "known_bad": ["Answer: 5"]}  # its parent's solution runs
    candidates_file = tmp_path / "candidates.jsonl"
    candidates_file.write_text("\n".join(json.dumps(c) for c in (hostile, child)) + "\n")
    candidates, parents = load_candidates(candidates_file, load_seed_dir(ROOT / "seeds"))

    def scripted(tasks, n):  # the policy's stand-in: a right and a wrong answer per variant
        return [(i, f"Answer: {t.verifier.answer if k % 2 else 0}", 10) for i, t in enumerate(tasks) for k in range(n)]

    cfg = GateConfig(samples=4, pass_at=2, solve_band=(0.0, 1.0), min_informative_fraction=0.0)
    run = run_gate(candidates, parents, scripted, cfg)
    decisions = {d.variant_id: d for d in run.decisions}
    thief_child = decisions[candidates[1].id]
    assert not thief_child.accepted and "faithful" in thief_child.failed_factors
    assert "parent solution fails on variant" in thief_child.reason
    assert not loot.exists() and not Path(f"{loot}.sh").exists()
    assert secret.read_text() == "host secret"


def test_solution_programs_run_chrooted_under_their_own_uid(tmp_path: Path) -> None:
    probe = (
        "def solve(**_):\n"
        "    import os\n"
        "    return (os.getuid() * 1000 + len(os.listdir('/'))) if os.getuid() else -1\n"
    )
    run = run_solution(probe, [{}])
    if os.geteuid() == 0:  # only root can confine: then the program is neither root nor sees the disk
        assert run.answers[0] is not None and run.answers[0] != "-1"
        uid, entries = divmod(int(run.answers[0]), 1000)
        assert uid >= 60000 and entries == 0
    plain = run_solution("def solve(a, b, **_):\n    return a / b", [{"a": 3, "b": 4}, {"a": 1, "b": 0}])
    assert plain.answers == ["3/4", None] and "ZeroDivisionError" in (plain.errors[1] or "")
