"""Episodes: how one rollout of one task unfolds, turn by turn, for every caller (gate, evaluation, training).

An episode holds the conversation so far. The rollout loop (core/policy/rollouts.py) asks every live episode for
its `messages`, samples one assistant turn for each in one batch, and hands the text back to `advance`,
which appends the assistant turn and whatever the task answers with (tool results, the next user turn)
or ends the episode. `completion()` is what the task's verifier scores. Domains create their episodes
(`Domain.start_episode`), so a new kind of interaction is a new Episode, not a new branch in the loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

Message = dict[str, str]


class Episode(Protocol):
    """One rollout in progress."""

    messages: list[Message]
    done: bool

    def advance(self, text: str) -> None:
        """Take the policy's next turn; append what comes back, or end the episode."""
        ...

    def completion(self) -> str | list[str]:
        """What the verifier scores: the single completion, or the assistant's turns."""
        ...


@dataclass
class SingleTurn:
    """One prompt, one completion."""

    messages: list[Message]
    done: bool = False
    text: str = ""

    def advance(self, text: str) -> None:
        self.text, self.done = text, True

    def completion(self) -> str:
        return self.text


@dataclass
class ToolEpisode:
    """A live tool-use episode against one of the project's simulated environments: each assistant turn's
    tool calls run in a fresh copy of the task's environment and their results come back as tool turns,
    until the model answers without a call or `max_turns` is reached."""

    messages: list[Message]
    environment: object  # environments.Episode (kept untyped here: this module imports no domain code)
    max_turns: int
    done: bool = False
    turns: list[str] = field(default_factory=list)

    def advance(self, text: str) -> None:
        self.turns.append(text)
        results = self.environment.step(text)  # type: ignore[attr-defined]
        self.messages = [
            *self.messages,
            {"role": "assistant", "content": text},
            *({"role": "tool", "content": r} for r in results),
        ]
        self.done = not results or len(self.turns) >= self.max_turns

    def completion(self) -> list[str]:
        return list(self.turns)
