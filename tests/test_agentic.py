"""Function-calling arms train on live episodes: a real GRPO step (TRL, tiny model, real environments and
verifiers) in which only the model's text is scripted, as in tests/test_rollouts.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from rlvr_assets.core.config import ModelConfig, TrainingConfig
from rlvr_assets.core.policy import agentic
from rlvr_assets.core.tasks.model import Task
from rlvr_assets.core.tasks.seeds import load_task_file
from rlvr_assets.core.training.grpo import train_grpo

ROOT = Path(__file__).resolve().parents[1]


def _call(name: str, **arguments: object) -> str:
    return "<tool_call>" + json.dumps({"name": name, "arguments": arguments}) + "</tool_call>"


# pay-rent: move 90000 cents into rent, 50000 from checking (its whole balance) and the rest from savings
LOOKS_FIRST = [
    _call("get_balance", account="checking"),
    _call("transfer", from_account="checking", to_account="rent", amount=50000)
    + _call("transfer", from_account="savings", to_account="rent", amount=40000),
    "Rent is paid.",
]
# every required call, in order, then one more transfer: the final state is wrong
UNDOES_IT = [
    LOOKS_FIRST[1],
    _call("transfer", from_account="rent", to_account="savings", amount=1),
    "Rent is paid.",
]


def _first_turn(context: str) -> str:
    return context.split("<|im_start|>assistant\n")[1].split("<|im_end|>")[0]


class ScriptedTurns:
    """Stands in for the model's text only: each new turn is the tokenized script line for the episode
    (chosen from what its context already shows), plus end-of-turn. It records every context it is given."""

    def __init__(self, tokenizer, answer: str) -> None:  # type: ignore[no-untyped-def]
        self.tokenizer, self.answer = tokenizer, answer
        self.contexts: list[str] = []
        self.first_round = 0

    def __call__(self, contexts: list[list[int]]) -> tuple[list[list[int]], None]:
        out = []
        for ids in contexts:
            text = self.tokenizer.decode(ids)
            self.contexts.append(text)
            turn = text.count("<|im_start|>assistant") - 1
            if "<tool_call>" not in text:  # no tool protocol in the system turn: the single-turn task
                line = self.answer
            elif turn == 0:  # identical first contexts: alternate the two scripts across the group
                line = (LOOKS_FIRST if self.first_round % 2 == 0 else UNDOES_IT)[0]
                self.first_round += 1
            else:
                script = LOOKS_FIRST if "get_balance" in _first_turn(text) else UNDOES_IT
                line = script[min(turn, len(script) - 1)]
            out.append(self.tokenizer(line, add_special_tokens=False)["input_ids"] + [self.tokenizer.eos_token_id])
        return out, None


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    from rlvr_assets.core.policy.models import materialize_base_model

    return materialize_base_model(ModelConfig(source="tiny"), tmp_path_factory.mktemp("tiny")).path


def _task(file: str, name: str) -> Task:
    return next(t for t in load_task_file(ROOT / "seeds" / file) if t.name == name)


def test_grpo_step_trains_on_live_episodes(tiny_model: str, tmp_path: Path, monkeypatch) -> None:
    """During one real GRPO step: the environment's tool results are in the context of the next generated
    turn, those tokens carry no loss (mask 0 and zero gradient), and the reward is the final state's."""
    from trl import GRPOTrainer

    rent = _task("function_calling.jsonl", "pay-rent")
    arithmetic = load_task_file(ROOT / "seeds" / "reasoning.jsonl")[0]
    scripts: list[ScriptedTurns] = []

    def scripted_generation(trainer):  # type: ignore[no-untyped-def]
        scripts.append(ScriptedTurns(trainer.processing_class, str(arithmetic.reference_solution)))
        return scripts[-1]

    monkeypatch.setattr(agentic, "trainer_generation", scripted_generation)

    # a spy on the real loss: keep its inputs and the gradient it sends to each position's prediction
    steps: list[dict] = []
    real_compute_loss = GRPOTrainer.compute_loss

    def compute_loss(self, model, inputs, *args, **kwargs):  # type: ignore[no-untyped-def]
        hidden: list[torch.Tensor] = []
        handle = model.model.norm.register_forward_hook(lambda _m, _i, out: hidden.append(out))
        loss = real_compute_loss(self, model, inputs, *args, **kwargs)
        handle.remove()
        (grad,) = torch.autograd.grad(loss, hidden[0], retain_graph=True)
        steps.append({"inputs": inputs, "grad": grad.norm(dim=-1), "tokenizer": self.processing_class})
        return loss

    monkeypatch.setattr(GRPOTrainer, "compute_loss", compute_loss)
    logs: list[dict[str, float]] = []
    training = TrainingConfig(max_steps=1, prompts_per_step=2, num_generations=2, max_new_tokens=64)
    result = train_grpo(
        [rent, arithmetic], tiny_model, tmp_path, training, ModelConfig(source="tiny"), 0, {}, logs.append
    )
    assert result.steps == 1 and result.rollouts == 4  # compute matching counts episodes

    # the second turn of the live episode was generated from a context holding the bank's answer
    (script,) = scripts
    second = [c for c in script.contexts if c.count("<|im_start|>assistant") == 2 and "get_balance" in _first_turn(c)]
    assert len(second) == 1
    assert second[0].endswith('<|im_start|>tool\n{"result": 50000}<|im_end|>\n<|im_start|>assistant\n')

    (step,) = steps
    inputs, tokenizer = step["inputs"], step["tokenizer"]
    prompt_len = inputs["prompt_ids"].shape[1]
    by_kind: dict[str, list[dict]] = {}
    for row in range(inputs["completion_ids"].shape[0]):
        live = inputs["completion_mask"][row].bool()
        ids = inputs["completion_ids"][row][live]
        trained = inputs["tool_mask"][row][live].bool()
        # the hidden state just before token k predicts it: the gradient there is what the token's loss sends
        grad = step["grad"][row, prompt_len - 1 : prompt_len - 1 + len(live)][live]
        text = tokenizer.decode(ids[trained])
        kind = "looks" if "get_balance" in text else "undoes" if "<tool_call>" in text else "answer"
        by_kind.setdefault(kind, []).append(
            {
                "text": text,
                "masked": tokenizer.decode(ids[~trained]),
                "masked_grad": grad[~trained],
                "trained_grad": grad[trained],
                "advantage": float(inputs["advantages"][row]),
            }
        )
    assert sorted(by_kind) == ["answer", "looks", "undoes"]
    looks, undoes = by_kind["looks"][0], by_kind["undoes"][0]
    # the model's own tokens, and only they, are trained: the scripted turns, each closed by end-of-turn
    assert looks["text"] == "<|im_end|>".join(LOOKS_FIRST) + "<|im_end|>"
    assert undoes["text"] == "<|im_end|>".join(UNDOES_IT) + "<|im_end|>"
    # the tool results (and the role headers around them) are there, masked, and get no gradient
    assert '{"result": 50000}' in looks["masked"] and looks["masked"].count('{"result": "ok"}') == 2
    assert "<|im_start|>tool" in looks["masked"] and "<tool_call>" not in looks["masked"]
    for rollout in (looks, undoes):
        assert torch.count_nonzero(rollout["masked_grad"]) == 0
        assert torch.count_nonzero(rollout["trained_grad"]) > 0
    # the reward is the final state's: both made every required call, only one left the accounts right
    assert looks["advantage"] > 0 > undoes["advantage"]
    # the single-turn task in the same batch: one completion, all of it trained, scored by its own verifier
    for rollout in by_kind["answer"]:
        assert rollout["text"] == str(arithmetic.reference_solution) + "<|im_end|>" and rollout["masked"] == ""
    (logged,) = [entry for entry in logs if "reward" in entry]
    assert logged["reward"] == pytest.approx((1 + 0 + 1 + 1) / 4)
    assert logged["episodes"] == 4 and logged["tool_calls"] == 3 + 3 and logged["turns"] == (3 + 3 + 1 + 1) / 4


