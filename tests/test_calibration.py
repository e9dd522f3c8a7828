"""A few simulated studies with a known truth through the pipeline's estimators (perf/calibration.py runs
the full calibration): the intervals cover and the verdict is rarely wrong, with loose bounds."""

from rlvr_assets.core.economics.calibration import calibrate


def test_simulated_studies_are_covered_and_verdicts_rarely_false() -> None:
    row = calibrate(items=96, seeds=3, studies=24, samples=250, seed=1)
    assert row.rho_coverage >= 0.8
    assert row.rho_cost_lower_coverage >= 0.8
    assert row.false_pays <= 0.2
    assert row.false_identified <= 0.2
