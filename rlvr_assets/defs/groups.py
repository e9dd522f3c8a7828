"""Asset group names: the UI's sections, and what the jobs select (`AssetSelection.groups`), so an asset added
to a group joins its job without a second list to keep in step."""

from collections.abc import Mapping, Sequence

import dagster as dg

TASKS = "tasks"
AUGMENTATION = "augmentation"
TRAINING = "training"
EVALUATION = "evaluation"
ECONOMICS = "economics"


def with_owners(assets: Sequence[dg.AssetsDefinition], owners: Mapping[str, list[str]]) -> list[dg.AssetsDefinition]:
    """The same assets, each owned by the owners the config names for its group (the UI's owner column)."""
    return list(
        dg.map_asset_specs(
            lambda spec: spec.replace_attributes(owners=owners.get(spec.group_name or "", [])), list(assets)
        )
    )
