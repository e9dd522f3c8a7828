"""Bring your own tasks, trainer and evaluations: task sources in, corpus exports out, lm-eval scores back."""

from __future__ import annotations

import asyncio
import csv
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from rlvr_assets.cli import main
from rlvr_assets.core.config import ColumnMap, ModelConfig, ReasoningGymSource, TableSource, load_config
from rlvr_assets.core.interop.export import CorpusExport, Lineage, export_corpus
from rlvr_assets.core.interop.lm_eval_scores import ITEM_COLUMNS, read_lm_eval_map
from rlvr_assets.core.interop.sources import load_sources
from tests.conftest import ROOT, TORCH_THREADS, write_config

ROWS = [
    {"q": "What is 12 + 30?", "a": 42, "uid": "add", "split": "base"},
    {"q": "What is 3/4 of 8?", "a": "6", "uid": "frac", "split": "base"},
    {"q": "A box holds 7 rows of 6 eggs. How many eggs?", "a": 42.0, "uid": "eggs"},
    {"q": "What is 100 - 58?", "a": "42", "uid": "sub"},
]
COLUMNS = {"prompt": "q", "answer": "a", "id": "uid", "split": "split"}


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    from rlvr_assets.core.policy.models import materialize_base_model

    cfg = ModelConfig(source="tiny", torch_threads=TORCH_THREADS)
    return materialize_base_model(cfg, tmp_path_factory.mktemp("byo") / "tiny").path


