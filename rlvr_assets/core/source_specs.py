"""What the config's `seed_sources:` may list: task sources beside the hand-written `seeds/*.jsonl`.

Only the declarations live here (no project imports, so the config can use them); core/sources.py loads
them into Tasks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

SplitName = Literal["base", "pool", "heldout"]
AnswerKind = Literal["number", "choice", "expression", "json"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
