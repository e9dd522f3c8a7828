"""Lineage of one arm: every task it trains on, where it came from and why the gate let it in.

Answers "which variants, from which seeds, by which operators, accepted why" from the tables the pipeline
already writes (`training_corpus`, `seed_tasks`, `augmented_tasks`, `gate_results`), so an audit needs no
hand-written SQL. `rlvr-assets lineage` prints it and the `training_corpus` asset shows it as metadata.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl

from rlvr_assets.core.gate.factors import FACTORS
from rlvr_assets.core.kernel.failures import Rejected
from rlvr_assets.core.store.storage import read_frame

Origin = Literal["seed", "variant"]


@dataclass(frozen=True)
class FactorVerdict:
    """One gate factor's verdict on one variant: pass/fail, its measured value and the reason."""

    factor: str
    passed: bool
    value: float | None
    reason: str


@dataclass(frozen=True)
class LineageRow:
    """One training task of the arm. Seeds have no operator, parent or gate verdicts."""

    task_id: str
    name: str
    domain: str
    origin: Origin
    split: str | None
    operator: str | None
    operator_version: str | None
    rng_seed: int | None
    parent_id: str | None
    parent_name: str | None
    seed_name: str
    accepted: bool | None = None
    decision_reason: str | None = None
    factors: tuple[FactorVerdict, ...] = ()


@dataclass(frozen=True)
class RejectedVariant:
    """A variant of one of the arm's parents that did not make it: refused by the gate (with every factor's
    verdict) or dropped by its operator (e.g. identical to another operator's variant)."""

    task_id: str | None
    name: str | None
    stage: Literal["gate", "operator"]
    operator: str | None
    operator_version: str | None
    rng_seed: int | None
    parent_id: str
    parent_name: str | None
    failed_factors: tuple[str, ...]
    reason: str
    factors: tuple[FactorVerdict, ...] = ()


@dataclass(frozen=True)
class ArmLineage:
    arm: str
    seed_filter: str | None
    tasks: tuple[LineageRow, ...]
    rejected: tuple[RejectedVariant, ...] | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _factors(gate: pl.DataFrame) -> dict[str, tuple[FactorVerdict, ...]]:
    order = {f: i for i, f in enumerate(FACTORS)}
    out: dict[str, list[FactorVerdict]] = {}
    for row in gate.iter_rows(named=True):
        out.setdefault(row["variant_id"], []).append(
            FactorVerdict(row["factor"], bool(row["passed"]), row["value"], row["reason"] or "")
        )
    return {k: tuple(sorted(v, key=lambda f: order.get(f.factor, len(order)))) for k, v in out.items()}


def _decisions(gate: pl.DataFrame) -> dict[str, tuple[bool, str]]:
    first = gate.unique(subset=["variant_id"], keep="first", maintain_order=True)
    return {r["variant_id"]: (bool(r["accepted"]), r["decision_reason"] or "") for r in first.iter_rows(named=True)}


def _matches(seed_filter: str, row: LineageRow | RejectedVariant, names: dict[str, str]) -> bool:
    """A seed is named by its name, its content id or a unique-looking id prefix."""
    if isinstance(row, LineageRow) and row.origin == "seed":
        root_id, root_name = row.task_id, row.name
    else:
        root_id, root_name = row.parent_id or "", names.get(row.parent_id or "", "")
    return seed_filter in (root_id, root_name) or (len(seed_filter) >= 6 and root_id.startswith(seed_filter))


def arm_lineage(
    arm: str,
    corpus: pl.DataFrame,
    seeds: pl.DataFrame,
    augmented: pl.DataFrame,
    gate: pl.DataFrame,
    *,
    seed_filter: str | None = None,
    with_rejected: bool = False,
) -> ArmLineage | Rejected:
    """The lineage of `arm` from its corpus rows (one partition of `training_corpus`) and the task tables.

    `seed_filter` keeps one seed (name or content id) and its variants; `with_rejected` adds, for every parent
    in the result, the variants that were proposed from it and refused, with their reasons."""
    if corpus.height == 0:
        return Rejected(f"arm {arm!r} has no training_corpus rows; materialize training_corpus[{arm}] first")
    names = dict(zip(seeds["task_id"].to_list(), seeds["name"].to_list(), strict=True))
    names |= {r["task_id"]: r["name"] for r in augmented.filter(pl.col("task_id").is_not_null()).iter_rows(named=True)}
    verdicts, decisions = _factors(gate), _decisions(gate)
    rows = []
    for r in corpus.iter_rows(named=True):
        variant = r["origin"] == "augmented"
        accepted, why = decisions.get(r["task_id"], (None, None)) if variant else (None, None)
        parent = r["parent_id"] if variant else None
        rows.append(
            LineageRow(
                task_id=r["task_id"],
                name=r["name"],
                domain=r["domain"],
                origin="variant" if variant else "seed",
                split=r["split"],
                operator=r["operator"] if variant else None,
                operator_version=r["operator_version"] if variant else None,
                rng_seed=r["rng_seed"] if variant else None,
                parent_id=parent,
                parent_name=names.get(parent) if parent else None,
                seed_name=(names.get(parent) or parent or "") if variant else r["name"],
                accepted=accepted,
                decision_reason=why,
                factors=verdicts.get(r["task_id"], ()) if variant else (),
            )
        )
    if seed_filter is not None:
        rows = [row for row in rows if _matches(seed_filter, row, names)]
        if not rows:
            return Rejected(f"arm {arm!r} trains on no task from seed {seed_filter!r} (give a seed name or content id)")
    rows.sort(key=lambda row: (row.seed_name, row.origin != "seed", row.operator or "", row.task_id))
    rejected = _rejected(rows, augmented, verdicts, decisions, names) if with_rejected else None
    counts = {
        "tasks": len(rows),
        "seeds": sum(r.origin == "seed" for r in rows),
        "variants": sum(r.origin == "variant" for r in rows),
    }
    if rejected is not None:
        counts["rejected"] = len(rejected)
    return ArmLineage(arm, seed_filter, tuple(rows), rejected, counts)


