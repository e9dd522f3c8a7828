"""Long stages show progress (counted units, rate, ETA) without flooding a log file."""

from __future__ import annotations

import time
from pathlib import Path

import dagster as dg

from rlvr_assets.core.kernel.progress import ProgressPrinter, ProgressTracker


def test_tracker_reads_counters_and_estimates_rate_and_eta() -> None:
    tracker = ProgressTracker()
    assert tracker.observe("loaded 16 seeds", 0.0) is None
    first = tracker.observe("gate rollouts 10/110", 0.0)
    assert first is not None and first.rate is None and first.eta_seconds is None
    later = tracker.observe("gate rollouts 60/110", 10.0)
    assert later is not None and later.kind == "gate rollouts" and later.rate == 5.0 and later.eta_seconds == 10.0
    step = tracker.observe("arm human-4 seed 0 step 2/8: reward 0.1", 5.0)
    assert step is not None and step.kind == "arm human-4 seed 0 step" and step.done == 2
    assert "ETA 10s" in later.describe() and "5/s" in later.describe()


def test_a_log_file_gets_a_throttled_heartbeat_a_terminal_one_line_in_place() -> None:
    tracker = ProgressTracker()
    out: list[str] = []
    log = ProgressPrinter(out.append, interactive=False, log_interval=30)
    for second in range(0, 301):
        reading = tracker.observe(f"eval seed 0: {second // 3}/100 items", float(second))
        log.update("train_arm_job[human-4]", float(second), reading, float(second))
    assert 8 <= len(out) <= 10, out  # every 30 s over 300 s, never more
    assert all(line.endswith("\n") and "\r" not in line for line in out)
    assert "eval seed 0 99/100" not in out[0] and "ETA" in out[-1]
    tty: list[str] = []
    term = ProgressPrinter(tty.append, interactive=True)
    assert term.update("stage", 5.0, None, 5.0) and tty[-1].startswith("\r\033[K")
    term.clear()
    assert tty[-1] == "\r\033[K"


def test_the_sweep_heartbeat_reads_a_running_run_of_the_sweep(tmp_path: Path) -> None:
    from rlvr_assets.sweep import SWEEP_TAG, _Heartbeat, sweep_owner

    @dg.op
    def score(context) -> None:  # type: ignore[no-untyped-def]
        for done in range(1, 6):
            time.sleep(0.5)
            context.log.info(f"scored {done}/5 items")

    @dg.job
    def scoring_job() -> None:
        score()

    out: list[str] = []
    printer = ProgressPrinter(out.append, interactive=False, log_interval=0.6)
    instance = dg.DagsterInstance.local_temp(str(tmp_path))
    with instance, _Heartbeat(instance, sweep_owner(), printer, period=0.2):
        assert scoring_job.execute_in_process(instance=instance, tags={SWEEP_TAG: sweep_owner()}).success
    lines = [line for line in out if "scored" in line]
    assert lines and lines[-1].startswith("   ... scoring_job: ") and "/5 items" in lines[-1], out
    assert any("ETA" in line for line in lines), out
