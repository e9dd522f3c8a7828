"""Per-item scores from lm-evaluation-harness `--log_samples` output, as item-level CSV rows.

lm-eval writes, per model run, one `samples_<task>_<timestamp>.jsonl` per task: one record per document with
`doc_id`, the metric values under the metric's name (e.g. `"exact_match": 1.0`), and `filter` when the task
has several answer filters. A small YAML says which arm, training size and seed each output directory is:

    metric: exact_match        # optional: default when a record lists several metrics
    filter: strict-match       # optional: which filter's rows, when a task has several
    runs:
      - {path: out/human-4-seed0, arm: human-4, n_human: 4, n_aug: 0, seed: 0}
      - {path: out/aug-0.50-seed0, arm: aug-0.50, n_human: 4, n_aug: 4, seed: 0}

and the rows are exactly the item-level CSV's (`arm,n_human,n_aug,seed,benchmark,item,reward`): benchmark is
the lm-eval task, item its `doc_id`. Anything that cannot be mapped is one LmEvalMapError naming the file,
the line and the field; nothing is written then.
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any

import yaml

ITEM_COLUMNS = ("arm", "n_human", "n_aug", "seed", "benchmark", "item", "reward")
_SAMPLES = re.compile(r"^samples_(?P<task>.+)_(?P<stamp>\d{4}-\d{2}-\d{2}T[0-9.\-]+)\.jsonl$")


class LmEvalMapError(ValueError):
    """A map file or an lm-eval samples file that cannot be turned into item scores (one line, names where)."""


@dataclass(frozen=True, order=True)
class ItemScore:
    """One item's reward for one trained arm and seed: a row of the item-level CSV."""

    arm: str
    n_human: int
    n_aug: int
    seed: int
    benchmark: str
    item: str
    reward: float


@dataclass(frozen=True)
class RunMap:
    path: Path
    arm: str
    n_human: int
    n_aug: int
    seed: int
    metric: str | None
    filter: str | None


