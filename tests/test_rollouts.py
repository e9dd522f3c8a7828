"""Live tool-use episodes: tool results go back to the model as the next turn."""

import json
from pathlib import Path

from rlvr_assets.core.config import SamplingConfig
from rlvr_assets.core.policy.rollouts import sample_rollouts
from rlvr_assets.core.policy.sampling import Sample
from rlvr_assets.core.tasks.seeds import load_task_file
from rlvr_assets.core.tasks.verifiers import verify

ROOT = Path(__file__).resolve().parents[1]


class ScriptedPolicy:
    """Plays a task's reference turns and records what it was shown (the model is the only stand-in)."""

    def __init__(self, script: list[str]) -> None:
        self.script = script
        self.seen: list[list[dict[str, str]]] = []

    def sample(self, conversations, n, _cfg, **_kwargs):
        out = []
        for i, conversation in enumerate(conversations):
            self.seen.append(conversation)
            turn = sum(1 for m in conversation if m["role"] == "assistant")
            text = self.script[turn] if turn < len(self.script) else "All done."
            out.extend(Sample(i, text, 10, 5) for _ in range(n))
        return out


def test_episode_feeds_tool_results_back_and_scores_the_final_state() -> None:
    task = next(t for t in load_task_file(ROOT / "seeds" / "function_calling.jsonl") if t.name == "pay-rent")
    policy = ScriptedPolicy(list(task.reference_solution))
    rollouts = sample_rollouts(policy, [task], 2, SamplingConfig())
    assert len(rollouts) == 2
    for r in rollouts:
        assert isinstance(r.completion, list) and r.completion[:2] == list(task.reference_solution)
        assert verify(task, r.completion).reward == 1.0
    second_turn = next(c for c in policy.seen if any(m["role"] == "tool" for m in c))
    tool_result = json.loads(next(m for m in second_turn if m["role"] == "tool")["content"])
    assert tool_result == {"result": 50000}  # get_balance answered before the model's next turn
    assert second_turn[0]["role"] == "system" and "transfer" in second_turn[0]["content"]


def test_single_turn_tasks_get_one_completion_each() -> None:
    task = load_task_file(ROOT / "seeds" / "reasoning.jsonl")[0]
    policy = ScriptedPolicy([task.reference_solution])
    rollouts = sample_rollouts(policy, [task, task], 3, SamplingConfig())
    assert [r.task_index for r in rollouts] == [0, 0, 0, 1, 1, 1]
    assert all(verify(task, r.completion).reward == 1.0 for r in rollouts)


def _tool_call(name: str, **arguments: object) -> str:
    return "<tool_call>" + json.dumps({"name": name, "arguments": arguments}) + "</tool_call>"


class TurnScriptedPolicy:
    """Answers each user turn with one step of scripted calls, then a plain reply (the model stand-in)."""

    def __init__(self, per_turn: list[str]) -> None:
        self.per_turn = per_turn
        self.seen: list[list[dict[str, str]]] = []

    def sample(self, conversations, n, _cfg, **_kwargs):
        out = []
        for i, conversation in enumerate(conversations):
            self.seen.append(conversation)
            users = sum(1 for m in conversation if m["role"] == "user")
            answered = conversation[-1]["role"] == "tool"
            text = "Done." if answered else self.per_turn[users - 1]
            out.extend(Sample(i, text, 10, 5) for _ in range(n))
        return out


def test_bfcl_multi_turn_episode_is_judged_by_bfcls_own_checker() -> None:
    from rlvr_assets.core.evaluation.benchmarks import bfcl_multi_turn_items

    task = bfcl_multi_turn_items()[0]  # multi_turn_base_0: file system + posting API
    script = [
        _tool_call("cd", folder="document")
        + _tool_call("mkdir", dir_name="temp")
        + _tool_call("mv", source="final_report.pdf", destination="temp"),
        _tool_call("cd", folder="temp") + _tool_call("grep", file_name="final_report.pdf", pattern="budget analysis"),
        _tool_call("sort", file_name="final_report.pdf"),
        _tool_call("cd", folder="..")
        + _tool_call("mv", source="previous_report.pdf", destination="temp")
        + _tool_call("cd", folder="temp")
        + _tool_call("diff", file_name1="final_report.pdf", file_name2="previous_report.pdf"),
    ]
    policy = TurnScriptedPolicy(script)
    (rollout,) = sample_rollouts(policy, [task], 1, SamplingConfig())
    decoded = json.loads(rollout.completion)
    assert len(decoded) == 4 and decoded[0] == [
        ["cd(folder='document')", "mkdir(dir_name='temp')", "mv(source='final_report.pdf', destination='temp')"]
    ]
    assert verify(task, rollout.completion).reward == 1.0
    tool_turns = [m for m in policy.seen[-1] if m["role"] == "tool"]
    assert "moved to" in tool_turns[2]["content"]  # BFCL's file system answered the mv call
    lazy = TurnScriptedPolicy(["I would rather not."] * 4)
    (idle,) = sample_rollouts(lazy, [task], 1, SamplingConfig())
    assert verify(task, idle.completion).reward == 0.0


def test_length_bucketed_batches_return_samples_in_conversation_order(tmp_path: Path) -> None:
    from rlvr_assets.core.config import ModelConfig
    from rlvr_assets.core.policy.models import materialize_base_model
    from rlvr_assets.core.policy.sampling import load_policy
    from tests.conftest import TORCH_THREADS

    cfg = ModelConfig(source="tiny", device="cpu", torch_threads=TORCH_THREADS)
    policy = load_policy(materialize_base_model(cfg, tmp_path / "tiny").path, cfg, "hf-generate")
    conversations = [[{"role": "user", "content": "word " * k}] for k in (40, 1, 20, 5)]
    samples = policy.sample(conversations, 3, SamplingConfig(max_new_tokens=4, temperature=0.0, batch_size=4))
    assert [s.prompt_index for s in samples] == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    # each sample reports its own prompt's length, so the batch it ran in cannot leak into another prompt
    by_prompt = {s.prompt_index: s.prompt_tokens for s in samples}
    assert by_prompt[0] > by_prompt[2] > by_prompt[3] > by_prompt[1]


def test_batches_respect_both_the_sequence_and_the_token_budget() -> None:
    from rlvr_assets.core.policy.sampling import token_budget_batches

    jobs = [(i, "x") for i in range(7)]
    sizes = [100, 100, 100, 400, 400, 900, 5000]  # ascending, as Policy.sample sorts them
    batches = token_budget_batches(jobs, sizes, batch_size=3, max_batch_tokens=1000)
    assert [[i for i, _ in b] for b in batches] == [[0, 1, 2], [3, 4], [5], [6]]  # 6 alone exceeds the budget
    assert [[i for i, _ in b] for b in token_budget_batches(jobs, sizes, 4, None)] == [[0, 1, 2, 3], [4, 5, 6]]
