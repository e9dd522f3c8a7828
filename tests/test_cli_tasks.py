import json
from pathlib import Path

from rlvr_assets.cli import main
from rlvr_assets.core.tasks.model import task_json_schema

ROOT = Path(__file__).resolve().parents[1]


def test_committed_json_schema_is_current() -> None:
    committed = json.loads((ROOT / "schemas" / "task.schema.json").read_text())
    assert committed == json.loads(json.dumps(task_json_schema())), (
        "run: rlvr-assets schema --output schemas/task.schema.json"
    )


def test_seeds_validate_passes_on_the_shipped_library(capsys) -> None:
    assert main(["seeds", "validate", "--seeds-dir", str(ROOT / "seeds"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["tasks"] >= 64


def test_seeds_validate_reports_every_problem_and_loses_nothing_else(tmp_path: Path, capsys) -> None:
    good = {
        "name": "ok-task",
        "domain": "instruction_following",
        "split": "base",
        "template": "Say hi in lowercase.",
        "constraints": [{"id": "change_case:english_lowercase"}],
        "reference": "hi there, how are you today my friend",
        "known_bad": ["HI THERE"],
        "authoring_cost_usd": 5,
    }
    leaky = {**good, "name": "leaky", "template": "Say hello.", "known_bad": ["hello there my good friend how are you"]}
    unknown = {**good, "name": "unknown-check", "template": "Say yo.", "constraints": [{"id": "format:telepathy"}]}
    lines = [json.dumps(good), json.dumps(leaky), json.dumps(unknown), '{"name": "broken"']
    (tmp_path / "mixed.jsonl").write_text("\n".join(lines) + "\n")
    assert main(["seeds", "validate", "--seeds-dir", str(tmp_path), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["tasks"] == 2  # the unknown constraint id is a parse error, not a task
    by_line = {p["line"]: p for p in report["problems"]}
    assert set(by_line) == {2, 3, 4}
    assert by_line[2]["task"] == "leaky" and by_line[2]["task_id"] and "accepted" in by_line[2]["reason"]
    assert by_line[3]["field"] == "constraints.0.id" and "no checker for constraint id" in by_line[3]["reason"]
    assert by_line[3]["task"] == "unknown-check"
    assert by_line[4]["field"] == "<json>"
    assert all(p["file"].endswith("mixed.jsonl") for p in report["problems"])


def test_verify_scores_one_completion(tmp_path: Path, capsys) -> None:
    record = {
        "name": "sum",
        "domain": "code",
        "split": "base",
        "template": "Write add(a, b).",
        "entry_point": "add",
        "reference": "def add(a, b):\n    return a + b",
        "cases": [{"args": [2, 3], "expected": 5}],
    }
    task = tmp_path / "task.json"
    task.write_text(json.dumps(record))
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text("```python\ndef add(a, b):\n    return a + b\n```")
    bad.write_text("import sys\nsys.exit(0)")
    assert main(["verify", str(task), str(good), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["reward"] == 1.0
    assert main(["verify", str(task), str(bad), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["reward"] == 0.0 and out["reason"]


def test_verify_multi_turn_task_takes_a_json_list_of_turns(tmp_path: Path, capsys) -> None:
    from rlvr_assets.core.tasks.seeds import load_task_file

    fc = next(t for t in load_task_file(ROOT / "seeds" / "function_calling.jsonl") if t.name == "archive-notes")
    task = tmp_path / "task.json"
    task.write_text(fc.to_json())
    turns = tmp_path / "turns.json"
    turns.write_text(json.dumps(fc.reference_solution))
    assert main(["verify", str(task), str(turns), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["reward"] == 1.0


def test_verify_reports_a_missing_completion_file(tmp_path: Path, capsys) -> None:
    task = next(p for p in sorted((ROOT / "seeds").glob("*.jsonl")))
    record = next(json.loads(line) for line in task.read_text().splitlines() if line.startswith("{"))
    (tmp_path / "task.json").write_text(json.dumps(record))
    assert main(["verify", str(tmp_path / "task.json"), str(tmp_path / "nope.txt")]) == 2
    assert "cannot read completion" in capsys.readouterr().err
