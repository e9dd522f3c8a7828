"""Export as a verifiers (v1, `verifiers>=0.4`) environment package: a Taskset over the arm's corpus whose
task's `@vf.reward` is the project's own verifier.

The written directory is an installable package (`pip install -e DIR`, then `vf-eval rlvr-export-env`):
`rlvr_export_env/taskset.py` defines the task data (prompt, system prompt, the full task JSON and the
lineage), the task (its reward calls `rlvr_assets.core.tasks.verifiers.verify` on the final reply) and the taskset
(`split: train | heldout`). The reward sees the model's reply only; rlvr_assets must be installed where it runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol


class ExportedArm(Protocol):
    """What the environment module needs of an export (`export.CorpusExport` is one): the arm's name."""

    arm: str


PACKAGE = "rlvr_export_env"
ENV_FILES: tuple[str, ...] = ("pyproject.toml", "README.md", PACKAGE)

TASKSET_PY = '''"""rlvr_assets export of arm {arm}: a verifiers v1 taskset whose reward is the project's verifier."""

import json
from pathlib import Path

import verifiers.v1 as vf

from rlvr_assets.core.tasks.model import Task as RlvrTask
from rlvr_assets.core.tasks.verifiers import verify

DATA = Path(__file__).parent / "data"


class RlvrData(vf.TaskData):
    """One exported task: the prompt, the full rlvr_assets task JSON the reward scores against, and lineage."""

    task_json: str
    answer: str = ""
    origin: str = "seed"
    parent_id: str = ""
    operator: str = ""


class RlvrExportTask(vf.Task[RlvrData]):
    @property
    def key(self) -> str:
        return self.data.id or self.hash  # the content hash of the rlvr_assets task

    @vf.reward(weight=1.0)
    async def verifier_reward(self, trace: vf.Trace) -> float:
        return verify(RlvrTask.from_json(self.data.task_json), trace.last_reply).reward


class RlvrExportConfig(vf.TasksetConfig):
    split: str = "train"
    """train (the arm's corpus) or heldout (the held-out suite: evaluate, never train)."""


class RlvrExportTaskset(vf.Taskset[RlvrExportTask, RlvrExportConfig]):
    def load(self):
        for line in (DATA / f"{{self.config.split}}.jsonl").read_text().splitlines():
            row = json.loads(line)
            yield RlvrExportTask(RlvrData(**row), self.config.task)
'''

INIT_PY = """from rlvr_export_env.taskset import RlvrExportTask, RlvrExportTaskset

__all__ = ["RlvrExportTask", "RlvrExportTaskset"]
"""

PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "rlvr-export-env"
version = "0.1.0"
description = "rlvr_assets arm {arm} as a verifiers environment"
dependencies = ["verifiers>=0.4,<0.5", "rlvr_assets"]

[tool.setuptools]
packages = ["rlvr_export_env"]

[tool.setuptools.package-data]
rlvr_export_env = ["data/*.jsonl"]
"""


def _data_row(row: dict[str, Any]) -> dict[str, Any]:
    """An hf export row as the taskset's TaskData fields."""
    messages = row["prompt"]
    system = next((m["content"] for m in messages if m["role"] == "system"), None)
    user = next(m["content"] for m in messages if m["role"] == "user")
    task = json.loads(row["task"])
    return {
        "id": row["task_id"],
        "name": task["name"],
        "prompt": user,
        "system_prompt": system,
        "task_json": row["task"],
        "answer": row["answer"],
        "origin": row["origin"],
        "parent_id": row["parent_id"],
        "operator": row["operator"],
    }


def write_verifiers_env(
    export: ExportedArm, out: Path, train: list[dict[str, Any]], heldout: list[dict[str, Any]]
) -> None:
    package = out / PACKAGE
    (package / "data").mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text(INIT_PY)
    (package / "taskset.py").write_text(TASKSET_PY.format(arm=export.arm))
    for split, rows in (("train", train), ("heldout", heldout)):
        (package / "data" / f"{split}.jsonl").write_text("".join(json.dumps(_data_row(r)) + "\n" for r in rows))
    (out / "pyproject.toml").write_text(PYPROJECT.format(arm=export.arm))
    (out / "README.md").write_text(
        f"# rlvr-export-env: arm {export.arm}\n\n{len(train)} training tasks, {len(heldout)} held-out items.\n\n"
        "`pip install -e .` then `vf-eval rlvr-export-env` (`--env.taskset.split heldout` for the held-out suite).\n"
        "The reward is rlvr_assets' verifier on the final reply; rlvr_assets must be installed.\n"
    )
