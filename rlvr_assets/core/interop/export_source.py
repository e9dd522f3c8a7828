"""What `rlvr-assets export` exports, read from a materialized run: the arm's corpus with its lineage, the
held-out smoke suite plus the held-out rows of the config's sources, and the licences and gate funnel."""

from __future__ import annotations

import json
from collections import Counter

from rlvr_assets.core.config import PipelineConfig
from rlvr_assets.core.gate.frames import frame_to_tasks
from rlvr_assets.core.interop.export import CorpusExport, Lineage
from rlvr_assets.core.interop.sources import load_sources, source_licences
from rlvr_assets.core.kernel.failures import Rejected
from rlvr_assets.core.store.storage import read_frame
from rlvr_assets.core.tasks.seeds import load_task_file
from rlvr_assets.core.training.lineage import load_arm_lineage


class ExportSourceError(ValueError):
    """The run has nothing to export for this arm (not materialized, unknown arm)."""


def load_corpus_export(cfg: PipelineConfig, arm: str) -> CorpusExport:
    database = cfg.paths.duckdb_path
    if not database.exists():
        raise ExportSourceError(f"{database}: no DuckDB file (run `rlvr-assets run` first)")
    lineage = load_arm_lineage(database, arm, with_rejected=True)
    if isinstance(lineage, Rejected):
        raise ExportSourceError(lineage.reason)
    corpus = frame_to_tasks(read_frame(database, "training_corpus", [arm]))
    rows = {
        r.task_id: Lineage(
            r.origin,
            r.parent_id,
            r.operator,
            r.operator_version,
            r.accepted,
            json.dumps(
                [{"factor": f.factor, "passed": f.passed, "value": f.value, "reason": f.reason} for f in r.factors]
            ),
        )
        for r in lineage.tasks
    }
    heldout = load_task_file(cfg.paths.smoke_suite)
    if cfg.seed_sources:
        heldout += [t for t in load_sources(cfg.seed_sources) if t.provenance.split == "heldout"]
    funnel: dict[str, int] = {
        "seeds in the corpus": lineage.counts.get("seeds", 0),
        "gated variants in the corpus": lineage.counts.get("variants", 0),
    }
    for stage, n in sorted(Counter(v.stage for v in lineage.rejected or ()).items()):
        funnel[f"variants of these parents rejected by the {stage}"] = n
    licences = {"project seed files (seeds/)": "the project's licence", **source_licences(cfg.seed_sources)}
    return CorpusExport(arm, corpus, heldout, rows, licences, funnel)
