"""Code versions derived from source: they change with the code an asset uses, and only with that code."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import dagster as dg
import pytest

from rlvr_assets.core.store.code_versions import SourceIndex

ROOT = Path(__file__).resolve().parents[1]

CORE = {
    "__init__.py": "",
    "a.py": "from {pkg}.core.b import base\n\n\ndef helper():\n    return base() + 1\n",
    "b.py": "def base():\n    return 1\n",
    "c.py": (
        "from pathlib import Path\n\nWORKER = Path(__file__).with_name('worker.py')\nCOLOUR = 'grey'\n\n\n"
        "def value():\n    return len(WORKER.name)\n\n\ndef draw():\n    return COLOUR\n"
    ),
    "worker.py": "print('runs as a script, never imported')\n",
    "unrelated.py": "def nothing():\n    return 0\n",
}
LAYER = '''
from {pkg}.core.a import helper
from {pkg}.core import c

LIMIT = 3


def _shared(x):
    return x + LIMIT


def one():
    """Reaches core.a, and core.b through it."""
    return helper()


def two():
    return c.value() + _shared(1)


def build():
    def nested():
        return helper()

    return nested
'''


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A throwaway package laid out like rlvr_assets: a core of modules and a layer of functions using them."""
    name = f"cvpkg_{uuid.uuid4().hex[:8]}"
    root = tmp_path / name
    (root / "core").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    for file, text in CORE.items():
        (root / "core" / file).write_text(text.format(pkg=name))
    (root / "layer.py").write_text(LAYER.format(pkg=name))
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    layer = importlib.import_module(f"{name}.layer")
    fns = {"one": layer.one, "two": layer.two, "nested": layer.build()}

    def versions() -> dict[str, str]:
        index = SourceIndex(package=name)
        return {k: index.version(fn) for k, fn in fns.items()}

    yield root, versions
    for module in [m for m in sys.modules if m.startswith(name)]:
        del sys.modules[module]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_a_version_changes_with_the_code_it_reaches_and_only_that(package) -> None:
    root, versions = package
    before = versions()
    assert len(set(before.values())) == 3

    _edit(root / "core" / "b.py", "return 1", "return 5")  # reached by one and nested through core.a
    after = versions()
    assert after["one"] != before["one"] and after["nested"] != before["nested"]
    assert after["two"] == before["two"]

    before = after
    _edit(root / "core" / "c.py", "COLOUR = 'grey'", "COLOUR = 'red'")  # c's constant only draw() uses
    _edit(root / "core" / "c.py", "return COLOUR", "return COLOUR.upper()")
    after = versions()
    assert after == before  # two uses c.value, not the whole module c

    before = after
    _edit(root / "core" / "worker.py", "print(", "print('changed', ")  # the script core.c.value names
    after = versions()
    assert after["two"] != before["two"] and after["one"] == before["one"]

    before = after
    _edit(root / "layer.py", "LIMIT = 3", "LIMIT = 4")  # a constant of the layer that two's helper reads
    after = versions()
    assert after["two"] != before["two"] and after["one"] == before["one"]

    before = after
    _edit(root / "layer.py", "return c.value() + _shared(1)", "return c.value() + _shared(2)")
    _edit(root / "core" / "unrelated.py", "return 0", "return 1")
    after = versions()
    assert after["two"] != before["two"]
    assert after["one"] == before["one"] and after["nested"] == before["nested"]


def test_prose_and_formatting_leave_versions_alone(package) -> None:
    root, versions = package
    before = versions()
    _edit(root / "core" / "b.py", "def base():\n", 'def base():\n    """Why base is one."""  # a comment\n\n')
    _edit(root / "core" / "a.py", "from", '"""A module docstring."""\n\n# comment\nfrom')
    _edit(root / "layer.py", "LIMIT = 3", "LIMIT = (\n    3  # three\n)")
    _edit(root / "layer.py", '"""Reaches core.a, and core.b through it."""', '"""Reworded."""')
    (root / "core" / "c.py").write_text(
        (root / "core" / "c.py").read_text() + "\n\ndef described(x=dict(description='prose only')):\n    return x\n"
    )
    changed_c = versions()["two"]
    _edit(root / "core" / "c.py", "prose only", "other prose")
    assert versions()["two"] == changed_c  # a description= keyword is prose
    after = versions()
    assert after["one"] == before["one"] and after["nested"] == before["nested"]


