import json
from pathlib import Path

import yaml

from rlvr_assets.cli import main

ROOT = Path(__file__).resolve().parents[1]
CANDIDATES = [
    {
        "name": "cand-apples",
        "parent": "apples-buy",
        "operator": "my-generator",
        "domain": "reasoning",
        "template": "{name} has {a} apples and buys {b} more apples. How many apples now?",
        "params": {"name": "Ana", "a": 9, "b": 4},
        "solution": "def solve(a, b, **_):\n    return a + b",
        "answer": "13",
        "known_bad": ["Answer: 5"],
    },
    {
        "name": "cand-wrong-truth",
        "parent": "apples-buy",
        "domain": "reasoning",
        "template": "{name} has {a} apples and buys {b} more. Total?",
        "params": {"name": "Ana", "a": 2, "b": 2},
        "solution": "def solve(a, b, **_):\n    return a + b",
        "answer": "5",
        "known_bad": ["Answer: 4"],
    },
    {
        "name": "cand-child",
        "parent": "cand-apples",
        "domain": "reasoning",
        "template": "{name} owns {a} apples, then gets {b} more. How many?",
        "params": {"name": "Bo", "a": 9, "b": 4},
        "solution": "def solve(a, b, **_):\n    return a + b",
        "answer": "13",
        "known_bad": [],
    },
]


def test_gate_command_prints_one_decision_per_candidate_with_the_failing_factor(tmp_path: Path, capsys) -> None:
    config = tmp_path / "gate.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "model": {"source": "tiny"},
                "sampling": {"max_new_tokens": 8},
                "gate": {"samples": 4, "pass_at": 2, "solve_band": [0.0, 0.95], "min_informative_fraction": 0.0},
                "paths": {
                    "seeds_dir": str(ROOT / "seeds"),
                    "smoke_suite": str(ROOT / "heldout" / "smoke_reasoning.jsonl"),
                    "var_dir": str(tmp_path / "var"),
                },
            }
        )
    )
    candidates = tmp_path / "candidates.jsonl"
    candidates.write_text("\n".join(json.dumps(c) for c in CANDIDATES) + "\n")
    assert main(["gate", str(candidates), "--config", str(config), "--json"]) == 0
    rows = {r["candidate"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(rows) == {"cand-apples", "cand-wrong-truth", "cand-child"}
    assert rows["cand-apples"]["accepted"]
    assert rows["cand-wrong-truth"]["failed_factors"] == ["faithful"]
    assert "parent solution gives 4" in rows["cand-wrong-truth"]["reason"]
    assert "verify" in rows["cand-child"]["failed_factors"]  # no known-bad answers: cannot show it rejects
    assert rows["cand-child"]["parent"] == rows["cand-apples"]["task_id"]


def test_gate_command_names_an_unknown_parent(tmp_path: Path, capsys) -> None:
    candidates = tmp_path / "candidates.jsonl"
    candidates.write_text(json.dumps({**CANDIDATES[0], "parent": "no-such-seed"}) + "\n")
    assert main(["gate", str(candidates)]) == 2
    err = capsys.readouterr().err
    assert "candidates.jsonl:1" in err and "'parent'" in err and "no-such-seed" in err
