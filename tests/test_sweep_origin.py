"""`rlvr-assets run` launches runs the UI can see: each carries the origin of the code location workspace.yaml
names (the one `make ui` serves), so the Overview timeline, the Jobs page and the asset pages list it."""

from __future__ import annotations

import dagster as dg

from rlvr_assets.sweep import SWEEP_TAG


def test_every_sweep_run_carries_the_code_location_origin(tiny_sweep) -> None:
    from dagster._core.workspace.load import location_origins_from_yaml_paths

    from tests.conftest import ROOT

    (location,) = location_origins_from_yaml_paths([str(ROOT / "workspace.yaml")])
    runs = [r for r in tiny_sweep["instance"].get_runs() if SWEEP_TAG in r.tags]
    assert len(runs) >= 5, "the tiny sweep launches prepare, corpus, training, trade-rate, rho_cost and report runs"
    for run in runs:
        origin = run.remote_job_origin
        assert origin is not None, f"{run.job_name} ({run.run_id}) has no code location origin"
        assert origin.location_name == location.location_name == "rlvr_assets.definitions"
        assert origin.repository_origin.repository_name == "__repository__" and origin.job_name == run.job_name
        assert run.status == dg.DagsterRunStatus.SUCCESS
    partitioned = [r for r in runs if r.job_name == "train_arm_job"]
    assert partitioned and all(r.tags.get("dagster/partition") for r in partitioned)
