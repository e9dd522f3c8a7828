"""`Verdict`: a reward and why, the value every verifier of every domain returns."""

from __future__ import annotations

from dataclasses import dataclass

_MAX_REASON = 300


@dataclass(frozen=True)
class Verdict:
    """A reward and why. The reason and the parsed answer are bounded (300 characters, then an ellipsis):
    they are for people and logs, and a 100 KB answer must not make a 100 KB reason."""

    reward: float
    reason: str
    parsed: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", bounded(self.reason))
        if self.parsed is not None:
            object.__setattr__(self, "parsed", bounded(self.parsed))


def bounded(text: str, limit: int = _MAX_REASON) -> str:
    """`text` cut to `limit` characters, the cut marked with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
