"""DuckDB tables for Polars frames, partition-aware: one table per asset, a `partition_key` column per row.

Writing a partition replaces only that partition's rows, so re-running one arm or one cost ratio leaves
every other partition's rows untouched.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

PARTITION_COLUMN = "partition_key"


@contextmanager
def connect(path: Path, read_only: bool = False, retries: int = 50) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the database, waiting briefly if another process holds the write lock. Read-only, it creates nothing:
    a missing file is a LookupError. A file that is no database fails at once (RuntimeError), not after retries."""
    if read_only and not path.is_file():
        raise LookupError(f"no database at {path}")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con, last = None, ""
    for _ in range(retries):
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.Error as exc:
            last = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
            if "lock" not in last.lower():  # corrupt, not a database, no permission: waiting cannot help
                break
            time.sleep(0.2)  # lock held by another writer
    if con is None:
        why = "it is locked by another process" if "lock" in last.lower() else "not a readable DuckDB database"
        raise RuntimeError(f"could not open DuckDB file {path}: {why} ({last})")
    try:
        yield con
    finally:
        con.close()


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]).fetchall()[0][0]
    )


def asset_table(asset_path: Sequence[str]) -> str:
    """The table an asset's frames live in: its key path joined by underscores."""
    return "_".join(asset_path)


def write_frame(path: Path, table: str, frame: pl.DataFrame, partition_key: str | None = None) -> int:
    """Replace the whole table (unpartitioned) or just one partition's rows; returns the table's row count after
    the write (all partitions)."""
    untyped = [name for name, dtype in frame.schema.items() if dtype == pl.Null]
    if untyped:
        # a column that is null in every row has no type; the next partition's rows could not be stored
        raise TypeError(f"table {table!r}: columns {untyped} have no type (all null); give the frame a schema")
    if partition_key is not None:
        frame = frame.with_columns(pl.lit(partition_key).alias(PARTITION_COLUMN))
    arrow = frame.to_arrow()
    with connect(path) as con:
        con.register("incoming", arrow)
        if partition_key is None or not _exists(con, table):
            con.execute(f'CREATE OR REPLACE TABLE "{table}" AS SELECT * FROM incoming')
        else:
            existing = {r[0] for r in con.execute(f'DESCRIBE "{table}"').fetchall()}
            for name, dtype in zip(frame.columns, con.execute("DESCRIBE incoming").fetchall(), strict=True):
                if name not in existing:
                    con.execute(f'ALTER TABLE "{table}" ADD COLUMN "{name}" {dtype[1]}')
            con.execute(f'DELETE FROM "{table}" WHERE {PARTITION_COLUMN} = ?', [partition_key])
            con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM incoming')
        con.unregister("incoming")
        return int(con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0])


def read_frame(
    path: Path, table: str, partition_keys: Sequence[str] | None = None, read_only: bool = False
) -> pl.DataFrame:
    """The table's rows (of these partitions); `read_only` opens without creating or locking anything for writes
    (a missing file is then a LookupError)."""
    with connect(path, read_only=read_only, retries=10 if read_only else 50) as con:
        if not _exists(con, table):
            raise LookupError(f"table {table!r} does not exist in {path}; materialize its asset first")
        if partition_keys is None:
            return pl.from_arrow(con.sql(f'SELECT * FROM "{table}"').to_arrow_table())  # type: ignore[return-value]
        marks = ", ".join("?" for _ in partition_keys)
        query = f'SELECT * FROM "{table}" WHERE {PARTITION_COLUMN} IN ({marks}) ORDER BY {PARTITION_COLUMN}'
        return pl.from_arrow(con.sql(query, params=list(partition_keys)).to_arrow_table())  # type: ignore[return-value]
