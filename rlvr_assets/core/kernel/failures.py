"""Typed failures: what the core returns instead of a value when it cannot produce one.

A function that may not produce a result returns `T | Rejected`; callers test with `isinstance(x, Rejected)`
and keep the reason (it ends up in the gate funnel, the attempt log or the CLI), never a bare string.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rejected:
    """Why something could not be produced (an operator that does not apply, a replay that failed, ...)."""

    reason: str

    def __str__(self) -> str:
        return self.reason
