"""Task sources: the formats teams already have, loaded into the same Task model as `seeds/*.jsonl`.

A table of prompt + answer rows (JSONL, Parquet, a saved Hugging Face dataset) becomes reasoning tasks with
derived known-bad answers; a reasoning-gym spec becomes reasoning tasks scored by the generator's own
`score_answer` (core/domains/reasoning/gym_tasks.py). Ids are content hashes as for hand-written seeds, so the same rows give
the same ids on every load, and augmentation, the gate and lineage treat them like any seed. Anything wrong
is one SourceError naming the source, the row and the field.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from rlvr_assets.core.config import ReasoningGymSource, SourceSpec, TableSource, VerifiersSource, source_label
from rlvr_assets.core.domains.reasoning.answers import parse_number
from rlvr_assets.core.domains.reasoning.domain import Reasoning
from rlvr_assets.core.domains.reasoning.gym_tasks import (
    GYM_INSTRUCTION,
    GYM_SPAN,
    GymAnswer,
    gym_item_params,
    gym_known_bad,
)
from rlvr_assets.core.domains.reasoning.spec import NumericAnswer
from rlvr_assets.core.tasks.model import PromptSpec, Provenance, Task, build_task

if TYPE_CHECKING:
    from rlvr_assets.core.gate.validation import ValidationReport

ANSWER_INSTRUCTION = "Give your final answer on the last line as 'Answer: <answer>'."
SPLITS = ("base", "pool", "heldout")


class SourceError(ValueError):
    """A task source that cannot be loaded; the message names the source, the row and the field."""

    def __init__(self, source: str, row: int | None, field: str, problem: str) -> None:
        self.source, self.row, self.field, self.problem = source, row, field, problem
        where = f"row {row}" if row is not None else "<source>"
        super().__init__(f"source {source}: {where}: field '{field}': {problem}")


def _rows(spec: TableSource) -> Iterator[tuple[int, Any]]:
    """(row number, row) of the table; JSONL rows are numbered by line, others from 1."""
    label, path = spec.name, spec.path
    fmt = spec.format or ("hf" if path.is_dir() else "parquet" if path.suffix == ".parquet" else "jsonl")
    if not path.exists():
        raise SourceError(label, None, "path", f"no file or directory {path}")
    if fmt == "jsonl":
        try:
            lines = path.read_text().splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise SourceError(label, None, "path", f"cannot read {path}: {exc}") from None
        for n, raw in enumerate(lines, start=1):
            if raw.strip() and not raw.strip().startswith("//"):
                try:
                    yield n, json.loads(raw)
                except json.JSONDecodeError as exc:
                    raise SourceError(label, n, "<json>", f"invalid JSON: {exc.msg} at column {exc.colno}") from None
        return
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            rows = pq.read_table(path).to_pylist()
        except (OSError, pa.ArrowException) as exc:
            raise SourceError(label, None, "path", f"not a readable Parquet file {path}: {exc}") from None
    else:
        from datasets import DatasetDict, load_from_disk

        try:
            data = load_from_disk(str(path))
        except (OSError, ValueError, FileNotFoundError) as exc:
            raise SourceError(label, None, "path", f"not a saved datasets directory {path}: {exc}") from None
        if isinstance(data, DatasetDict):
            if spec.hf_split not in data:
                raise SourceError(label, None, "hf_split", f"name one of the splits {sorted(data)}")
            data = data[spec.hf_split]
        rows = list(data)
    yield from enumerate(rows, start=1)


def _prompt_parts(value: Any) -> tuple[str, str | None] | None:
    """(user text, system text) of a prompt given as a string or as chat messages."""
    if isinstance(value, str) and value.strip():
        return value, None
    if isinstance(value, list) and value and all(isinstance(m, dict) for m in value):
        users = [m.get("content") for m in value if m.get("role") == "user"]
        systems = [m.get("content") for m in value if m.get("role") == "system"]
        if len(users) == 1 and isinstance(users[0], str) and users[0].strip():
            return users[0], systems[0] if systems and isinstance(systems[0], str) else None
    return None


def derived_known_bad(answer: str, kind: str) -> list[str]:
    """Answers that must fail: an off-by-one and a different value of the same kind."""
    if kind == "number":
        value = parse_number(answer) or Fraction(0)
        bad = [value + 1, value - 1]
        return [f"Answer: {b.numerator if b.denominator == 1 else f'{b.numerator}/{b.denominator}'}" for b in bad]
    if kind == "choice":
        return [f"Answer: {c}" for c in "ABCDE" if c != answer.strip().upper()][:2]
    if kind == "expression":
        return [f"Answer: ({answer}) + 1"]
    return ["Answer: null" if answer.strip() != "null" else "Answer: 0"]


def _table_task(spec: TableSource, row_no: int, row: Any, default_cost: float) -> Task:
    label, cols = spec.name, spec.columns
    if not isinstance(row, dict):
        raise SourceError(label, row_no, "<row>", f"expected an object of columns, got {type(row).__name__}")
    parts = _prompt_parts(row.get(cols.prompt))
    if parts is None:
        raise SourceError(label, row_no, cols.prompt, "missing, empty, or not a string / one-user-turn chat")
    answer = row.get(cols.answer)
    if isinstance(answer, bool) or not isinstance(answer, str | int | float) or str(answer).strip() == "":
        raise SourceError(label, row_no, cols.answer, f"must be a non-empty string or number, got {answer!r}")
    answer = str(answer).strip()
    if spec.answer_kind == "number" and parse_number(answer) is None:
        raise SourceError(label, row_no, cols.answer, f"{answer!r} is not a number (set answer_kind)")
    if spec.answer_kind == "json":
        try:
            json.loads(answer)
        except json.JSONDecodeError:
            raise SourceError(label, row_no, cols.answer, f"{answer[:40]!r} is not JSON") from None
    row_id = row.get(cols.id) if cols.id else row_no
    if cols.id and (isinstance(row_id, bool) or not isinstance(row_id, str | int) or str(row_id) == ""):
        raise SourceError(label, row_no, cols.id, f"must be a non-empty string or integer, got {row_id!r}")
    split = row.get(cols.split) if cols.split and row.get(cols.split) is not None else spec.split
    if split not in SPLITS:
        raise SourceError(label, row_no, cols.split or "split", f"must be base, pool or heldout, got {split!r}")
    cost = row.get(cols.authoring_cost_usd) if cols.authoring_cost_usd else None
    if cost is None:
        cost = spec.authoring_cost_usd if spec.authoring_cost_usd is not None else default_cost
    if isinstance(cost, bool) or not isinstance(cost, int | float) or cost < 0:
        raise SourceError(label, row_no, cols.authoring_cost_usd or "authoring_cost_usd", f"bad cost {cost!r}")
    text, system = parts
    default = Reasoning.default_instruction if spec.answer_kind == "number" else ANSWER_INSTRUCTION
    prompt = PromptSpec(template=text, instruction=spec.instruction or default)
    return build_task(
        name=f"{label}-{row_id}",
        domain="reasoning",
        prompt=prompt,
        verifier=NumericAnswer(answer=answer, kind=spec.answer_kind),
        reference_solution=f"Answer: {answer}",
        known_bad=derived_known_bad(answer, spec.answer_kind),
        authoring_cost_usd=float(cost),
        provenance=Provenance(kind="human", split=split, source_file=f"{spec.path}"),
        system=system,
    )


def load_table_source(spec: TableSource, default_cost: float = 20.0) -> list[Task]:
    return [_table_task(spec, n, row, default_cost) for n, row in _rows(spec)]


def load_gym_source(spec: ReasoningGymSource, default_cost: float = 20.0) -> list[Task]:
    """Items 0..size-1 of the generator; resampling draws from the indexes after them."""
    label = spec.label
    if spec.base > spec.size:
        raise SourceError(label, None, "base", f"{spec.base} base items but only size {spec.size}")
    config = json.dumps(spec.config, sort_keys=True)
    probe = GymAnswer(dataset=spec.dataset, config=config, seed=spec.seed, index=0, answer="")
    tasks = []
    for index in range(spec.size):
        try:
            params, verifier = gym_item_params(probe, index)
        except Exception as exc:  # reasoning-gym raises ValueError/KeyError/TypeError/AssertionError on bad specs
            field = "dataset" if index == 0 and "not registered" in str(exc) else "config"
            raise SourceError(label, index + 1, field, f"reasoning-gym could not build the item: {exc!r}") from None
        bad = gym_known_bad(verifier)
        if not bad:
            raise SourceError(label, index + 1, "answer", "no wrong answer fails score_answer; cannot check V_verify")
        prompt = PromptSpec(
            template="{question}",
            params=params,
            param_space={"index": {"min": spec.size, "max": GYM_SPAN - 1}},
            instruction=GYM_INSTRUCTION,
        )
        cost = spec.authoring_cost_usd if spec.authoring_cost_usd is not None else default_cost
        tasks.append(
            build_task(
                name=f"{label}-{index}",
                domain="reasoning",
                prompt=prompt,
                verifier=verifier,
                reference_solution=f"Answer: {verifier.answer}",
                known_bad=bad,
                authoring_cost_usd=float(cost),
                provenance=Provenance(
                    kind="human",
                    split="base" if index < spec.base else spec.split,
                    source_file=f"reasoning-gym:{label}",
                ),
            )
        )
    return tasks


def load_vf_source(spec: VerifiersSource, default_cost: float = 20.0) -> list[Task]:
    """The taskset's tasks (up to `limit`): prompt and system prompt from the task data, the reference answer
    from `answer_field`, the verifier the task's own rewards (core/domains/reasoning/vf_tasks.py)."""
    from rlvr_assets.core.domains.reasoning.vf_tasks import VerifiersReward, vf_known_bad, vf_tasks

    label = spec.label
    config = json.dumps(spec.config, sort_keys=True)
    try:
        tasks = list(vf_tasks(spec.taskset, config).values())
    except Exception as exc:  # import errors, config validation, the user's load() raising
        raise SourceError(
            label, None, "taskset", f"verifiers could not load taskset {spec.taskset!r}: {exc!r}"
        ) from None
    out = []
    for row, vf_task in enumerate(tasks[: spec.limit] if spec.limit else tasks, start=1):
        data = vf_task.data
        parts = _prompt_parts(data.prompt if isinstance(data.prompt, str) else data.model_dump()["prompt"])
        if parts is None:
            raise SourceError(label, row, "prompt", "missing, empty, or not a single user turn")
        answer = getattr(data, spec.answer_field, None)
        if answer is None or str(answer).strip() == "":
            raise SourceError(label, row, spec.answer_field, "no reference answer on the task data")
        verifier = VerifiersReward(taskset=spec.taskset, config=config, key=vf_task.key, answer=str(answer))
        bad = vf_known_bad(verifier)
        if not bad:
            raise SourceError(label, row, spec.answer_field, "no wrong reply scores 0; cannot check V_verify")
        text, system = parts
        cost = spec.authoring_cost_usd if spec.authoring_cost_usd is not None else default_cost
        out.append(
            build_task(
                name=f"{label}-{data.id or data.name or row}",
                domain="reasoning",
                prompt=PromptSpec(template=text, instruction=""),
                verifier=verifier,
                reference_solution=spec.reference.format(answer=answer),
                known_bad=bad,
                authoring_cost_usd=float(cost),
                provenance=Provenance(
                    kind="human", split="base" if row <= spec.base else spec.split, source_file=f"verifiers:{label}"
                ),
                system=system or data.system_prompt,
            )
        )
    return out


