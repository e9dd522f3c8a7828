"""GRPO on live episodes: tool-use arms train on the same multi-turn episodes they are gated and scored on.

TRL's `GRPOTrainer` offers two multi-turn hooks. `environment_factory` runs TRL's own tool loop, which
parses calls with the chat template's response schema and exposes Python methods as tools: a second
episode loop and a second parser, different from the ones the gate and evaluation use (and SmolLM2's
template has no tool-calling support at all). `rollout_func` hands the batch's prompts to us and takes
back token ids plus an `env_mask`, which TRL multiplies into the loss mask. That serves better here:

- each rollout is the task's own Episode (`Domain.start_episode`), driven by the one episode loop
  (`rollouts.run_episodes`) with the project's tool protocol and parser, starting from the task's
  initial state; tool results come back as the next turn; it ends when the model answers without a call
  or at the task's `max_turns`;
- every turn is sampled by the trainer's own generation (HF `generate`, or vLLM / continuous batching
  when the trainer is configured for them), one turn per live episode per round, from the exact token
  sequence that the loss is later computed on (the model's tokens as generated, then the chat template's
  rendering of whatever the episode appended);
- the model's tokens carry `env_mask` 1; tool results, later user turns and the role headers around
  them carry 0, so only the model's own tokens are trained on;
- the reward is the task's own verifier on the episode's completion (for tool use: the final state and
  the required calls), exactly what the gate and evaluation call.

Single-turn tasks in the same corpus are one-turn episodes of the same loop, scored by their own
verifier. A corpus with no live episodes keeps TRL's own single-turn generation (`uses_live_episodes`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rlvr_assets.core.domains import domain_of
from rlvr_assets.core.kernel.episodes import Episode, Message, SingleTurn
from rlvr_assets.core.policy.rollouts import Turn, run_episodes
from rlvr_assets.core.tasks.model import Task
from rlvr_assets.core.tasks.verifiers import verify

# The key, on the first message of each training prompt, that names the task the prompt belongs to. TRL
# hands `rollout_func` only the prompts, and two tasks can share a prompt (a variant with a new initial
# state keeps its parent's wording), so the prompt itself must say which environment to start.
TASK_KEY = "rlvr_task_id"

# token contexts -> (one turn of new token ids per context, their sampling logprobs or None)
GenerateTurns = Callable[[list[list[int]]], tuple[list[list[int]], list[list[float]] | None]]


class ChatTemplateError(ValueError):
    """The model's chat template cannot render a growing conversation as a prefix of its next rendering."""


def uses_live_episodes(tasks: Sequence[Task]) -> bool:
    """Whether any task rolls out as more than one completion (then the corpus trains through episodes)."""
    return any(not isinstance(domain_of(t).start_episode(t), SingleTurn) for t in tasks)


