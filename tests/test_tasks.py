import json
from pathlib import Path

import pytest

from rlvr_assets.core.gate.factors import check_verify
from rlvr_assets.core.tasks.seeds import SeedFileError, load_seed_dir, load_task_file

ROOT = Path(__file__).resolve().parents[1]

GOOD = {
    "name": "apples",
    "domain": "reasoning",
    "split": "base",
    "template": "{name} has {a} apples and buys {b} more. How many apples?",
    "params": {"name": "Ana", "a": 2, "b": 3},
    "solution": "def solve(a, b, **_):\n    return a + b",
    "answer": "5",
    "known_bad": ["Answer: 6"],
    "authoring_cost_usd": 10.0,
}


def _write(tmp_path: Path, *records: object, raw: str | None = None) -> Path:
    path = tmp_path / "seeds.jsonl"
    lines = [json.dumps(r) for r in records]
    if raw is not None:
        lines.append(raw)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_shipped_seed_library_loads_and_every_seed_passes_its_verifier() -> None:
    seeds = load_seed_dir(ROOT / "seeds")
    for domain in ("reasoning", "code", "instruction_following", "function_calling"):
        of_domain = [t for t in seeds if t.domain == domain]
        assert len(of_domain) >= 16, domain
        assert sum(t.provenance.split == "base" for t in of_domain) == 4, domain
        assert all(t.authoring_cost_usd > 0 for t in of_domain), domain
    for task in seeds:
        result = check_verify(task)
        assert result.passed, f"{task.name}: {result.reason}"


def test_smoke_suite_is_held_out_split() -> None:
    items = load_task_file(ROOT / "heldout" / "smoke_reasoning.jsonl")
    assert items and all(t.provenance.split == "heldout" for t in items)
    assert all(check_verify(t).passed for t in items)


def test_ids_follow_content_not_name_or_position(tmp_path: Path) -> None:
    renamed = {**GOOD, "name": "other-name"}
    a = load_task_file(_write(tmp_path, GOOD))[0]
    b = load_task_file(_write(tmp_path, renamed))[0]
    c = load_task_file(_write(tmp_path, {**GOOD, "params": {"name": "Ana", "a": 3, "b": 3}, "answer": "6"}))[0]
    assert a.id == b.id
    assert a.id != c.id


@pytest.mark.parametrize(
    ("record", "field", "fragment"),
    [
        ({**GOOD, "answer": None}, "answer", "required"),
        ({**GOOD, "split": "train"}, "split", "base, pool or heldout"),
        ({**GOOD, "known_bad": "Answer: 6"}, "known_bad", "list of strings"),
        ({**GOOD, "template": "{missing} apples"}, "template", "cannot be formatted"),
        ({**GOOD, "authoring_cost_usd": -1}, "authoring_cost_usd", "non-negative"),
        ({**GOOD, "colour": "red"}, "colour", "unknown field"),
        ({**GOOD, "domain": "poetry"}, "domain", "unsupported domain"),
    ],
)
def test_malformed_seed_names_file_line_task_and_field(tmp_path: Path, record: dict, field: str, fragment: str) -> None:
    path = _write(tmp_path, {**GOOD, "name": "fine-one"}, record)
    with pytest.raises(SeedFileError) as info:
        load_task_file(path)
    message = str(info.value)
    assert str(path) in message and ":2:" in message
    assert "apples" in message and f"'{field}'" in message and fragment in message


def test_invalid_json_line_is_reported_with_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD, raw='{"name": "broken",')
    with pytest.raises(SeedFileError, match=r":2: .*invalid JSON"):
        load_task_file(path)


def test_duplicate_names_across_files_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(json.dumps(GOOD) + "\n")
    (tmp_path / "b.jsonl").write_text(
        json.dumps({**GOOD, "answer": "5", "params": {"name": "Bo", "a": 2, "b": 3}}) + "\n"
    )
    with pytest.raises(SeedFileError, match=r"b\.jsonl:1: .*duplicate name, first defined at .*a\.jsonl:1"):
        load_seed_dir(tmp_path)


def test_unknown_constraint_id_fails_at_load_naming_the_constraint(tmp_path: Path) -> None:
    record = {
        "name": "two-rules",
        "domain": "instruction_following",
        "split": "pool",
        "template": "Write a haiku about rain in lowercase.",
        "constraints": [{"id": "change_case:english_lowercase"}, {"id": "format:sparkles"}],
        "reference": "soft rain on the roof",
    }
    path = _write(tmp_path, record)
    with pytest.raises(SeedFileError, match=r":1: task two-rules: field 'constraints\.1\.id': .*'format:sparkles'"):
        load_task_file(path)
