"""The gate funnel: attempts -> proposed -> passed each factor -> accepted, per operator."""

from __future__ import annotations

import polars as pl

from rlvr_assets.core.gate.factors import FACTORS


def funnel_frame(augmented: pl.DataFrame, gate: pl.DataFrame) -> pl.DataFrame:
    """attempts -> proposed -> passed each factor -> accepted, per operator (and an 'all' row)."""
    attempts = augmented.group_by("operator").agg(
        pl.len().alias("attempts"), (pl.col("status") == "proposed").sum().alias("proposed")
    )
    if gate.height:
        factors = gate.group_by("operator").agg(
            *[(pl.col("passed") & (pl.col("factor") == f)).sum().alias(f"pass_{f}") for f in FACTORS],
            (pl.col("accepted") & (pl.col("factor") == "verify")).sum().alias("accepted"),
        )
        out = attempts.join(factors, on="operator", how="left").fill_null(0)
    else:
        out = attempts.with_columns(*[pl.lit(0).alias(f"pass_{f}") for f in FACTORS], pl.lit(0).alias("accepted"))
    total = out.select(pl.lit("all").alias("operator"), *[pl.col(c).sum() for c in out.columns if c != "operator"])
    return pl.concat([out.sort("operator"), total], how="vertical_relaxed")