def _write_tables(directory: Path) -> dict[str, Path]:
    """The same rows as JSONL, Parquet and a saved `datasets` directory."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets import Dataset

    rows = [{**r, "a": str(r["a"]), "split": r.get("split")} for r in ROWS]
    jsonl = directory / "rows.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    parquet = directory / "rows.parquet"
    pq.write_table(pa.Table.from_pylist(rows), parquet)
    Dataset.from_list([{**r, "q": f"Quick one: {r['q']}"} for r in rows]).save_to_disk(str(directory / "rows_hf"))
    return {"jsonl": jsonl, "parquet": parquet, "hf": directory / "rows_hf"}


def _config(directory: Path, sources: list[dict]) -> Path:
    """A tiny-model config whose seed folder holds only the reasoning seeds (validating the code seeds in the
    sandbox is other tests' business and slow)."""
    seeds = directory / "seeds"
    seeds.mkdir(exist_ok=True)
    (seeds / "reasoning.jsonl").write_text((ROOT / "seeds" / "reasoning.jsonl").read_text())
    return write_config(directory, {"seed_sources": sources, "paths": {"seeds_dir": str(seeds)}})


TOY_TASKSET = """
import verifiers.v1 as vf


class ToyData(vf.TaskData):
    answer: str


class ToyTask(vf.Task[ToyData]):
    @vf.reward(weight=1.0)
    async def exact(self, trace: vf.Trace) -> float:
        return float(trace.last_reply.strip() == self.data.answer)


class ToyConfig(vf.TasksetConfig):
    n: int = 3


class ToyTaskset(vf.Taskset[ToyTask, ToyConfig]):
    def load(self):
        for i in range(self.config.n):
            yield ToyTask(ToyData(id=f"sum{i}", prompt=f"What is {i} + {i + 2}? Reply with the number only.", answer=str(2 * i + 2)))


__all__ = ["ToyTask", "ToyTaskset"]
"""


def _sources(tables: dict[str, Path]) -> list[dict]:
    return [
        {"name": "jsonl", "path": str(tables["jsonl"]), "columns": COLUMNS, "licence": "CC0-1.0"},
        {"name": "pq", "path": str(tables["parquet"]), "columns": COLUMNS, "instruction": "End with 'Answer: N'."},
        {"name": "hf", "path": str(tables["hf"]), "columns": {**COLUMNS, "split": None}, "split": "pool"},
        {"kind": "reasoning_gym", "dataset": "basic_arithmetic", "size": 3, "seed": 7, "base": 1},
        {"kind": "verifiers", "taskset": "toy_rlvr_env", "config": {"n": 3}, "base": 1},
    ]


@pytest.fixture
def toy_taskset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A single-turn verifiers v1 taskset package (exact-match reward), importable as `toy_rlvr_env`."""
    from rlvr_assets.core.domains.reasoning.vf_tasks import vf_tasks

    package = tmp_path / "vfpkg" / "toy_rlvr_env"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(TOY_TASKSET)
    monkeypatch.syspath_prepend(str(tmp_path / "vfpkg"))
    yield "toy_rlvr_env"
    sys.modules.pop("toy_rlvr_env", None)
    vf_tasks.cache_clear()


def test_every_source_type_loads_validates_augments_gates_and_trains(
    tiny_path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], toy_taskset: str
) -> None:
    """JSONL, Parquet and saved-dataset tables, a reasoning-gym spec and a verifiers taskset become seeds that pass `seeds validate`,
    get variants from the operators (reasoning-gym: new generator items), pass through the gate with the tiny
    policy and train one GRPO step; their ids are the same on every load."""
    from rlvr_assets.core.augment.operators import apply_operators
    from rlvr_assets.core.domains.reasoning.gym_tasks import GymAnswer
    from rlvr_assets.core.gate.factors import run_gate
    from rlvr_assets.core.policy.rollouts import sample_rollouts
    from rlvr_assets.core.policy.sampling import load_policy
    from rlvr_assets.core.training.grpo import train_grpo

    config = _config(tmp_path, _sources(_write_tables(tmp_path)))
    cfg = load_config(config)
    tasks = load_sources(cfg.seed_sources)
    again = load_sources(load_config(config).seed_sources)
    assert [t.id for t in tasks] == [t.id for t in again]  # content ids: stable across loads
    assert len(tasks) == 3 * len(ROWS) + 3 + 3
    toy = [t for t in tasks if t.verifier.type == "verifiers_rubric"]
    assert [t.name for t in toy] == ["toy_rlvr_env-sum0", "toy_rlvr_env-sum1", "toy_rlvr_env-sum2"]
    assert [t.reference_solution for t in toy] == ["2", "4", "6"] and toy[0].provenance.split == "base"
    by_source = {name: [t for t in tasks if t.name.startswith(f"{name}-")] for name in ("jsonl", "pq", "hf")}
    assert [t.name for t in by_source["jsonl"]] == ["jsonl-add", "jsonl-frac", "jsonl-eggs", "jsonl-sub"]
    assert [t.provenance.split for t in by_source["jsonl"]] == ["base", "base", "pool", "pool"]
    assert {t.provenance.split for t in by_source["hf"]} == {"pool"}
    assert by_source["hf"][0].prompt.template.startswith("Quick one: ") and by_source["pq"][0].prompt.instruction
    gym = [t for t in tasks if isinstance(t.verifier, GymAnswer)]
    assert len(gym) == 3 and [t.provenance.split for t in gym] == ["base", "pool", "pool"]

    assert main(["seeds", "validate", "--config", str(config), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["tasks"] == 19 + len(tasks)

    base = [t for t in tasks if t.provenance.split == "base"]
    attempts = [a for parent in base for a in apply_operators(parent, ["resample_params", "add_hint"], 1234, 2)]
    variants = [a.variant for a in attempts if a.variant is not None]
    resampled = [
        v for v in variants if isinstance(v.verifier, GymAnswer) and v.provenance.operator == "resample_params"
    ]
    assert len(resampled) == 2 and all(v.verifier.index >= 3 for v in resampled)  # new items, not the source's own
    assert all(v.prompt.params["question"] != gym[0].prompt.params["question"] for v in resampled)
    policy = load_policy(tiny_path, cfg.model, cfg.sampling.backend)

    def sample_fn(batch, n):  # type: ignore[no-untyped-def]
        return [(r.task_index, r.completion, r.tokens) for r in sample_rollouts(policy, batch, n, cfg.sampling)]

    run = run_gate(variants, {p.id: p for p in base}, sample_fn, cfg.gate)
    assert len(run.decisions) == len(variants)
    verify_factor = {r.variant_id: r.passed for r in run.factor_rows if r.factor == "verify"}
    assert set(verify_factor) == {v.id for v in variants} and all(verify_factor.values())
    accepted = [v for v, d in zip(variants, run.decisions, strict=True) if d.accepted]
    assert accepted, [d.reason for d in run.decisions]
    assert any(v.verifier.type == "verifiers_rubric" for v in variants)  # the taskset's rows get variants too
    result = train_grpo(
        [*base, *accepted[:2]],
        tiny_path,
        tmp_path / "train",
        cfg.training.model_copy(update={"max_steps": 1}),
        cfg.model,
        0,
        {"test": "sources"},
    )
    assert result.steps == 1


def _export(tasks) -> CorpusExport:  # type: ignore[no-untyped-def]
    from rlvr_assets.core.augment.operators import apply_operators

    train = [t for t in tasks if t.provenance.split != "heldout"]
    variant = next(a.variant for a in apply_operators(train[0], ["add_hint"], 1, 1) if a.variant)
    verdicts = json.dumps([{"factor": "solve", "passed": True, "value": 0.5, "reason": "in band"}])
    lineage = {variant.id: Lineage("variant", train[0].id, "add_hint", "1", True, verdicts)}
    return CorpusExport("aug-0.50", [*train, variant], train[-1:], lineage, {"jsonl": "CC0-1.0"}, {"proposed": 1})


def test_exports_read_back_in_each_trainers_own_schema(tiny_path: str, tmp_path: Path) -> None:
    """verl parquet has verl's columns and types; the HF dataset loads with load_from_disk and TRL's
    GRPOTrainer takes a step on it with the exported reward; the verifiers package loads the exported taskset
    and its reward is the project's verifier."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets import load_from_disk

    tables = _write_tables(tmp_path)
    spec = TableSource(name="jsonl", path=tables["jsonl"], columns=ColumnMap(**COLUMNS))
    export = _export(load_sources([spec, ReasoningGymSource(dataset="chain_sum", size=2, seed=3)]))
    variant = export.train[-1]

    out = tmp_path / "verl"
    export_corpus(export, "verl", out)
    table = pq.read_table(out / "train.parquet")
    assert table.column_names == ["data_source", "prompt", "ability", "reward_model", "extra_info"]
    assert table.schema.field("prompt").type == pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
    assert table.schema.field("reward_model").type == pa.struct([("style", pa.string()), ("ground_truth", pa.string())])
    frame = table.to_pandas()
    assert list(frame["ability"].unique()) == ["reasoning"] and len(frame) == len(export.train)
    last = frame.iloc[-1]
    assert last["extra_info"]["origin"] == "variant" and last["extra_info"]["parent_id"] == export.train[0].id
    assert last["extra_info"]["operator"] == "add_hint" and json.loads(last["extra_info"]["gate_verdicts"])[0]["passed"]
    assert last["reward_model"]["ground_truth"] == variant.truth_key
    assert pq.read_table(out / "heldout.parquet").num_rows == 1
    reward_fn = _module(out / "reward_fn.py")
    info = frame.iloc[0]["extra_info"]
    good = f"Answer: {frame.iloc[0]['reward_model']['ground_truth']}"
    assert reward_fn.compute_score("rlvr_assets", good, "", info) == 1.0
    assert reward_fn.compute_score("rlvr_assets", "Answer: -1", "", info) == 0.0

    hf = tmp_path / "hf"
    export_corpus(export, "hf", hf)
    data = load_from_disk(str(hf))
    assert set(data) == {"train", "heldout"} and data["train"].num_rows == len(export.train)
    assert {"prompt", "task", "task_id", "origin", "parent_id", "operator", "gate_verdicts"} <= set(
        data["train"].column_names
    )
    assert "aug-0.50" in (hf / "README.md").read_text() and "CC0-1.0" in (hf / "README.md").read_text()
    _one_grpo_step(tiny_path, data["train"], _module(hf / "rlvr_reward.py").verifier_reward, tmp_path)

    export_corpus(export, "jsonl", tmp_path / "j")
    rows = [json.loads(line) for line in (tmp_path / "j" / "train.jsonl").read_text().splitlines()]
    assert [r["task_id"] for r in rows] == [t.id for t in export.train]

    vf_dir = tmp_path / "vf"
    export_corpus(export, "verifiers", vf_dir)
    sys.path.insert(0, str(vf_dir))
    try:
        from verifiers.v1.utils.loaders import taskset_class

        cls = taskset_class("rlvr_export_env")
        config_cls = cls.__orig_bases__[0].__args__[1]  # type: ignore[attr-defined]
        tasks = list(cls(config_cls()))
        held = list(cls(config_cls(split="heldout")))
    finally:
        sys.path.remove(str(vf_dir))
        for name in [m for m in sys.modules if m.startswith("rlvr_export_env")]:
            del sys.modules[name]
    assert [t.key for t in tasks] == [t.id for t in export.train] and len(held) == 1
    assert [h.__name__ for h in tasks[0].hooks("reward")] == ["verifier_reward"]

    class Reply:  # what the reward reads off a verifiers trace
        last_reply = export.train[0].reference_solution

    assert asyncio.run(tasks[0].verifier_reward(Reply())) == 1.0
    Reply.last_reply = "Answer: nothing"
    assert asyncio.run(tasks[0].verifier_reward(Reply())) == 0.0


def _module(path: Path):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(f"exported_{path.stem}_{abs(hash(path))}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _one_grpo_step(model_path: str, dataset, reward, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from transformers import AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    args = GRPOConfig(
        output_dir=str(tmp_path / "grpo"),
        max_steps=1,
        per_device_train_batch_size=2,
        num_generations=2,
        max_completion_length=4,
        use_cpu=True,
        report_to="none",
        save_strategy="no",
        disable_tqdm=True,
    )
    trainer = GRPOTrainer(
        model=model_path, reward_funcs=[reward], args=args, train_dataset=dataset, processing_class=tokenizer
    )
    trainer.train()
    assert trainer.state.global_step == 1
    assert any("rewards/verifier_reward/mean" in log for log in trainer.state.log_history)


LM_EVAL_TASK = """task: byo_arith
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_text: "Question: {{{{q}}}}\\nAnswer:"
doc_to_target: "{{{{a}}}}"
generation_kwargs: {{until: ["\\n"], max_gen_toks: 4, do_sample: false}}
metric_list:
  - {{metric: exact_match, aggregation: mean, higher_is_better: true}}
"""


def test_lm_eval_log_samples_read_back_as_the_item_level_csv(tiny_path: str, tmp_path: Path) -> None:
    """The real lm-eval package (tiny model, local task YAML over a local JSONL, offline) writes --log_samples;
    `scores from-lm-eval` turns it into exactly the rows of the hand-written item-level CSV."""
    tasks_dir = tmp_path / "tasks"
    tasks_dir.mkdir()
    data = tasks_dir / "items.jsonl"
    data.write_text("".join(json.dumps({"q": r["q"], "a": str(r["a"])}) + "\n" for r in ROWS[:3]))
    (tasks_dir / "byo_arith.yaml").write_text(LM_EVAL_TASK.format(data=data))
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    command = [sys.executable, "-m", "lm_eval", "--model", "hf", "--model_args", f"pretrained={tiny_path}"]
    command += ["--device", "cpu", "--tasks", "byo_arith", "--include_path", str(tasks_dir), "--log_samples"]
    command += ["--output_path", str(tmp_path / "out" / "human-4-seed1"), "--batch_size", "4"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    mapping = tmp_path / "map.yaml"
    mapping.write_text(
        yaml.safe_dump({"runs": [{"path": "out/human-4-seed1", "arm": "human-4", "n_human": 4, "n_aug": 0, "seed": 1}]})
    )
    samples = next((tmp_path / "out").glob("**/samples_byo_arith_*.jsonl"))
    records = [json.loads(line) for line in samples.read_text().splitlines()]
    hand = tmp_path / "hand.csv"
    hand.write_text(
        ",".join(ITEM_COLUMNS)
        + "\n"
        + "".join(f"human-4,4,0,1,byo_arith,{r['doc_id']},{r['exact_match']}\n" for r in records)
    )
    out = tmp_path / "items.csv"
    assert main(["scores", "from-lm-eval", str(mapping), "--output", str(out)]) == 0

    def rows(path: Path) -> list[tuple]:
        with path.open() as handle:
            reader = csv.DictReader(handle)
            assert tuple(reader.fieldnames or ()) == ITEM_COLUMNS
            return sorted(
                (
                    r["arm"],
                    int(r["n_human"]),
                    int(r["n_aug"]),
                    int(r["seed"]),
                    r["benchmark"],
                    r["item"],
                    float(r["reward"]),
                )
                for r in reader
            )

    assert rows(out) == rows(hand) and len(rows(out)) == 3
    assert [(r.benchmark, r.item) for r in read_lm_eval_map(mapping)] == [
        ("byo_arith", "0"),
        ("byo_arith", "1"),
        ("byo_arith", "2"),
    ]


def _samples(directory: Path, records: list[dict]) -> None:
    directory.mkdir(parents=True)
    (directory / "samples_gsm_2026-01-01T00-00-00.000001.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in records)
    )


def test_lm_eval_reader_picks_the_named_filter_and_metric(tmp_path: Path) -> None:
    both = [
        {"doc_id": i, "filter": f, "metrics": ["exact_match"], "exact_match": float(i % 2 == (f == "strict"))}
        for i in range(3)
        for f in ("strict", "flexible")
    ]
    _samples(tmp_path / "a", both)
    _samples(tmp_path / "h", [{**r, "exact_match": 0.0} for r in both])
    mapping = tmp_path / "m.yaml"
    runs = [
        {"path": "a", "arm": "aug-0.50", "n_human": 4, "n_aug": 4, "seed": 0},
        {"path": "h", "arm": "human-4", "n_human": 4, "n_aug": 0, "seed": 0},
    ]
    mapping.write_text(yaml.safe_dump({"filter": "strict", "runs": runs}))
    rows = [r for r in read_lm_eval_map(mapping) if r.arm == "aug-0.50"]
    assert [(r.item, r.reward) for r in rows] == [("0", 0.0), ("1", 1.0), ("2", 0.0)]
    assert {(r.arm, r.n_human, r.n_aug, r.seed, r.benchmark) for r in rows} == {("aug-0.50", 4, 4, 0, "gsm")}
    items, arms = tmp_path / "items.csv", tmp_path / "arms.csv"
    assert main(["scores", "from-lm-eval", str(mapping), "--output", str(items), "--arms-csv", str(arms)]) == 0
    from rlvr_assets.core.economics.trade_rate import read_arms_csv

    scores = {(a.arm, a.n_human, a.n_aug): a.score for a in read_arms_csv(arms)}  # what `economics` reads
    assert scores == {("aug-0.50", 4, 4): pytest.approx(1 / 3), ("human-4", 4, 0): 0.0}


def _cli_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()  # drop earlier output (library progress bars)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
    return err


def test_bad_sources_exports_and_score_files_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A malformed source names the source, the row and the field; an export into a non-empty directory and
    an unmappable lm-eval file are refused; each exits 2 and leaves what was there untouched."""
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"q": "ok?", "a": 1}) + "\n" + json.dumps({"q": "What?", "a": "forty"}) + "\n")
    config = _config(tmp_path, [{"name": "mine", "path": str(bad), "columns": {"prompt": "q", "answer": "a"}}])
    err = _cli_error(["seeds", "validate", "--config", str(config)], capsys)
    assert "source mine: row 2: field 'a'" in err and "not a number" in err
    gym = _config(tmp_path, [{"kind": "reasoning_gym", "dataset": "no_such_gym", "size": 2}])
    assert "source no_such_gym: row 1: field 'dataset'" in _cli_error(
        ["seeds", "validate", "--config", str(gym)], capsys
    )
    missing = _config(tmp_path, [{"name": "gone", "path": str(tmp_path / "nope.parquet")}])
    assert "source gone: <source>: field 'path'" in _cli_error(["seeds", "validate", "--config", str(missing)], capsys)

    tasks = load_sources([TableSource(name="ok", path=_write_tables(tmp_path)["jsonl"], columns=ColumnMap(**COLUMNS))])
    out = tmp_path / "export"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    from rlvr_assets.core.interop.export import ExportError

    with pytest.raises(ExportError, match="not empty"):
        export_corpus(_export(tasks), "verl", out)
    (out / "train.parquet").write_text("user data")
    with pytest.raises(ExportError, match="not written by rlvr-assets export"):
        export_corpus(_export(tasks), "verl", out, force=True)
    assert (out / "train.parquet").read_text() == "user data" and (out / "notes.txt").read_text() == "mine"
    fresh = tmp_path / "fresh"
    export_corpus(_export(tasks), "jsonl", fresh)
    (fresh / "train.jsonl").write_text("edited by hand\n")
    with pytest.raises(ExportError, match="changed since"):
        export_corpus(_export(tasks), "jsonl", fresh, force=True)

    _samples(tmp_path / "s", [{"doc_id": 0, "metrics": ["acc", "f1"], "acc": 1.0, "f1": 0.5}])
    mapping = tmp_path / "m.yaml"
    mapping.write_text(yaml.safe_dump({"runs": [{"path": "s", "arm": "human-4", "n_human": 4, "n_aug": 0, "seed": 0}]}))
    csv_out = tmp_path / "items.csv"
    err = _cli_error(["scores", "from-lm-eval", str(mapping), "--output", str(csv_out)], capsys)
    assert "samples_gsm_" in err and ":1: field 'metrics'" in err and not csv_out.exists()
    mapping.write_text(yaml.safe_dump({"runs": [{"path": "s", "arm": "human-4", "n_aug": 0, "seed": 0}]}))
    assert "runs[0]: field 'n_human': required" in _cli_error(
        ["scores", "from-lm-eval", str(mapping), "--output", str(csv_out)], capsys
    )


def test_export_cli_writes_a_materialized_arm_with_its_gate_lineage(
    tiny_sweep, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pyarrow.parquet as pq

    config = tiny_sweep["dir"] / "pipeline.yaml"
    out = tmp_path / "verl"
    assert main(["export", "aug-0.50", "--format", "verl", "--output", str(out), "--config", str(config)]) == 0
    frame = pq.read_table(out / "train.parquet").to_pandas()
    variants = [info for info in frame["extra_info"] if info["origin"] == "variant"]
    assert variants and all(info["operator"] and info["parent_id"] and info["gate_accepted"] for info in variants)
    assert all(len(json.loads(info["gate_verdicts"])) == 5 for info in variants)
    assert pq.read_table(out / "heldout.parquet").num_rows > 0
    assert "aug-0.50" in capsys.readouterr().out
    err = _cli_error(["export", "aug-0.50", "--format", "hf", "--output", str(out), "--config", str(config)], capsys)
    assert "not empty" in err
    assert "no arm 'human-999'" in _cli_error(
        ["export", "human-999", "--format", "jsonl", "--output", str(tmp_path / "x"), "--config", str(config)], capsys
    )


def test_reasoning_gym_scorer_sees_only_a_bounded_final_answer() -> None:
    """reasoning-gym's scorers run in-process: a huge answer is reward 0 without reaching them, and the
    generator's own answer (after 'Answer:' or in <answer> tags) scores 1."""
    from rlvr_assets.core.interop.sources import load_gym_source
    from rlvr_assets.core.tasks.verifiers import verify

    (task,) = load_gym_source(ReasoningGymSource(dataset="chain_sum", size=1, seed=5))
    assert verify(task, task.reference_solution).reward == 1.0
    assert verify(task, f"<answer>{task.truth_key}</answer>").reward == 1.0
    huge = verify(task, "Answer: " + "9" * 5000)
    assert huge.reward == 0.0 and "longer than" in huge.reason


def test_seed_tasks_asset_takes_the_configs_sources(tmp_path: Path) -> None:
    """The Dagster seed_tasks asset loads the seed files and the sources; a malformed source fails the step
    with the source, row and field."""
    import dagster as dg

    from rlvr_assets.core.store.storage import read_frame
    from rlvr_assets.definitions import build_definitions

    tables = _write_tables(tmp_path)
    good = [{"name": "mine", "path": str(tables["jsonl"]), "columns": COLUMNS}]
    for sources, ok in ((good, True), ([{**good[0], "columns": {**COLUMNS, "answer": "nope"}}], False)):
        cfg = load_config(_config(tmp_path, sources))
        defs = build_definitions(cfg)
        result = dg.materialize(
            [defs.get_assets_def("seed_tasks")],
            resources={"cfg": defs.resources["cfg"], "io_manager": defs.resources["io_manager"]},
            raise_on_error=False,
        )
        assert result.success is ok
    frame = read_frame(cfg.paths.duckdb_path, "seed_tasks")
    assert {"mine-add", "mine-eggs"} <= set(frame["name"].to_list()) and frame.height == 19 + len(ROWS)
    failure = next(e for e in result.all_events if e.is_step_failure)
    error = failure.step_failure_data.error
    message = error.message + (error.cause.message if error.cause else "")
    assert "source mine: row 1: field 'nope'" in message
