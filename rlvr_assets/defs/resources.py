"""Dagster resources: the DuckDB/Polars IO manager.

The pipeline config is a resource too, but a bare object: the one `PipelineConfig` that `build_definitions`
loads, which also shapes the partitions, is handed to assets and checks as `dg.ResourceParam[PipelineConfig]`.
Nothing re-parses it and the launchpad cannot override part of it, so runs and partitions always agree.
"""

from pathlib import Path

import dagster as dg
import polars as pl

from rlvr_assets.core.store.storage import asset_table, read_frame, write_frame


def table_metadata(table: str, frame: pl.DataFrame, total_rows: int, *, partitioned: bool) -> dict[str, object]:
    """Dagster's standard table keys, which the UI shows in the asset's overview: `dagster/row_count` counts
    every partition's rows, `dagster/partition_row_count` the partition's own."""
    schema = dg.TableSchema(columns=[dg.TableColumn(name, str(dtype)) for name, dtype in frame.schema.items()])
    out: dict[str, object] = {
        "dagster/row_count": total_rows,
        "dagster/column_schema": dg.MetadataValue.table_schema(schema),
        "dagster/table_name": table,
        "dagster/storage_kind": "duckdb",
    }
    if partitioned:
        out["dagster/partition_row_count"] = frame.height
    return out


class DuckDBPolarsIOManager(dg.ConfigurableIOManager):
    """Stores each asset's Polars frame as a DuckDB table; partitions are rows tagged with their key."""

    database: str

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame) -> None:
        if obj is None:
            return
        partition = str(context.asset_partition_key) if context.has_asset_partitions else None
        table = asset_table(context.asset_key.path)
        total = write_frame(Path(self.database), table, obj, partition)
        context.add_output_metadata(table_metadata(table, obj, total, partitioned=partition is not None))

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        upstream = context.upstream_output
        assert upstream is not None
        keys = [str(k) for k in context.asset_partition_keys] if context.has_asset_partitions else None
        return read_frame(Path(self.database), asset_table(upstream.asset_key.path), keys)