def test_what_follows_a_model_turn_is_the_templates_own_rendering(tiny_model: str) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    chat = agentic.ChatTokens(tokenizer)
    messages = [
        {"role": "user", "content": "Pay the rent."},
        {"role": "assistant", "content": _call("get_balance", account="checking")},
        {"role": "tool", "content": '{"result": 50000}'},
    ]
    suffix = chat.continuation(messages, 2)
    assert tokenizer.decode(suffix) == '\n<|im_start|>tool\n{"result": 50000}<|im_end|>\n<|im_start|>assistant\n'
    # a template that drops earlier assistant turns (as some "thinking" templates do) cannot be trained on
    tokenizer.chat_template = (
        "{% for m in messages %}{% if m['role'] != 'assistant' or loop.last %}"
        "<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endif %}{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    with pytest.raises(agentic.ChatTemplateError):
        chat.continuation(messages, 2)


def test_single_turn_corpora_keep_trls_own_generation() -> None:
    tasks = load_task_file(ROOT / "seeds" / "reasoning.jsonl")
    assert agentic.EpisodeTraining.for_corpus(tasks) is None
    assert agentic.EpisodeTraining.for_corpus([*tasks, _task("function_calling.jsonl", "pay-rent")]) is not None


def test_run_with_reasoning_and_function_calling_trains_every_arm_on_its_mixed_corpus(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """`rlvr-assets run` with `domains: [reasoning, function_calling]` on the tiny model: every arm trains on
    its mixed corpus (tool-use tasks as live episodes) and is scored; each step logs episodes and tool calls
    (read from what each arm's training process reported: training runs out of the Dagster process)."""
    import json

    from rlvr_assets.cli import main
    from rlvr_assets.core.config import load_config
    from rlvr_assets.core.store.storage import read_frame
    from tests.conftest import TORCH_THREADS, write_config

    heldout = tmp_path / "heldout.jsonl"  # two smoke items keep evaluation short
    heldout.write_text("\n".join((ROOT / "heldout" / "smoke_reasoning.jsonl").read_text().splitlines()[1:3]) + "\n")
    config = write_config(
        tmp_path,
        {
            "domains": ["reasoning", "function_calling"],
            "model": {"source": "tiny", "device": "cpu", "torch_threads": TORCH_THREADS},
            "sampling": {"max_new_tokens": 8, "batch_size": 64},
            "gate": {
                "samples": 2,
                "pass_at": 1,
                "group_size": 2,
                "solve_band": [0.0, 1.0],
                "min_informative_fraction": 0.0,
            },
            "operators": {"enabled": ["remove_hint"], "resample_draws": 1},
            "arms": {"human_sizes": [2, 8], "aug_fractions": [0.5]},
            "training": {"max_steps": 1, "prompts_per_step": 2, "num_generations": 2, "max_new_tokens": 8},
            "eval": {"max_new_tokens": 8, "bootstrap_samples": 20, "suites": ["smoke"]},
            "economics": {"cost_ratios": [5]},
            "paths": {"smoke_suite": str(heldout)},
        },
    )
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    assert main(["run", "--config", str(config)]) == 0
    capsys.readouterr()

    cfg = load_config(config)
    corpus = read_frame(cfg.paths.duckdb_path, "training_corpus")
    mixed = corpus.group_by("arm").agg(corpus["domain"].unique().sort().alias("domains"))
    assert {tuple(d) for d in mixed["domains"].to_list()} >= {("function_calling", "reasoning")}
    scores = read_frame(cfg.paths.duckdb_path, "benchmark_scores")
    assert set(scores["arm"].unique()) == {"human-2", "human-8", "aug-0.50"}
    outcomes = sorted((cfg.paths.artifacts_dir / "checkpoints").glob("*/seed-0/outcome.json"))
    logged = [step for path in outcomes for step in json.loads(path.read_text())["history"]]
    steps = [entry for entry in logged if "reward" in entry]
    assert len(steps) == 3  # one step per arm
    live = [entry for entry in steps if "episodes" in entry]  # arms whose corpus has tool-use tasks
    assert live and all(entry["episodes"] == 4 and entry["tool_calls"] >= 0 for entry in live)
