"""Every asset's code version, set in one place from the source it runs (see rlvr_assets/core/code_versions.py).

Assets declare no `code_version` of their own: `with_code_versions` refuses one, so a hand-kept number cannot
creep back and disagree with the code.
"""

from collections.abc import Sequence

import dagster as dg

from rlvr_assets.core.code_versions import SourceIndex


def with_code_versions(assets: Sequence[dg.AssetsDefinition], index: SourceIndex) -> list[dg.AssetsDefinition]:
    """The same assets, each with the code version derived from its compute function and the code it reaches."""
    out = []
    for assets_def in assets:
        declared = {k.to_user_string(): v for k, v in assets_def.code_versions_by_key.items() if v is not None}
        if declared:
            raise ValueError(f"assets {declared} declare a code_version: versions are derived from source, drop it")
        version = index.version(assets_def.op.compute_fn.decorated_fn)  # type: ignore[union-attr]
        out += dg.map_asset_specs(lambda spec, v=version: spec.replace_attributes(code_version=v), [assets_def])
    return out
