"""The README is what a newcomer runs first: it stays short, defines what it prints, points only inside the
repository, and every short command in it runs as shown (or, for the long ones, parses and answers `--help`)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

README = ROOT / "README.md"


def _text() -> str:
    return README.read_text()


def _code_blocks(language: str) -> list[str]:
    """The fenced blocks of the README tagged `language` ("" for untagged ones)."""
    blocks: list[tuple[str, list[str]]] = []
    current: tuple[str, list[str]] | None = None
    for line in _text().splitlines():
        if line.startswith("```"):
            if current is None:
                current = (line[3:].strip(), [])
            else:
                blocks.append(current)
                current = None
        elif current is not None:
            current[1].append(line)
    return ["\n".join(lines) + "\n" for tag, lines in blocks if tag == language]


def _commands() -> list[list[str]]:
    """Each command line of the README's bash blocks, without its trailing comment."""
    lines = [line.split("  #")[0].strip() for block in _code_blocks("bash") for line in block.splitlines()]
    return [shlex.split(line) for line in lines if line]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env.pop("RLVR_ASSETS_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "rlvr_assets.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_readme_is_short_and_points_only_inside_the_repository() -> None:
    assert len(README.read_bytes()) < 12 * 1024
    for doc in [README, *(ROOT / "docs").glob("*.md")]:
        text = doc.read_text()
        assert "../shared" not in text, f"{doc.name} points outside the repository"
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
            if target.startswith(("http://", "https://")):
                continue
            resolved = (doc.parent / target).resolve()
            assert resolved.is_relative_to(ROOT), f"{doc.name}: {target} leaves the repository"
            assert resolved.exists(), f"{doc.name}: broken link {target}"


def test_readme_defines_every_quantity_it_prints() -> None:
    text = _text()
    table = text[text.index("| quantity | definition |") : text.index("**Worked example")]
    for quantity in ("human curve", "N_equiv", "rho (trade rate)", "r (cost ratio)", "rho_cost", "break-even r*"):
        assert f"| {quantity} |" in table, quantity
    reading = text[text.index("## Reading the result") : text.index("## Your own tasks")]
    for term in ("**identified**", "**verdict**", "**MDD**", "`pays`", "`does not pay`", "`cannot tell`"):
        assert term in reading, term
    # the worked example's arithmetic is the study's: rho >= 87/319, break-even 3.67
    assert "87/319 = 0.27" in text and "319/87 = 3.67" in text and round(319 / 87, 2) == 3.67


def test_readme_economics_example_is_what_the_command_prints() -> None:
    (command,) = [c for c in _commands() if c[:2] == ["rlvr-assets", "economics"]]
    done = _cli(*command[1:])
    assert done.returncode == 0, done.stderr
    printed = [line.rstrip() for line in done.stdout.splitlines()]
    shown = [b for b in _code_blocks("") if "estimator" in b and "rho_cost" in b]
    assert shown, "no rho_cost table in the README"
    for line in shown[0].splitlines():
        if not line.strip():
            continue
        expected = line.split("...")[0].rstrip(" ;.,")  # the README shortens long reasons with "..."
        assert any(p.startswith(expected) for p in printed), f"README shows a line the command does not print: {line}"


@pytest.mark.parametrize("command", _commands(), ids=lambda c: " ".join(c))
def test_every_readme_command_exists_as_shown(command: list[str]) -> None:
    """`make` targets exist (`make -n` prints their recipe without running it); `rlvr-assets` commands parse,
    and those that train answer `--help` instead of starting a sweep here."""
    if command[0] == "make":
        done = subprocess.run(["make", "-n", "-o", ".venv/.setup-stamp", *command[1:]], cwd=ROOT, capture_output=True)
        assert done.returncode == 0, done.stderr
        return
    assert command[0] == "rlvr-assets", command
    args = command[1:]
    if args and args[0] in ("run", "eval", "gate"):  # minutes of work: check the arguments, then ask for --help
        from rlvr_assets.cli import arms_problem, build_parser
        from rlvr_assets.core.config import load_config

        parsed = build_parser().parse_args(args)
        if getattr(parsed, "arms", None):
            assert arms_problem(parsed.arms.split(","), load_config(None)) is None
        args = [args[0], "--help"]
    done = _cli(*args)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()


def test_readme_seed_records_are_valid_tasks_of_every_domain(tmp_path: Path) -> None:
    from rlvr_assets.core.gate.validation import validate_seed_dir

    (block,) = [b for b in _code_blocks("json") if '"domain"' in b]
    records = [json.loads(line) for line in block.splitlines() if line.strip()]
    assert {r["domain"] for r in records} == {"reasoning", "code", "instruction_following", "function_calling"}
    (tmp_path / "readme.jsonl").write_text(block)
    report = validate_seed_dir(tmp_path)
    assert report.ok and len(report.tasks) == len(records), [p.as_dict() for p in report.problems]