def _int(value: Any, where: str, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise LmEvalMapError(f"{where}: field '{field}': must be a non-negative integer, got {value!r}")
    return value


def parse_map(path: Path) -> list[RunMap]:
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise LmEvalMapError(f"{path}: cannot read the map: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise LmEvalMapError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("runs"), list) or not raw["runs"]:
        raise LmEvalMapError(f"{path}: field 'runs': expected a non-empty list of {{path, arm, n_human, n_aug, seed}}")
    unknown = set(raw) - {"runs", "metric", "filter"}
    if unknown:
        raise LmEvalMapError(f"{path}: field '{sorted(unknown)[0]}': unknown key (runs, metric, filter)")
    runs: list[RunMap] = []
    seen: dict[tuple[str, int], int] = {}
    for i, run in enumerate(raw["runs"]):
        where = f"{path}: runs[{i}]"
        if not isinstance(run, dict):
            raise LmEvalMapError(f"{where}: expected a mapping, got {type(run).__name__}")
        for key in ("path", "arm", "n_human", "n_aug", "seed"):
            if run.get(key) in (None, ""):
                raise LmEvalMapError(f"{where}: field '{key}': required")
        extra = set(run) - {"path", "arm", "n_human", "n_aug", "seed", "metric", "filter"}
        if extra:
            raise LmEvalMapError(f"{where}: field '{sorted(extra)[0]}': unknown key")
        if not isinstance(run["arm"], str):
            raise LmEvalMapError(f"{where}: field 'arm': must be a string, got {run['arm']!r}")
        target = Path(str(run["path"]))
        target = target if target.is_absolute() else path.parent / target
        if not target.exists():
            raise LmEvalMapError(f"{where}: field 'path': no file or directory {target}")
        entry = RunMap(
            target,
            run["arm"],
            _int(run["n_human"], where, "n_human"),
            _int(run["n_aug"], where, "n_aug"),
            _int(run["seed"], where, "seed"),
            run.get("metric", raw.get("metric")),
            run.get("filter", raw.get("filter")),
        )
        key = (entry.arm, entry.seed)
        if key in seen:
            raise LmEvalMapError(
                f"{where}: field 'seed': arm {entry.arm} seed {entry.seed} already mapped by runs[{seen[key]}]"
            )
        seen[key] = i
        runs.append(entry)
    return runs


def samples_files(target: Path) -> dict[str, Path]:
    """task -> its samples file under `target` (a directory searched recursively, or one samples file)."""
    files = [target] if target.is_file() else sorted(target.glob("**/samples_*.jsonl"))
    out: dict[str, Path] = {}
    for f in files:
        m = _SAMPLES.match(f.name)
        if m is None:
            raise LmEvalMapError(f"{f}: not an lm-eval samples file name (samples_<task>_<timestamp>.jsonl)")
        task = m["task"]
        if task in out:
            raise LmEvalMapError(
                f"{f}: task {task} has two samples files here (also {out[task]}); keep one run per path"
            )
        out[task] = f
    if not out:
        raise LmEvalMapError(f"{target}: no lm-eval samples_*.jsonl files (run lm_eval with --log_samples)")
    return out


def _reward(record: dict[str, Any], metric: str | None, where: str) -> float:
    if metric is None:
        listed = record.get("metrics")
        if not (isinstance(listed, list) and len(listed) == 1 and isinstance(listed[0], str)):
            raise LmEvalMapError(f"{where}: field 'metrics': lists {listed!r}; set `metric:` in the map to pick one")
        metric = listed[0]
    if metric not in record:
        raise LmEvalMapError(f"{where}: field '{metric}': metric missing from the sample record")
    value = record[metric]
    if isinstance(value, bool):
        value = float(value)
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise LmEvalMapError(f"{where}: field '{metric}': not a finite number, got {value!r}")
    return float(value)


def read_samples(run: RunMap, task: str, path: Path) -> list[ItemScore]:
    out: list[ItemScore] = []
    seen: dict[str, int] = {}
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise LmEvalMapError(f"{path}: cannot read: {exc}") from None
    for n, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        where = f"{path}:{n}"
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise LmEvalMapError(f"{where}: field '<json>': invalid JSON: {exc.msg}") from None
        if not isinstance(record, dict):
            raise LmEvalMapError(f"{where}: field '<record>': expected a JSON object")
        if run.filter is not None and record.get("filter") != run.filter:
            continue
        doc_id = record.get("doc_id")
        if isinstance(doc_id, bool) or not isinstance(doc_id, int | str):
            raise LmEvalMapError(f"{where}: field 'doc_id': missing or not an id, got {doc_id!r}")
        item = str(doc_id)
        if item in seen:
            raise LmEvalMapError(
                f"{where}: field 'filter': doc_id {item} repeats line {seen[item]} "
                f"(filter {record.get('filter')!r}); set `filter:` in the map"
            )
        seen[item] = n
        out.append(ItemScore(run.arm, run.n_human, run.n_aug, run.seed, task, item, _reward(record, run.metric, where)))
    if not out:
        raise LmEvalMapError(f"{path}: no sample records" + (f" with filter {run.filter!r}" if run.filter else ""))
    return out


def read_lm_eval_map(path: Path) -> list[ItemScore]:
    """Every item score of every mapped run, sorted; raises LmEvalMapError on the first problem."""
    rows: list[ItemScore] = []
    for run in parse_map(path):
        for task, file in sorted(samples_files(run.path).items()):
            rows += read_samples(run, task, file)
    return sorted(rows)


def write_item_csv(rows: list[ItemScore], out: Path, *, force: bool = False) -> None:
    """The item-level CSV (`arm,n_human,n_aug,seed,benchmark,item,reward`); an existing file only with force."""
    if out.exists() and not force:
        raise LmEvalMapError(f"{out}: exists; not overwriting it (pass --force)")
    with out.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ITEM_COLUMNS)
        writer.writerows(astuple(r) for r in rows)


def write_arm_csv(rows: list[ItemScore], out: Path, *, force: bool = False) -> None:
    """The per-arm CSV `rlvr-assets economics` reads (`arm,n_human,n_aug,score`): each arm's mean reward over
    its seeds' per-benchmark means (benchmarks weigh equally, as in the pipeline's grand mean). No interval:
    the item-level rows are what a paired, seed-aware analysis resamples."""
    if out.exists() and not force:
        raise LmEvalMapError(f"{out}: exists; not overwriting it (pass --force)")
    cells: dict[tuple[str, int, int], dict[tuple[int, str], list[float]]] = {}
    for r in rows:
        cells.setdefault((r.arm, r.n_human, r.n_aug), {}).setdefault((r.seed, r.benchmark), []).append(r.reward)
    with out.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("arm", "n_human", "n_aug", "score"))
        for (arm, n_human, n_aug), groups in sorted(cells.items()):
            means = [sum(v) / len(v) for v in groups.values()]
            writer.writerow((arm, n_human, n_aug, round(sum(means) / len(means), 6)))
