"""Corpus export: an arm's gated training corpus (and the held-out suite, kept apart) in the schema of the
trainer a team already runs.

- `verl`: train.parquet / heldout.parquet with verl's columns (`data_source`, `prompt` as chat messages,
  `ability`, `reward_model` {style, ground_truth}, `extra_info` with the lineage) and `reward_fn.py`, a verl
  custom reward function (`compute_score`) that calls the project's verifiers;
- `hf`: a `datasets` DatasetDict directory (train / heldout) that TRL's GRPOTrainer takes as is, a dataset
  card (README.md) and `rlvr_reward.py`, a GRPO reward function over the `task` column;
- `jsonl`: train.jsonl / heldout.jsonl (prompt messages, answer, full task JSON, lineage) for OpenRLHF-style
  readers;
- `verifiers`: a verifiers environment module (see core/interop/verifiers_export.py).

Every format carries the full task JSON, so the reward outside is the same verifier as inside. Export never
writes into a non-empty directory unless forced, and even forced never replaces a file it did not write
(its manifest, `rlvr_export.json`, lists what it wrote).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from rlvr_assets.core.tasks.model import Task

ExportFormat = Literal["verl", "hf", "jsonl", "verifiers"]
FORMATS: tuple[str, ...] = ("verl", "hf", "jsonl", "verifiers")
MANIFEST = "rlvr_export.json"
DATA_SOURCE = "rlvr_assets"


class ExportError(ValueError):
    """An export that cannot be written; the message names the directory or file and why."""


@dataclass(frozen=True)
class Lineage:
    """Where one exported task came from: its origin, parent, operator and the gate's verdicts."""

    origin: str  # "seed" or "variant" (held-out items: "heldout")
    parent_id: str | None = None
    operator: str | None = None
    operator_version: str | None = None
    gate_accepted: bool | None = None
    gate_verdicts: str = "[]"  # JSON list of {factor, passed, value, reason}


@dataclass(frozen=True)
class CorpusExport:
    """What to export: the arm's corpus with lineage, the held-out items and what the card reports."""

    arm: str
    train: Sequence[Task]
    heldout: Sequence[Task]
    lineage: Mapping[str, Lineage] = field(default_factory=dict)
    licences: Mapping[str, str] = field(default_factory=dict)  # source -> licence
    funnel: Mapping[str, int] = field(default_factory=dict)  # e.g. variants proposed / rejected by the gate


def _lineage(export: CorpusExport, task: Task, split: str) -> Lineage:
    if split == "heldout":
        return Lineage("heldout")
    return export.lineage.get(task.id) or Lineage(
        "variant" if task.provenance.kind == "augmented" else "seed",
        task.provenance.parent_id,
        task.provenance.operator,
        task.provenance.operator_version,
    )


def _extra_info(export: CorpusExport, task: Task, index: int, split: str) -> dict[str, Any]:
    lin = _lineage(export, task, split)
    return {
        "split": split,
        "index": index,
        "arm": export.arm,
        "task_id": task.id,
        "name": task.name,
        "origin": lin.origin,
        "parent_id": lin.parent_id,
        "operator": lin.operator,
        "operator_version": lin.operator_version,
        "gate_accepted": lin.gate_accepted,
        "gate_verdicts": lin.gate_verdicts,
        "task_json": task.to_json(),
    }


def verl_rows(export: CorpusExport, split: str) -> list[dict[str, Any]]:
    tasks = export.train if split == "train" else export.heldout
    return [
        {
            "data_source": DATA_SOURCE,
            "prompt": t.messages,
            "ability": t.domain,
            "reward_model": {"style": "rule", "ground_truth": t.truth_key},
            "extra_info": _extra_info(export, t, i, split),
        }
        for i, t in enumerate(tasks)
    ]


