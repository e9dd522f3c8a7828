"""Dagster resources: the pipeline config and the DuckDB/Polars IO manager."""

from pathlib import Path

import dagster as dg
import polars as pl

from rlvr_assets.core.config import PipelineConfig
from rlvr_assets.core.storage import read_frame, write_frame


class PipelineConfigResource(dg.ConfigurableResource):
    """The validated pipeline config (serialised, so the UI shows exactly what a run used)."""

    config_json: str

    @property
    def config(self) -> PipelineConfig:
        return PipelineConfig.model_validate_json(self.config_json)


class DuckDBPolarsIOManager(dg.ConfigurableIOManager):
    """Stores each asset's Polars frame as a DuckDB table; partitions are rows tagged with their key."""

    database: str

    @staticmethod
    def _table(key: dg.AssetKey) -> str:
        return "_".join(key.path)

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame) -> None:
        if obj is None:
            return
        partition = str(context.asset_partition_key) if context.has_asset_partitions else None
        write_frame(Path(self.database), self._table(context.asset_key), obj, partition)
        context.add_output_metadata({"table": self._table(context.asset_key), "rows": obj.height})

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        upstream = context.upstream_output
        assert upstream is not None
        keys = [str(k) for k in context.asset_partition_keys] if context.has_asset_partitions else None
        return read_frame(Path(self.database), self._table(upstream.asset_key), keys)
