from pathlib import Path

import pytest
from pydantic import BaseModel

from rlvr_assets.core.augment.operators import Attempt
from rlvr_assets.core.config import PipelineConfig, PricesConfig, TrainingConfig, load_config
from rlvr_assets.core.gate.frames import attempts_to_frame, operator_cost_usd


def test_compute_matched_arms_share_steps_and_unmatched_arms_train_one_epoch() -> None:
    matched = TrainingConfig(max_steps=8, prompts_per_step=2)
    assert {matched.steps_for(n) for n in (4, 16, 97)} == {8}
    unmatched = TrainingConfig(max_steps=8, prompts_per_step=2, compute_matched=False)
    assert [unmatched.steps_for(n) for n in (4, 5, 16)] == [2, 3, 8]


def test_duckdb_path_is_configurable_relative_to_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "pipeline.yaml"
    config.write_text("paths:\n  var_dir: out\n  duckdb: tables/study.duckdb\n")
    cfg = load_config(config)
    assert cfg.paths.duckdb_path == tmp_path / "tables" / "study.duckdb"
    assert cfg.paths.artifacts_dir == tmp_path / "out" / "artifacts"
    config.write_text("paths:\n  var_dir: out\n")
    assert load_config(config).paths.duckdb_path == tmp_path / "out" / "rlvr.duckdb"


def test_every_attempt_is_priced_from_its_tokens_seconds_and_cpu() -> None:
    prices = PricesConfig(usd_per_million_generation_tokens=2.0, usd_per_generation_hour=3.6, usd_per_cpu_hour=36.0)
    attempt = Attempt("p", "llm_rewrite", "1", "obscure_goal", 0, "failed", "x", None, 10.0, 500_000, 100.0)
    frame = attempts_to_frame([attempt], prices)
    expected = 1.0 + 0.1 + 0.1  # 0.5M tokens at $2/M, 100 s at $3.6/h, 10 CPU s at $36/h
    assert abs(frame["cost_usd"][0] - expected) < 1e-9
    assert operator_cost_usd(500_000, 100.0, 10.0, prices) == frame["cost_usd"][0]


def _sections(model: type[BaseModel]) -> list[type[BaseModel]]:
    out = [model]
    for field in model.model_fields.values():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            out += _sections(field.annotation)
    return out


def test_every_config_field_says_what_it_is_for() -> None:
    undocumented = [
        f"{section.__name__}.{name}"
        for section in _sections(PipelineConfig)
        for name, field in section.model_fields.items()
        if not (field.description and field.description.strip())
    ]
    assert not undocumented


def test_training_new_tokens_keeps_the_old_name_for_old_config_files(tmp_path: Path) -> None:
    config = tmp_path / "pipeline.yaml"
    config.write_text("training:\n  max_completion_length: 24\n")
    assert load_config(config).training.max_new_tokens == 24
    config.write_text("training:\n  max_completion_length: 24\n  max_new_tokens: 32\n")
    with pytest.raises(ValueError, match="max_completion_length"):
        load_config(config)


def test_gpu_profile_validates_as_a_study_with_a_selectable_slice() -> None:
    import pytest

    from rlvr_assets.cli import build_parser
    from rlvr_assets.core.evaluation.benchmarks import registry
    from rlvr_assets.defs.partitions import arm_keys

    root = Path(__file__).resolve().parents[1]
    cfg = load_config(root / "configs" / "gpu.yaml")
    assert cfg.model.device == "cuda" and cfg.training.precision == "bf16" and not cfg.training.cudnn_attention
    assert (cfg.training.temperature, cfg.training.learning_rate) == (0.7, 3e-5)
    assert cfg.training.prompts_per_step * cfg.training.num_generations == 32
    assert len(cfg.arms.human_sizes) >= 3 and len(cfg.arms.aug_fractions) >= 2 and len(cfg.training.seeds) == 2
    reasoning = [b.name for b in registry(cfg.paths.smoke_suite)["paper10"] if b.area == "reasoning"]
    assert set(cfg.eval.suites) == {"smoke", "paper10"} and sorted(cfg.eval.benchmarks or []) == sorted(reasoning)
    assert cfg.paths.seeds_dir.is_dir() and cfg.paths.smoke_suite.is_file()
    assert {"human-4", "human-16", "aug-0.50"} <= set(arm_keys(cfg))
    args = build_parser().parse_args(["run", "--config", "configs/gpu.yaml", "--arms", "human-4", "--seeds", "0"])
    assert args.seeds == [0]
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["run", "--seeds", "zero"])
    assert exit_info.value.code == 2


def test_unknown_paper10_benchmark_in_eval_config_names_the_field(tmp_path: Path) -> None:
    import pytest

    config = tmp_path / "pipeline.yaml"
    config.write_text("eval:\n  benchmarks: [rg_chain_sum, nope]\n")
    with pytest.raises(ValueError, match=r"eval\.benchmarks.*nope"):
        load_config(config)