def test_versions_of_the_project_are_the_same_in_every_process() -> None:
    """Nothing in a version depends on hash randomisation or import order: a fresh process agrees."""
    code = (
        "from rlvr_assets.core.store.code_versions import SourceIndex\n"
        "from rlvr_assets.core.training import arms, grpo as training\n"
        "i = SourceIndex()\n"
        "print(i.version(arms.arm_corpus), i.version(training.train_grpo))\n"
    )
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        outputs.add(done.stdout.strip())
    from rlvr_assets.core.training import arms
    from rlvr_assets.core.training import grpo as training

    index = SourceIndex()
    assert outputs == {f"{index.version(arms.arm_corpus)} {index.version(training.train_grpo)}"}


def test_missing_function_source_is_a_clear_error() -> None:
    namespace: dict[str, object] = {}
    exec(textwrap.dedent("def made_at_runtime():\n    return 1\n"), namespace)  # no file behind it
    fn = namespace["made_at_runtime"]
    fn.__module__ = "rlvr_assets.core.training.arms"  # type: ignore[attr-defined]
    with pytest.raises(
        LookupError, match=r"made_at_runtime not found in the source of rlvr_assets\.core\.training\.arms"
    ):
        SourceIndex().version(fn)  # type: ignore[arg-type]


# --- the project's own assets: edits on a copy of the source tree, versions from the real definitions ---------

PROTECTED = ("base_model", "seed_tasks", "gate_results", "policy_checkpoint")
COSMETIC = {  # file under rlvr_assets/ -> (old, new): edits that change no table, checkpoint or score
    "figure colour": ("core/economics/figures.py", 'GREY = "#9e9e9e"', 'GREY = "#777777"'),
    "figure label": ("core/economics/figures.py", 'ax.set_ylabel("held-out pass@1 (%)")', 'ax.set_ylabel("pass@1")'),
    "report heading": (
        "core/economics/report.py",
        '"# rlvr_assets economics report",',
        '"# The economics report",',
    ),
    "held-out item count": (
        "core/evaluation/benchmarks.py",
        "REASONING_GYM_ITEMS = 200",
        "REASONING_GYM_ITEMS = 150",
    ),
}
TRAINING = {  # edits to what GRPO computes
    "GRPO step code": (
        "core/training/grpo.py",
        "raise TrainingDiverged(state.global_step + 1, bad,",
        "raise TrainingDiverged(state.global_step, bad,",
    ),
    "training constant": (
        "core/policy/sampling.py",
        "CPU_TRAINING_KV_TOKENS = 16_384",
        "CPU_TRAINING_KV_TOKENS = 8_192",
    ),
}


@pytest.fixture(scope="module")
def project_versions(tmp_path_factory: pytest.TempPathFactory):
    """Code versions of the real assets (compute functions of `rlvr_assets.definitions`) over a copy of the
    source tree, so a test can edit the copy and see which versions move."""
    import shutil

    from rlvr_assets.definitions import defs

    compute = {a.key.to_user_string(): a.op.compute_fn.decorated_fn for a in defs.assets}  # type: ignore[union-attr]
    base = tmp_path_factory.mktemp("tree")

    def versions(edit: tuple[str, str, str] | None = None) -> dict[str, str]:
        copy = base / uuid.uuid4().hex[:8] / "rlvr_assets"
        shutil.copytree(ROOT / "rlvr_assets", copy, ignore=shutil.ignore_patterns("__pycache__"))
        if edit is not None:
            _edit(copy / edit[0], edit[1], edit[2])
        index = SourceIndex(root=copy)
        return {name: index.version(fn) for name, fn in compute.items()}

    return versions, versions()


@pytest.mark.parametrize("edit", sorted(COSMETIC))
def test_cosmetic_and_held_out_loader_edits_leave_tasks_gate_and_checkpoints_fresh(project_versions, edit) -> None:
    """Editing a figure, a report heading or a held-out loader's item count retrains no arm and re-gates
    nothing (it used to: every core module an asset reached counted whole, imports included)."""
    versions, before = project_versions
    after = versions(COSMETIC[edit])
    assert {k: after[k] for k in PROTECTED} == {k: before[k] for k in PROTECTED}
    moved = {k for k in before if after[k] != before[k]}
    # the edit is real: what does use that code is stale
    assert moved & {"economics_report", "benchmark_scores", "smoke_suite"}, moved


