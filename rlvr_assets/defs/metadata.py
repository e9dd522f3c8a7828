"""Frames and figures as Dagster metadata the UI renders: tables inline (long reasons wrap instead of being
clipped), PNG figures as markdown with the image embedded, so a researcher sees them on the asset page."""

from __future__ import annotations

import base64
import textwrap
from collections.abc import Iterable
from pathlib import Path

import dagster as dg
import polars as pl

_TYPES = {pl.Boolean: "bool", pl.Int64: "int", pl.Int32: "int", pl.Float64: "float", pl.Float32: "float"}


def frame_table(frame: pl.DataFrame) -> dg.MetadataValue:
    """A Polars frame as a Dagster table (every row, every column, full text), rendered inline in the UI."""
    schema = dg.TableSchema(columns=[dg.TableColumn(n, _TYPES.get(t, "string")) for n, t in frame.schema.items()])
    records = [
        dg.TableRecord({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()})
        for row in frame.iter_rows(named=True)
    ]
    return dg.MetadataValue.table(records=records, schema=schema)


def figure(path: Path, title: str, caption: str = "") -> dg.MetadataValue:
    """A PNG figure as markdown with the image embedded as a data URI: it renders in the UI without the
    webserver having to reach the file."""
    data = base64.b64encode(path.read_bytes()).decode()
    text = f"### {title}\n\n![{title}](data:image/png;base64,{data})\n"
    if caption:
        text += f"\n{caption}\n"
    return dg.MetadataValue.md(text)


TEXT_WIDTH = 64  # characters of the asset page's metadata value column, which does not wrap text entries


def wrapped_text(text: str, width: int = TEXT_WIDTH) -> dg.MetadataValue:
    """A text entry broken into lines that fit the value column (the UI clips a long line instead of wrapping
    it); existing line breaks are kept."""
    lines = [textwrap.fill(line, width) if line.strip() else "" for line in text.splitlines()]
    return dg.MetadataValue.text("\n".join(lines))


def figures_markdown(folder: Path, figures: Iterable[tuple[str, str]]) -> dg.MetadataValue:
    """Every figure of the report in one markdown entry (images embedded): one click shows them all."""
    parts = []
    for name, title in figures:
        path = folder / name
        if path.is_file():
            data = base64.b64encode(path.read_bytes()).decode()
            parts.append(f"### {title}\n\n![{title}](data:image/png;base64,{data})\n")
    return dg.MetadataValue.md("\n".join(parts) or "(no figures)")


def _latest_metadata(instance: dg.DagsterInstance, asset: str, partition: str) -> dict[str, object]:
    result = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[partition]), limit=1
    )
    if not result.records:
        return {}
    materialization = result.records[0].asset_materialization
    return {k: v.value for k, v in (materialization.metadata if materialization else {}).items()}


def cross_arm_scores(
    instance: dg.DagsterInstance, arm_keys: list[str], current: str, current_score: dict[str, float]
) -> pl.DataFrame:
    """Every arm's held-out score and CI side by side: this partition's fresh numbers, the other arms' from
    their latest `benchmark_scores` materialization (an arm not scored yet has empty cells)."""
    rows = []
    for arm in arm_keys:
        corpus = _latest_metadata(instance, "training_corpus", arm)
        scores = current_score if arm == current else _latest_metadata(instance, "benchmark_scores", arm)
        rows.append(
            {
                "arm": arm,
                "n_human": corpus.get("n_human"),
                "n_aug": corpus.get("n_aug"),
                "pass@1": scores.get("pass@1"),
                "ci_low": scores.get("ci_low"),
                "ci_high": scores.get("ci_high"),
                "this_run": arm == current,
            }
        )
    schema = {"arm": pl.String, "n_human": pl.Int64, "n_aug": pl.Int64, "pass@1": pl.Float64}
    schema |= {"ci_low": pl.Float64, "ci_high": pl.Float64, "this_run": pl.Boolean}
    return pl.DataFrame(rows, schema=schema)