def _rejected(
    rows: Sequence[LineageRow],
    augmented: pl.DataFrame,
    verdicts: dict[str, tuple[FactorVerdict, ...]],
    decisions: dict[str, tuple[bool, str]],
    names: dict[str, str],
) -> tuple[RejectedVariant, ...]:
    """Variants proposed from the rows' parents (a seed is its variants' parent) that were refused."""
    parents = {r.task_id for r in rows if r.origin == "seed"} | {r.parent_id for r in rows if r.parent_id}
    out = []
    for a in augmented.filter(pl.col("parent_id").is_in(list(parents))).iter_rows(named=True):
        common = {
            "task_id": a["task_id"],
            "name": a["name"],
            "operator": a["operator"],
            "operator_version": a["operator_version"],
            "rng_seed": a["rng_seed"],
            "parent_id": a["parent_id"],
            "parent_name": names.get(a["parent_id"]),
        }
        if a["status"] == "failed" and a["task_id"] is not None:
            out.append(RejectedVariant(stage="operator", failed_factors=(), reason=a["reason"] or "", **common))
        elif a["status"] == "proposed" and a["task_id"] in decisions and not decisions[a["task_id"]][0]:
            factors = verdicts.get(a["task_id"], ())
            failed = tuple(f.factor for f in factors if not f.passed)
            out.append(
                RejectedVariant(
                    stage="gate",
                    failed_factors=failed,
                    reason=decisions[a["task_id"]][1],
                    factors=factors,
                    **common,
                )
            )
    out.sort(key=lambda v: (v.parent_name or v.parent_id, v.stage, v.operator or "", v.task_id or ""))
    return tuple(out)


def load_arm_lineage(
    database: Path, arm: str, *, seed_filter: str | None = None, with_rejected: bool = False
) -> ArmLineage | Rejected:
    """`arm_lineage` over the DuckDB tables of a materialized run."""
    try:  # read-only: a reader creates nothing (no var directory, no empty database) and never takes the write lock
        corpus = read_frame(database, "training_corpus", [arm], read_only=True)
        seeds = read_frame(database, "seed_tasks", read_only=True)
        augmented = read_frame(database, "augmented_tasks", read_only=True)
        gate = read_frame(database, "gate_results", read_only=True)
    except LookupError as exc:
        return Rejected(f"{exc} (run `rlvr-assets run` first)")
    except RuntimeError as exc:  # locked by a running pipeline, or not a database
        return Rejected(str(exc))
    if corpus.height == 0:
        with_rows = read_frame(database, "training_corpus", read_only=True)
        known = sorted(set(with_rows["arm"].to_list())) if with_rows.height else []
        return Rejected(f"no arm {arm!r} in training_corpus of {database}; materialized arms: {known}")
    return arm_lineage(arm, corpus, seeds, augmented, gate, seed_filter=seed_filter, with_rejected=with_rejected)


def factor_summary(factors: Iterable[FactorVerdict]) -> str:
    """`verify ✓ 1 (reason); solve ✗ 0.125 (reason); ...`: every factor with its full reason."""
    parts = []
    for f in factors:
        value = "" if f.value is None else f" {f.value:.3g}"
        parts.append(f"{f.factor} {'pass' if f.passed else 'FAIL'}{value} ({f.reason})")
    return "; ".join(parts)


def lineage_frame(lineage: ArmLineage) -> pl.DataFrame:
    """One row per training task, the full reasons kept: the table the UI and `--json`-less CLI show (a variant's
    name is its seed, operator and rng seed, so it is left out to keep the table narrow)."""
    schema = {
        "task_id": pl.String,
        "origin": pl.String,
        "seed": pl.String,
        "operator": pl.String,
        "rng_seed": pl.Int64,
        "parent": pl.String,
        "gate": pl.String,
    }
    rows = [
        {
            "task_id": r.task_id,
            "origin": r.origin,
            "seed": r.seed_name,
            "operator": f"{r.operator}@{r.operator_version}" if r.operator else None,
            "rng_seed": r.rng_seed,
            "parent": r.parent_name or r.parent_id,
            "gate": (f"{'accepted' if r.accepted else 'rejected'}: {factor_summary(r.factors)}")
            if r.origin == "variant"
            else "seed (not gated)",
        }
        for r in lineage.tasks
    ]
    return pl.DataFrame(rows, schema=schema)


def rejected_frame(rejected: Sequence[RejectedVariant]) -> pl.DataFrame:
    schema = {
        "parent": pl.String,
        "stage": pl.String,
        "task_id": pl.String,
        "operator": pl.String,
        "rng_seed": pl.Int64,
        "failed_factors": pl.String,
        "reason": pl.String,
    }
    rows = [
        {
            "parent": v.parent_name or v.parent_id,
            "stage": v.stage,
            "task_id": v.task_id,
            "operator": f"{v.operator}@{v.operator_version}" if v.operator else None,
            "rng_seed": v.rng_seed,
            "failed_factors": ",".join(v.failed_factors),
            "reason": factor_summary(f for f in v.factors if not f.passed) if v.factors else v.reason,
        }
        for v in rejected
    ]
    return pl.DataFrame(rows, schema=schema)


__all__ = [
    "ArmLineage",
    "FactorVerdict",
    "LineageRow",
    "RejectedVariant",
    "arm_lineage",
    "factor_summary",
    "lineage_frame",
    "load_arm_lineage",
    "rejected_frame",
]
