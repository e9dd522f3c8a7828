"""Tool calls never touch the host: BFCL's classes and the project's environments run in the tool sandbox."""

import json
import os
from pathlib import Path

import pytest

from rlvr_assets.core.config import SamplingConfig
from rlvr_assets.core.domains.function_calling.environments import Episode
from rlvr_assets.core.evaluation.benchmarks import bfcl_multi_turn_items
from rlvr_assets.core.policy.rollouts import sample_rollouts
from rlvr_assets.core.policy.sampling import Sample
from rlvr_assets.core.tasks.seeds import load_task_file
from rlvr_assets.core.tasks.verifiers import verify

ROOT = Path(__file__).resolve().parents[1]


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture
def host(tmp_path: Path) -> Path:
    """A host directory with files a hostile episode tries to truncate, overwrite and delete."""
    (tmp_path / "victim.txt").write_text("keep me")
    (tmp_path / "doomed.txt").write_text("keep me too")
    return tmp_path


def _hostile_calls(host: Path) -> list[str]:
    victim, doomed, created = host / "victim.txt", host / "doomed.txt", host / "created.txt"
    return [
        f"open({str(victim)!r}, 'w')",  # truncate
        f"open(file={str(created)!r}, mode='x')",  # create
        "exec(" + repr(f"open({str(victim)!r}, 'a').write('pwned')") + ")",  # write
        "exec(" + repr(f"import os; os.remove({str(doomed)!r})") + ")",  # delete
        "__import__('os')",  # import
        "eval(" + repr(f"__import__('shutil').rmtree({str(host)!r})") + ")",
    ]


def test_a_bfcl_episode_naming_builtins_is_refused_before_anything_runs(host: Path) -> None:
    task = bfcl_multi_turn_items()[0]
    turns = len(task.verifier.ground_truth)
    before = _snapshot(host)
    for call in _hostile_calls(host):
        episode = [[["cd(folder='document')", call]]] + [[] for _ in range(turns - 1)]
        verdict = verify(task, json.dumps(episode))
        assert verdict.reward == 0.0
        assert "not one of the task's functions" in verdict.reason
    assert _snapshot(host) == before
    assert not (host / "created.txt").exists()


def test_the_sandbox_contains_hostile_calls_even_if_they_reached_bfcl(host: Path) -> None:
    """Defence in depth: sent straight to a session (past the name check), the calls still change nothing."""
    from rlvr_assets.core.domains.function_calling.tool_sandbox import ToolSandbox

    if os.geteuid() != 0:
        pytest.skip("the chroot and the session's own uid need root; without them only the name check guards")
    task = bfcl_multi_turn_items()[0]
    before = _snapshot(host)
    with ToolSandbox() as box:
        with box.open("bfcl", {"entry": task.verifier.entry}) as session:
            results = session.request({"op": "execute", "calls": [*_hostile_calls(host), "ls()"]})["results"]
        guard = box.guard
    assert _snapshot(host) == before
    assert not (host / "created.txt").exists()
    assert all(r.startswith("Error during execution") for r in results[:4])
    assert "document" in results[-1]  # ls() answers from BFCL's simulated file system
    assert "chroot" in guard and "uid-per-session" in guard


class _HostilePolicy:
    """Answers the first user turn with hostile tool calls (JSON tool-call syntax, keyword arguments)."""

    def __init__(self, host: Path) -> None:
        self.host = host

    def sample(self, conversations, n, _cfg, **_kwargs):
        out = []
        for i, conversation in enumerate(conversations):
            calls = [
                {"name": "open", "arguments": {"file": str(self.host / "victim.txt"), "mode": "w"}},
                {"name": "open", "arguments": {"file": str(self.host / "created.txt"), "mode": "x"}},
                {"name": "__import__", "arguments": {"name": "os"}},
                {"name": "cat", "arguments": {"file_name": str(self.host / "victim.txt")}},
                {"name": "ls", "arguments": {}},
            ]
            text = "Done." if conversation[-1]["role"] == "tool" else f"<tool_call>{json.dumps(calls)}</tool_call>"
            out.extend(Sample(i, text, 10, 5) for _ in range(n))
        return out


def test_a_live_bfcl_episode_cannot_write_truncate_or_import_on_the_host(host: Path) -> None:
    task = bfcl_multi_turn_items()[0]
    before = _snapshot(host)
    (rollout,) = sample_rollouts(_HostilePolicy(host), [task], 1, SamplingConfig())
    assert _snapshot(host) == before
    assert not (host / "created.txt").exists()
    decoded = json.loads(rollout.completion)
    assert any(c.startswith("open(") for step in decoded[0] for c in step)  # recorded, never run
    assert verify(task, rollout.completion).reward == 0.0


def test_a_live_bfcl_episode_sees_only_its_simulated_file_system(host: Path) -> None:
    task = bfcl_multi_turn_items()[0]
    policy = _HostilePolicy(host)
    seen: list[list[dict[str, str]]] = []
    original = policy.sample

    def recording(conversations, n, cfg, **kwargs):
        seen.extend(conversations)
        return original(conversations, n, cfg, **kwargs)

    policy.sample = recording  # type: ignore[method-assign]
    sample_rollouts(policy, [task], 1, SamplingConfig())
    tool_turns = next([m["content"] for m in c if m["role"] == "tool"] for c in seen if c[-1]["role"] == "tool")
    refused, listed = tool_turns[:3], tool_turns[4]
    assert all("refused" in r and "not one of the task's functions" in r for r in refused)
    assert "keep me" not in tool_turns[3]  # cat of a host path: BFCL's file system has no such file
    assert json.loads(listed)["current_directory_content"] == ["document", "archive"]


def test_project_environment_tools_run_in_the_sandbox() -> None:
    from rlvr_assets.core.domains.function_calling.tool_sandbox import ToolSandbox

    task = next(t for t in load_task_file(ROOT / "seeds" / "function_calling.jsonl") if t.name == "pay-rent")
    assert task.environment is not None
    with ToolSandbox() as box:
        episode = Episode(task.environment, sandbox=box)
        for turn in task.reference_solution:
            episode.step(turn)
        assert episode.failure is None and episode.calls
        if os.geteuid() == 0:
            assert "chroot" in box.guard and "uid-per-session" in box.guard
    assert episode.state != task.environment.initial_state  # the sandbox's state came back
    assert verify(task, list(task.reference_solution)).reward == 1.0
