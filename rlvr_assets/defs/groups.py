"""Asset group names: the UI's sections, and what the jobs select (`AssetSelection.groups`), so an asset added
to a group joins its job without a second list to keep in step."""

TASKS = "tasks"
AUGMENTATION = "augmentation"
TRAINING = "training"
EVALUATION = "evaluation"
ECONOMICS = "economics"
