"""The cost ratio r = c_human / c_aug: kept in the kernel because the gate's cost table (the measured ratio)
and the economics (every rho_cost row) both go through it."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class CostRatio:
    """r = c_human / c_aug with where it comes from ('configured', 'measured', 'audited', ...)."""

    value: float
    label: str = "configured"


def cost_ratio(c_human: float, c_aug: float, label: str = "measured") -> CostRatio | None:
    """The one place c_aug enters rho_cost: r = c_human / c_aug (None unless both are finite and > 0). An
    audited c_aug (c_aug / precision of the gate) gives a second row through the same function."""
    if not (math.isfinite(c_human) and math.isfinite(c_aug) and c_human > 0 and c_aug > 0):
        return None
    r = c_human / c_aug
    return CostRatio(r, label) if math.isfinite(r) else None