def _verl_schema():  # type: ignore[no-untyped-def]
    import pyarrow as pa

    message = pa.struct([("role", pa.string()), ("content", pa.string())])
    extra = pa.struct(
        [
            ("split", pa.string()),
            ("index", pa.int64()),
            ("arm", pa.string()),
            ("task_id", pa.string()),
            ("name", pa.string()),
            ("origin", pa.string()),
            ("parent_id", pa.string()),
            ("operator", pa.string()),
            ("operator_version", pa.string()),
            ("gate_accepted", pa.bool_()),
            ("gate_verdicts", pa.string()),
            ("task_json", pa.string()),
        ]
    )
    return pa.schema(
        [
            ("data_source", pa.string()),
            ("prompt", pa.list_(message)),
            ("ability", pa.string()),
            ("reward_model", pa.struct([("style", pa.string()), ("ground_truth", pa.string())])),
            ("extra_info", extra),
        ]
    )


VERL_REWARD = '''"""verl custom reward function for an rlvr_assets export (custom_reward_function.path=this file,
custom_reward_function.name=compute_score). It scores with the project's own verifiers, so rlvr_assets must be
installed where the reward runs."""

from rlvr_assets.core.tasks.model import Task
from rlvr_assets.core.tasks.verifiers import verify


def compute_score(data_source, solution_str, ground_truth, extra_info=None, **_):
    return verify(Task.from_json(extra_info["task_json"]), solution_str).reward
'''

TRL_REWARD = '''"""GRPO reward function for an rlvr_assets export: pass `verifier_reward` to TRL's GRPOTrainer as
reward_funcs; it reads the dataset's `task` column (the task JSON) and scores with the project's verifiers
(rlvr_assets must be installed where training runs)."""

from rlvr_assets.core.tasks.verifiers import make_trl_reward

verifier_reward = make_trl_reward("verifier_reward")
'''


def hf_rows(export: CorpusExport, split: str) -> list[dict[str, Any]]:
    """TRL's conversational prompt column, the task JSON its reward reads, and the lineage columns."""
    tasks = export.train if split == "train" else export.heldout
    rows = []
    for t in tasks:
        info = _extra_info(export, t, 0, split)
        rows.append(
            {
                "prompt": t.messages,
                "task": t.to_json(),
                "task_id": t.id,
                "answer": t.truth_key,
                "domain": t.domain,
                "origin": info["origin"],
                "parent_id": info["parent_id"] or "",
                "operator": info["operator"] or "",
                "gate_accepted": bool(info["gate_accepted"]),
                "gate_verdicts": info["gate_verdicts"],
            }
        )
    return rows


def dataset_card(export: CorpusExport) -> str:
    n_aug = sum(1 for t in export.train if t.provenance.kind == "augmented")
    licences = "\n".join(f"- {name}: {lic}" for name, lic in sorted(export.licences.items())) or "- not recorded"
    funnel = "\n".join(f"- {k}: {v}" for k, v in export.funnel.items()) or "- not recorded"
    return f"""---
pretty_name: rlvr_assets arm {export.arm}
tags: [rlvr, grpo]
---
# rlvr_assets training corpus: arm `{export.arm}`

Written by `rlvr-assets export {export.arm} --format hf`. Load with `datasets.load_from_disk(DIR)`; the
`train` split is the arm's corpus, `heldout` the held-out suite (never trained on: keep it apart).

## Counts
- train: {len(export.train)} tasks ({len(export.train) - n_aug} human seeds, {n_aug} gated variants)
- heldout: {len(export.heldout)} items

## Gate funnel (this arm's parents)
{funnel}

## Licences of the sources
{licences}

## Columns
- `prompt`: chat messages (system, user) as TRL's conversational format
- `task`: the full task JSON (schema: schemas/task.schema.json); the reward function scores against it
- `task_id`: content hash of the task; `answer`: what the verifier accepts, in short
- lineage: `origin` (seed / variant / heldout), `parent_id`, `operator`, `gate_accepted`, `gate_verdicts`
  (JSON list of the five factors' verdicts with values and reasons)

## Reward
`rlvr_reward.py` defines `verifier_reward`, a GRPOTrainer reward function calling the project's verifiers.
"""


