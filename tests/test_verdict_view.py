"""The verdict comes before the numbers and never outruns the evidence; the HTML report is one file."""

from __future__ import annotations

import re
from pathlib import Path

from rlvr_assets.core.economics.trade_stats import Decision
from rlvr_assets.core.economics.verdict_view import (
    short_summary,
    verdict_reasons,
    verdict_rows,
    verdict_table,
    write_report_html,
)


def _decision(
    arm: str,
    rho: float | None,
    low: float | None,
    high: float | None,
    verdict: str,
    reason: str,
    identified: bool | None,
) -> Decision:
    ratio = 10.0
    return Decision(
        arm=arm,
        estimator="dominance_bound",
        primary=True,
        cost_ratio=ratio,
        ratio_label="configured",
        rho=rho,
        rho_low=low,
        rho_high=high,
        rho_cost=None if rho is None else rho * ratio,
        rho_cost_low=None if low is None else low * ratio,
        rho_cost_high=None if high is None else high * ratio,
        p_rho_cost_above_1=None,
        verdict=verdict,
        reason=reason,
        identified=identified,
        rests_on="items within benchmarks",
    )


def _rows() -> list:
    return verdict_rows(
        [
            _decision("aug-a", 0.5, 0.3, 0.7, "pays", "rho_cost >= 3 at one-sided 95%", True),
            _decision("aug-b", 0.01, 0.005, 0.02, "does not pay", "rho_cost <= 0.2 at one-sided 95%", True),
            _decision("aug-c", 0.5, 0.01, 2.0, "cannot tell", "not identified: human curve flat within noise", False),
            _decision("aug-d", None, None, None, "cannot tell", "no estimate: extrapolation", None),
        ]
    )


def test_the_verdict_table_leads_with_the_statistics_verdict() -> None:
    rows = _rows()
    verdict = {r.arm: r.verdict for r in rows}
    assert verdict == {"aug-a": "pays", "aug-b": "does not pay", "aug-c": "cannot tell", "aug-d": "cannot tell"}
    assert "not identified: human curve flat" in {r.arm: r.why for r in rows}["aug-c"]
    table = verdict_table(rows)
    assert table.columns[:4] == ["arm", "r", "verdict", "identified"]  # the answer before the numbers
    assert table.row(0, named=True)["rho [CI]"] == "0.5 [0.3, 0.7]"
    compact = verdict_table(rows, compact=True)
    assert compact.columns == ["arm", "r", "verdict", "identified", "rho_cost low"]
    assert compact.row(0, named=True)["rho_cost low"] == "3"
    reasons = verdict_reasons(rows)
    assert "extrapolation" in reasons and "rho 0.5 [0.3, 0.7]" in reasons


def test_short_summary_keeps_whole_sentences() -> None:
    text = "First sentence here. " + "Second one is much longer " * 20 + "."
    assert short_summary(text, limit=60) == "First sentence here."


def test_html_report_is_self_contained_and_opens_with_the_verdict(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2], [1, 2])
    fig.savefig(tmp_path / "rho_cost.png")
    plt.close(fig)
    (tmp_path / "report.md").write_text(
        "# report\n\nsome **summary**\n\n## rho_cost\n![rho_cost against r](rho_cost.png)\n\n"
        "| arm | rho |\n|---|---|\n| aug-a | 0.5 |\n"
    )
    out = write_report_html(tmp_path / "report.md", verdict_table(_rows()))
    html = out.read_text()
    assert html.index("<h2>Verdict</h2>") < html.index("<h2>rho_cost</h2>")
    assert 'src="data:image/png;base64,' in html and not re.search(r'src="(?!data:)', html)
    assert "<td>aug-a</td><td>0.5</td>" in html and 'class="pays">pays<' in html


def test_ui_text_entries_are_broken_into_lines_that_fit_the_value_column() -> None:
    from rlvr_assets.defs.metadata import TEXT_WIDTH, wrapped_text

    text = "This run trained 5 arms: human-only with 4, 8, 16 tasks and 2 augmented ones. " * 4 + "\nsecond"
    lines = wrapped_text(text).value.splitlines()
    assert len(lines) > 4 and max(len(line) for line in lines) <= TEXT_WIDTH and lines[-1] == "second"