class ChatTokens:
    """Token ids of a conversation under the model's chat template, and of what follows a model turn."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.eos = int(tokenizer.eos_token_id)

    def ids(self, messages: Sequence[Message], generation_prompt: bool) -> list[int]:
        out = self.tokenizer.apply_chat_template(
            [{"role": m["role"], "content": m["content"]} for m in messages],
            tokenize=True,
            add_generation_prompt=generation_prompt,
            return_dict=False,
        )
        return [int(i) for i in out]

    def continuation(self, messages: Sequence[Message], rendered: int) -> list[int]:
        """The tokens after the model's turn `messages[rendered - 1]` (from its end-of-turn on): the messages
        the episode appended since, and the header of the next assistant turn."""
        before = self.ids(messages[:rendered], generation_prompt=False)
        ends = [k for k, tok in enumerate(before) if tok == self.eos]
        cut = ends[-1] + 1 if ends else len(before)
        full = self.ids(messages, generation_prompt=True)
        if full[:cut] != before[:cut]:
            raise ChatTemplateError(
                "the model's chat template renders earlier turns differently once later turns are added; "
                "multi-turn training needs a prefix-preserving template"
            )
        return full[cut:]


@dataclass
class Transcript:
    """One episode as the trainer sees it: prompt ids, then completion ids where the model's own tokens
    carry mask 1 and everything else (tool results, user turns, role headers) mask 0."""

    prompt_ids: list[int]
    rendered: int  # messages of the episode whose tokens are already in the transcript
    completion_ids: list[int] = field(default_factory=list)
    env_mask: list[int] = field(default_factory=list)
    logprobs: list[float] | None = field(default_factory=list)  # None once a turn came without them
    turns: int = 0

    def context(self) -> list[int]:
        return self.prompt_ids + self.completion_ids

    def catch_up(self, episode: Episode, chat: ChatTokens) -> None:
        """Append (masked) what the episode added after the model's last turn, up to the next turn's header."""
        if len(episode.messages) <= self.rendered:
            return
        closing = [] if self.completion_ids[-1:] == [chat.eos] else [chat.eos]  # a cut-off turn still ends
        tokens = closing + chat.continuation(episode.messages, self.rendered)
        self._append(tokens, 0, [0.0] * len(tokens))
        self.rendered = len(episode.messages)

    def add_model_turn(self, ids: list[int], logprobs: list[float] | None) -> None:
        self._append(ids, 1, logprobs)
        self.rendered += 1  # the episode appends the turn as an assistant message
        self.turns += 1

    def _append(self, ids: list[int], mask: int, logprobs: list[float] | None) -> None:
        self.completion_ids += ids
        self.env_mask += [mask] * len(ids)
        self.logprobs = self.logprobs + logprobs if self.logprobs is not None and logprobs is not None else None


@dataclass
class PlayedEpisode:
    """A finished training episode: its task, the episode (messages, completion) and its token transcript."""

    task: Task
    episode: Episode
    transcript: Transcript

    @property
    def tool_calls(self) -> int:
        """Calls the environment answered: every episode answers each call with one tool message."""
        return sum(1 for m in self.episode.messages if m["role"] == "tool")


def play_episodes(tasks: Sequence[Task], chat: ChatTokens, generate: GenerateTurns) -> list[PlayedEpisode]:
    """One episode per task (the same task may repeat: GRPO's group), all driven by the shared loop."""
    episodes = [domain_of(t).start_episode(t) for t in tasks]
    transcripts = [Transcript(chat.ids(ep.messages, generation_prompt=True), len(ep.messages)) for ep in episodes]

    def sample_turns(active: list[int], _round: int) -> list[Turn]:
        for j in active:
            transcripts[j].catch_up(episodes[j], chat)
        contexts = [transcripts[j].context() for j in active]
        new_ids, logprobs = generate(contexts)
        turns = []
        for k, (j, ids) in enumerate(zip(active, new_ids, strict=True)):
            transcripts[j].add_model_turn(ids, logprobs[k] if logprobs is not None else None)
            text = chat.tokenizer.decode(ids, skip_special_tokens=True)
            turns.append(Turn(text, len(contexts[k]) + len(ids)))
        return turns

    run_episodes(episodes, sample_turns)
    return [PlayedEpisode(t, ep, tr) for t, ep, tr in zip(tasks, episodes, transcripts, strict=True)]


def trainer_generation(trainer: Any) -> GenerateTurns:
    """One new turn per token context, sampled by the GRPO trainer's own generation backend with its
    sampling settings (`max_completion_length` is the budget of each turn, as `max_new_tokens` is in the
    gate). This is the call TRL's own tool loop makes for each round (TRL 1.16)."""
    if not callable(getattr(trainer, "_generate_single_turn", None)):
        raise RuntimeError("this TRL's GRPOTrainer has no _generate_single_turn: live episodes need TRL 1.16")

    def generate(contexts: list[list[int]]) -> tuple[list[list[int]], list[list[float]] | None]:
        ids, logprobs = trainer._generate_single_turn(contexts, None, {}, 1)
        return [[int(t) for t in row] for row in ids], logprobs

    return generate


class EpisodeTraining:
    """What a GRPOTrainer needs to train a corpus on live episodes:
    `GRPOTrainer(train_dataset=et.dataset(), rollout_func=et.rollout_func, reward_funcs=[et.reward_func])`."""

    def __init__(self, tasks: Sequence[Task]) -> None:
        self.corpus = list(tasks)
        self.tasks = {t.id: t for t in tasks}

        def verifier_reward(**kwargs: Any) -> list[float]:  # the name every arm logs its reward under
            return self.reward(**kwargs)

        self.reward_func: Callable[..., list[float]] = verifier_reward

    @classmethod
    def for_corpus(cls, tasks: Sequence[Task]) -> EpisodeTraining | None:
        """Episode training for a corpus that has live episodes; None keeps TRL's single-turn path."""
        return cls(tasks) if uses_live_episodes(tasks) else None

    def dataset(self):  # type: ignore[no-untyped-def]
        """Conversational prompts whose first message names its task (TASK_KEY)."""
        from datasets import Dataset

        rows = [
            {"prompt": [{**m, TASK_KEY: t.id} if k == 0 else dict(m) for k, m in enumerate(t.messages)]}
            for t in self.corpus
        ]
        return Dataset.from_list(rows)

    def task_of(self, prompt: Sequence[dict[str, Any]]) -> Task:
        task_id = prompt[0].get(TASK_KEY) if prompt else None
        if task_id not in self.tasks:
            raise KeyError(f"training prompt names no task of this corpus ({TASK_KEY}={task_id!r})")
        return self.tasks[task_id]

    def rollout_func(self, prompts: list[list[dict[str, Any]]], trainer: Any) -> dict[str, list[Any] | None]:
        """TRL's rollout hook: the prompts arrive already repeated `num_generations` times, one per episode."""
        played = play_episodes(
            [self.task_of(p) for p in prompts], ChatTokens(trainer.processing_class), trainer_generation(trainer)
        )
        logprobs = [p.transcript.logprobs for p in played]
        return {
            "prompt_ids": [p.transcript.prompt_ids for p in played],
            "completion_ids": [p.transcript.completion_ids for p in played],
            "logprobs": None if any(lp is None for lp in logprobs) else logprobs,
            "env_mask": [p.transcript.env_mask for p in played],
            "episode": [json.dumps(p.episode.completion()) for p in played],
            "tool_calls": [p.tool_calls for p in played],
            "turns": [p.transcript.turns for p in played],
        }

    def reward(
        self,
        prompts: Sequence[Any],
        episode: Sequence[str],
        tool_calls: Sequence[int],
        turns: Sequence[int],
        log_metric: Callable[[str, float], None] | None = None,
        **_: Any,
    ) -> list[float]:
        """The task's own verifier on each episode's completion; logs episodes, tool calls and turns per step."""
        if log_metric is not None:
            log_metric("episodes", float(len(episode)))
            log_metric("tool_calls", float(sum(tool_calls)))
            log_metric("turns", sum(turns) / max(len(turns), 1))
        return [verify(self.task_of(p), json.loads(e)).reward for p, e in zip(prompts, episode, strict=True)]
