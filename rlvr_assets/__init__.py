"""rlvr_assets: the exchange rate between augmented and human-authored RLVR tasks, as Dagster assets."""

__version__ = "0.1.0"
