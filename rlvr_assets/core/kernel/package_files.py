"""Data files inside installed distributions (held-out benchmarks, BFCL's docs), found without importing them."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path


def package_file(package: str, suffix: str) -> Path:
    """A data file inside an installed distribution, found through its metadata (no import needed)."""
    try:
        dist = importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError as exc:
        raise FileNotFoundError(f"benchmark data needs the '{package}' package: run scripts/setup.sh") from exc
    for file in dist.files or []:
        if str(file).endswith(suffix):
            return Path(str(file.locate()))
    raise FileNotFoundError(f"no file ending in {suffix} inside {package}")