def load_source(spec: SourceSpec, default_cost: float = 20.0) -> list[Task]:
    if isinstance(spec, TableSource):
        return load_table_source(spec, default_cost)
    if isinstance(spec, VerifiersSource):
        return load_vf_source(spec, default_cost)
    return load_gym_source(spec, default_cost)


def load_sources(specs: Sequence[SourceSpec], default_cost: float = 20.0, known: Sequence[Task] = ()) -> list[Task]:
    """Every source's tasks; a name or content already seen (in `known` or an earlier row) is an error."""
    names = {t.name: "the seed files" for t in known}
    ids = {t.id: t.name for t in known}
    out: list[Task] = []
    for spec in specs:
        label = source_label(spec)
        for row, task in enumerate(load_source(spec, default_cost), start=1):
            if task.name in names:
                raise SourceError(label, row, "id", f"duplicate task name {task.name} (also in {names[task.name]})")
            if task.id in ids:
                raise SourceError(label, row, "prompt", f"same content as task {ids[task.id]}")
            names[task.name], ids[task.id] = f"source {label}", task.name
            out.append(task)
    return out


def source_licences(specs: Sequence[SourceSpec]) -> dict[str, str]:
    """Licence of each source by name (for dataset cards); unknown when the config does not say."""
    return {source_label(s): s.licence or "unknown (not stated in the config)" for s in specs}


def validate_sources(specs: Sequence[SourceSpec], report: ValidationReport) -> ValidationReport:
    """`report` plus every source task, each checked as a seed is (reference passes, known-bad fail)."""
    from rlvr_assets.core.gate.factors import check_verify
    from rlvr_assets.core.gate.validation import Problem, ValidationReport

    tasks = load_sources(specs, known=report.tasks)
    problems = list(report.problems)
    for task in tasks:
        verdict = check_verify(task)
        if not verdict.passed:
            field = "reference" if "reference" in verdict.reason else "known_bad"
            problems.append(Problem(task.provenance.source_file or "", 0, task.name, task.id, field, verdict.reason))
    return ValidationReport([*report.tasks, *tasks], problems)