@pytest.mark.parametrize("edit", sorted(TRAINING))
def test_an_edit_to_what_grpo_computes_makes_policy_checkpoint_stale(project_versions, edit) -> None:
    versions, before = project_versions
    after = versions(TRAINING[edit])
    assert after["policy_checkpoint"] != before["policy_checkpoint"]
    assert {k: after[k] for k in ("base_model", "seed_tasks", "gate_results")} == {
        k: before[k] for k in ("base_model", "seed_tasks", "gate_results")
    }


def _materialize_everything_once(graph, arm: str) -> dg.DagsterInstance:
    """An instance that has materialized every asset (the arm's partition of partitioned ones) with the code
    versions of `graph` and consistent input provenance: as after a full run, with nothing computed."""
    from dagster._core.definitions.data_version import (
        CODE_VERSION_TAG,
        DATA_VERSION_TAG,
        INPUT_DATA_VERSION_TAG_PREFIX,
        INPUT_EVENT_POINTER_TAG_PREFIX,
    )

    instance = dg.DagsterInstance.ephemeral()

    def partition(key: dg.AssetKey) -> str | None:
        return arm if graph.get(key).partitions_def is not None else None

    for key in graph.toposorted_asset_keys:
        node = graph.get(key)
        if node.partitions_def is not None and arm not in node.partitions_def.get_partition_keys():
            continue  # partitioned by cost ratio: not upstream of the protected assets
        tags = {CODE_VERSION_TAG: node.code_version, DATA_VERSION_TAG: "v1"}
        for parent in node.parent_keys:
            where = [partition(parent)] if partition(parent) else None
            records = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=parent, asset_partitions=where), limit=1
            ).records
            if not records:
                break  # downstream of a skipped asset (the economics end): not upstream of the protected ones
            tags[f"{INPUT_DATA_VERSION_TAG_PREFIX}/{parent.to_user_string()}"] = "v1"
            tags[f"{INPUT_EVENT_POINTER_TAG_PREFIX}/{parent.to_user_string()}"] = str(records[0].storage_id)
        else:
            instance.report_runless_asset_event(dg.AssetMaterialization(key, partition=partition(key), tags=tags))
    return instance


def test_dagster_sees_cosmetic_edits_as_fresh_and_a_grpo_edit_as_stale(tmp_path: Path) -> None:
    """The same two directions through Dagster's own staleness API (what the UI's "Materialize unsynced",
    the schedule and `rlvr-assets run` ask): definitions built from an edited copy of the source, against an
    instance that materialized everything with the unedited code."""
    import shutil

    from rlvr_assets.core.config import load_config
    from rlvr_assets.definitions import build_definitions
    from rlvr_assets.defs.staleness import stale_status_resolver

    copy = tmp_path / "rlvr_assets"
    shutil.copytree(ROOT / "rlvr_assets", copy, ignore=shutil.ignore_patterns("__pycache__"))
    cfg = load_config()
    graph = build_definitions(cfg, SourceIndex(root=copy)).resolve_asset_graph()
    arm = graph.get(dg.AssetKey("policy_checkpoint")).partitions_def.get_partition_keys()[0]
    instance = _materialize_everything_once(graph, arm)

    def statuses() -> dict[str, tuple[str, tuple[str, ...]]]:
        edited = build_definitions(cfg, SourceIndex(root=copy)).resolve_asset_graph()
        resolver = stale_status_resolver(instance, edited)
        out = {}
        for name in PROTECTED:
            key = dg.AssetKey(name)
            part = arm if edited.get(key).partitions_def is not None else None
            causes = tuple(c.reason for c in resolver.get_stale_root_causes(key, part))
            out[name] = (resolver.get_status(key, part).name, causes)
        return out

    assert statuses() == dict.fromkeys(PROTECTED, ("FRESH", ()))
    for file, old, new in COSMETIC.values():
        _edit(copy / file, old, new)
    assert statuses() == dict.fromkeys(PROTECTED, ("FRESH", ()))
    _edit(copy / TRAINING["GRPO step code"][0], *TRAINING["GRPO step code"][1:])
    after = statuses()
    assert after["policy_checkpoint"] == ("STALE", ("has a new code version",))
    assert all(after[name] == ("FRESH", ()) for name in ("base_model", "seed_tasks", "gate_results"))
