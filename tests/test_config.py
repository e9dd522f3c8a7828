from pathlib import Path

import pytest
from pydantic import BaseModel

from rlvr_assets.core.config import PipelineConfig, PricesConfig, TrainingConfig, load_config
from rlvr_assets.core.frames import attempts_to_frame, operator_cost_usd
from rlvr_assets.core.operators import Attempt


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
