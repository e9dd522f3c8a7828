"""Frames and figures as Dagster metadata the UI renders: tables inline (long reasons wrap instead of being
clipped), PNG figures as markdown with the image embedded, so a researcher sees them on the asset page."""

from __future__ import annotations

import base64
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