def _digest(path: Path) -> str | None:
    """Content hash of a file export wrote (None for a directory, e.g. a dataset split)."""
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def _prepare(out: Path, force: bool, files: Sequence[str]) -> None:
    """Refuse a non-empty directory unless forced; forced, refuse to replace any file export did not write, or
    one changed since (the manifest records each file's hash)."""
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out}: exists and is not a directory")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise ExportError(f"{out}: directory is not empty (pass --force to export into it)")
        ours: dict[str, str | None] = {}
        manifest = out / MANIFEST
        if manifest.exists():
            try:
                ours = dict(json.loads(manifest.read_text())["files"])
            except (ValueError, KeyError, TypeError, OSError):
                raise ExportError(f"{manifest}: not an export manifest; not overwriting it") from None
        for name in files:
            target = out / name
            if not target.exists() or name == MANIFEST:
                continue
            if name not in ours:
                raise ExportError(f"{target}: exists and was not written by rlvr-assets export; not overwriting it")
            if ours[name] is not None and _digest(target) != ours[name]:
                raise ExportError(f"{target}: changed since rlvr-assets export wrote it; not overwriting it")
    out.mkdir(parents=True, exist_ok=True)


def _finish(out: Path, export: CorpusExport, fmt: str, files: Sequence[str]) -> list[Path]:
    manifest = {"format": fmt, "arm": export.arm, "train": len(export.train), "heldout": len(export.heldout)}
    written = {f: _digest(out / f) for f in sorted(files) if f != MANIFEST}
    (out / MANIFEST).write_text(json.dumps({**manifest, "files": written}, indent=2))
    return [out / f for f in files]


def export_corpus(export: CorpusExport, fmt: str, out: Path, *, force: bool = False) -> list[Path]:
    """Write `export` in format `fmt` under `out`; returns the files written."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; one of {list(FORMATS)}")
    if not export.train:
        raise ExportError(f"arm {export.arm} has no training tasks to export")
    if fmt == "verl":
        files = ["train.parquet", "heldout.parquet", "reward_fn.py", MANIFEST]
        _prepare(out, force, files)
        import pyarrow as pa
        import pyarrow.parquet as pq

        for split, name in (("train", "train.parquet"), ("heldout", "heldout.parquet")):
            pq.write_table(pa.Table.from_pylist(verl_rows(export, split), schema=_verl_schema()), out / name)
        (out / "reward_fn.py").write_text(VERL_REWARD)
    elif fmt == "jsonl":
        files = ["train.jsonl", "heldout.jsonl", MANIFEST]
        _prepare(out, force, files)
        for split in ("train", "heldout"):
            rows = [
                {"prompt": r["prompt"], "answer": r["reward_model"]["ground_truth"], **r["extra_info"]}
                for r in verl_rows(export, split)
            ]
            (out / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    elif fmt == "hf":
        files = ["dataset_dict.json", "train", "heldout", "README.md", "rlvr_reward.py", MANIFEST]
        _prepare(out, force, files)
        from datasets import Dataset, DatasetDict

        data = DatasetDict({split: Dataset.from_list(hf_rows(export, split)) for split in ("train", "heldout")})
        for split in ("train", "heldout"):  # a forced re-export replaces its own split directories
            if (out / split).is_dir():
                import shutil

                shutil.rmtree(out / split)
        data.save_to_disk(str(out))
        (out / "README.md").write_text(dataset_card(export))
        (out / "rlvr_reward.py").write_text(TRL_REWARD)
    else:
        from rlvr_assets.core.interop.verifiers_export import ENV_FILES, write_verifiers_env

        files = [*ENV_FILES, MANIFEST]
        _prepare(out, force, files)
        write_verifiers_env(export, out, hf_rows(export, "train"), hf_rows(export, "heldout"))
    return _finish(out, export, fmt, files)
