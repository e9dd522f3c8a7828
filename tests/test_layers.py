"""The layers of `rlvr_assets/core/`: which package may import which, no import circle, and the few facts the
schema keeps beside the code it must not import."""

from __future__ import annotations

from pathlib import Path

from rlvr_assets.core.config import PAPER10_BENCHMARKS
from rlvr_assets.core.evaluation.benchmarks import registry


def test_the_schema_knows_exactly_the_benchmarks_the_registry_serves() -> None:
    """config.py checks `eval.benchmarks` against its own list (it imports nothing from core/), so that list
    must be the registry's paper10, in order."""
    assert tuple(b.name for b in registry(Path("."))["paper10"]) == PAPER10_BENCHMARKS
