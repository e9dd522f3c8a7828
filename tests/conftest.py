"""Shared fixtures: a tiny-model pipeline config and one materialized sweep reused across tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _torch_threads_per_worker() -> int:
    """This machine's cores shared out among the pytest-xdist workers (`make test` runs two). Oversubscribed
    OpenMP threads spin and slow every worker: two workers of two torch threads on two cores made the SmolLM2
    end-to-end test take 375 s instead of about 150."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    return max(1, len(os.sched_getaffinity(0)) // workers)


TORCH_THREADS = _torch_threads_per_worker()

TINY = {
    "model": {"source": "tiny", "device": "cpu", "torch_threads": TORCH_THREADS},
    "sampling": {"max_new_tokens": 8, "batch_size": 64},
    # a random model never answers: a band starting at 0 lets V_solve pass so augmented arms have variants
    "gate": {"samples": 8, "pass_at": 4, "solve_band": [0.0, 0.95], "min_informative_fraction": 0.0},
    "operators": {"resample_draws": 2},
    "arms": {"human_sizes": [4, 8], "aug_fractions": [0.5]},
    "training": {"max_steps": 2, "num_generations": 2, "max_new_tokens": 8, "seeds": [0]},
    "eval": {"max_new_tokens": 8, "bootstrap_samples": 100, "suites": ["smoke", "paper10"], "limit": 2},
    "economics": {"cost_ratios": [5, 40]},
}


def pytest_configure(config: pytest.Config) -> None:
    """The tests run as `rlvr-assets` does: with Ctrl-C and `kill` working even when the suite was started in
    the background of a script (otherwise in-process Dagster runs leave SIGTERM ignored, and the `make ui`
    and training processes the tests start inherit that)."""
    from rlvr_assets.cli import restore_interrupt_handling

    restore_interrupt_handling()


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups off the items
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`make test`) every test of the shared `tiny_sweep` runs on one worker, so the sweep
    is built once, not once per worker."""
    for item in items:
        if "tiny_sweep" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("tiny_sweep"))


def write_config(directory: Path, overrides: dict | None = None, base: dict | None = None) -> Path:
    data = {**(base or TINY), **(overrides or {})}
    data["paths"] = {
        "seeds_dir": str(ROOT / "seeds"),
        "smoke_suite": str(ROOT / "heldout" / "smoke_reasoning.jsonl"),
        "var_dir": str(directory / "var"),
        **data.get("paths", {}),
    }
    path = directory / "pipeline.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="session")
def tiny_sweep(tmp_path_factory: pytest.TempPathFactory):
    """One full sweep with the tiny model against a persistent temp Dagster instance."""
    import dagster as dg

    from rlvr_assets.core.config import load_config
    from rlvr_assets.definitions import build_definitions
    from rlvr_assets.sweep import run_sweep

    directory = tmp_path_factory.mktemp("tiny_sweep")
    cfg = load_config(write_config(directory))
    (directory / "dagster_home").mkdir()
    instance = dg.DagsterInstance.local_temp(str(directory / "dagster_home"))
    timings = run_sweep(build_definitions(cfg), cfg, instance, echo=lambda _msg: None)
    yield {"cfg": cfg, "instance": instance, "timings": timings, "dir": directory}
    instance.dispose()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Agreement rates with the benchmarks' own scorers (tests/test_conformance.py), shown in every run."""
    reports = [r for key in ("passed", "failed") for r in terminalreporter.stats.get(key, [])]
    lines = [str(value) for r in reports for name, value in getattr(r, "user_properties", []) if name == "conformance"]
    if lines:
        terminalreporter.write_sep("-", "agreement with the benchmarks' own scorers")
        for line in lines:
            terminalreporter.write_line(line)
