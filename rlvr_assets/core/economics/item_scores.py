"""Item-level scores: one reward per (arm, training seed, held-out item), the input every paired, stratified,
seed-aware statistic in `core/economics/trade_stats.py` starts from.

The pipeline builds them from `benchmark_scores`; scores measured anywhere else come in as a CSV with exactly
the columns `arm,n_human,n_aug,seed,benchmark,item,reward` (one row per arm x seed x item, reward in [0, 1]).
An arm with n_human = 0 and n_aug = 0 is the untrained base model, the reference arm at n = 0.
Every arm and seed must score the same items (the comparison is paired), and an item belongs to one benchmark.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path

from rlvr_assets.core.economics.trade_rate import ArmsFileError, _read_text, csv_rows
from rlvr_assets.core.kernel.draws import ArmInfo as ArmInfo
from rlvr_assets.core.kernel.draws import ItemScores as ItemScores
from rlvr_assets.core.kernel.scoring import ArmShape

ITEM_COLUMNS = ("arm", "n_human", "n_aug", "seed", "benchmark", "item", "reward")
ARM_COLUMNS = ("arm", "n_human", "n_aug", "score")
MAX_COUNT = 10**9  # task counts and seeds above this are input errors, not studies (and would overflow floats)


class ItemScoresError(ArmsFileError):
    """A one-line problem with an item-level file: it names the file, the line and the column."""


def _header_kind(fieldnames: Sequence[str] | None) -> str:
    cols = {c.strip() for c in fieldnames or []}
    if "reward" in cols or "item" in cols:
        return "mixed" if "score" in cols else "item"
    return "arm"


def csv_kind(path: Path) -> str:
    """'item' for an item-level CSV, 'arm' for `arm,n_human,n_aug,score[,ci_low,ci_high]`, 'mixed' for a
    header that has both (an error); decided by the header alone."""
    text = _read_text(path)
    try:
        header = next(csv.reader(io.StringIO(text, newline="")), [])
    except csv.Error:
        return "arm"  # the arm reader reports the unreadable header
    return _header_kind(header)


def _count(value: str, where: str, minimum: int) -> int:
    try:
        parsed = int(value)
    except ValueError:
        raise ItemScoresError(f"{where}: {value[:40]!r} is not an integer") from None
    if parsed < minimum or parsed > MAX_COUNT:
        raise ItemScoresError(f"{where}: {value[:40]!r} is outside [{minimum}, {MAX_COUNT}]")
    return parsed


def load_item_scores(path: Path) -> ItemScores:
    """Read an item-level CSV (`ITEM_COLUMNS`); every bad row is a one-line `ItemScoresError` naming the line
    and the column (reward outside [0, 1], an arm whose items differ from the others', mixed levels)."""
    reader = csv.DictReader(io.StringIO(_read_text(path), newline=""))
    try:
        header = [c.strip() for c in reader.fieldnames or []]
    except csv.Error as exc:
        raise ItemScoresError(f"{path}:1: not a readable CSV header: {exc}") from None
    if _header_kind(header) == "mixed":
        raise ItemScoresError(f"{path}:1: mixed levels: the header has both 'score' (arm level) and item columns")
    missing = [c for c in ITEM_COLUMNS if c not in header]
    if missing:
        raise ItemScoresError(f"{path}:1: missing column(s) {missing}; need {','.join(ITEM_COLUMNS)}")
    shapes: dict[str, tuple[int, int, int]] = {}  # arm -> (n_human, n_aug, first line)
    bench_of: dict[str, tuple[str, int]] = {}
    cells: dict[str, dict[int, dict[str, float]]] = {}
    first_line: dict[tuple[str, int], int] = {}
    for line, row in csv_rows(reader, path, ItemScoresError):
        row = {(k or "").strip(): (v or "").strip() if isinstance(v, str) else "" for k, v in row.items()}
        arm = row["arm"]

        def where(col: str, arm: str = arm, line: int = line) -> str:
            return f"{path}:{line}: arm {arm[:40]!r}: column '{col}'"

        if not arm:
            raise ItemScoresError(f"{path}:{line}: column 'arm': empty arm name")
        n_human = _count(row["n_human"], where("n_human"), 0)
        n_aug = _count(row["n_aug"], where("n_aug"), 0)
        seed = _count(row["seed"], where("seed"), 0)
        item, bench = row["item"], row["benchmark"]
        if not item:
            raise ItemScoresError(f"{where('item')}: empty item id")
        try:
            reward = float(row["reward"])
        except ValueError:
            raise ItemScoresError(f"{where('reward')}: {row['reward'][:40]!r} is not a number") from None
        if not (math.isfinite(reward) and 0.0 <= reward <= 1.0):
            raise ItemScoresError(f"{where('reward')}: {row['reward'][:40]!r} is outside [0, 1]")
        known = shapes.setdefault(arm, (n_human, n_aug, line))
        if known[:2] != (n_human, n_aug):
            raise ItemScoresError(
                f"{where('n_human' if known[0] != n_human else 'n_aug')}: ({n_human}, {n_aug}) differs from "
                f"({known[0]}, {known[1]}) on line {known[2]}: one arm, one training set"
            )
        seen = bench_of.setdefault(item, (bench, line))
        if seen[0] != bench:
            raise ItemScoresError(
                f"{where('benchmark')}: item {item[:40]!r} is in benchmark {bench!r} here and {seen[0]!r} on line {seen[1]}"
            )
        per_item = cells.setdefault(arm, {}).setdefault(seed, {})
        if item in per_item:
            raise ItemScoresError(f"{where('item')}: item {item[:40]!r} of seed {seed} is scored twice")
        per_item[item] = reward
        first_line.setdefault((arm, seed), line)
    if not cells:
        raise ItemScoresError(f"{path}: no rows")
    items = sorted(bench_of)
    for (arm, seed), line in first_line.items():
        have = cells[arm][seed]
        if len(have) != len(items):
            lacking = next(i for i in items if i not in have)
            raise ItemScoresError(
                f"{path}:{line}: arm {arm[:40]!r}: column 'item': seed {seed} has {len(have)} of the {len(items)} items "
                f"(no {lacking[:40]!r}); every arm and seed must score the same items"
            )
    bases = [a for a, (h, g, _) in shapes.items() if h == 0 and g == 0]
    if len(bases) > 1:
        raise ItemScoresError(
            f"{path}:{shapes[bases[1]][2]}: arm {bases[1][:40]!r}: column 'n_human': a second base-model arm "
            f"(n_human = n_aug = 0; the first is {bases[0][:40]!r})"
        )
    humans: dict[int, str] = {}
    for a, (h, g, line) in shapes.items():
        if g == 0 and h > 0:
            if h in humans:
                raise ItemScoresError(
                    f"{path}:{line}: arm {a[:40]!r}: column 'n_human': a human-only arm with n_human = {h} is already "
                    f"{humans[h][:40]!r}"
                )
            humans[h] = a
    if not humans:
        raise ItemScoresError(f"{path}: no human-only arm (n_aug = 0, n_human > 0) to form the human curve")
    arms = {a: ArmShape(h, g, g > 0) for a, (h, g, _) in shapes.items()}
    return ItemScores.from_rewards(arms, cells, {i: b for i, (b, _) in bench_of.items()})
