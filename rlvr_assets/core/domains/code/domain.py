"""Code: write a function; hidden unit tests run in the code sandbox (core/domains/code/verifier.py).

Seeds give the `entry_point`, the `reference` source and either `cases` (expected values never enter the
sandbox) or HumanEval-style `tests`. Code tasks have no params, so only rephrasing operators apply and the
ground truth carries over unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from rlvr_assets.core.domains.base import PROMPT_TEXT_OPERATORS, Domain, SeedFieldError, Solution, TaskView
from rlvr_assets.core.domains.code.spec import UnitTests
from rlvr_assets.core.domains.code.verifier import check_code
from rlvr_assets.core.kernel.verdict import Verdict


def code_block(code: str) -> str:
    return f"```python\n{code.rstrip()}\n```"


class Code(Domain):
    name: ClassVar[str] = "code"
    seed_fields: ClassVar[frozenset[str]] = frozenset({"entry_point", "cases", "tests", "reference"})
    required_seed_fields: ClassVar[tuple[str, ...]] = ("entry_point", "reference")
    default_instruction: ClassVar[str] = "Reply with the complete function in one ```python code block."
    spec_types = (UnitTests,)
    operators: ClassVar[frozenset[str]] = PROMPT_TEXT_OPERATORS | {"obscure_goal"}
    hint: ClassVar[str | None] = "Think about edge cases such as empty inputs before you write the function."
    format_example: ClassVar[str | None] = (
        "For example, a reply has this shape:\n```python\ndef function_name(arguments):\n    ...\n```"
    )
    vague_instruction: ClassVar[str | None] = "Reply with the function."

    def seed_truth(self, record: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(record["reference"], str):
            raise SeedFieldError("reference", "must be the function's source code as a string")
        return {
            "verifier": UnitTests(
                entry_point=record["entry_point"], cases=record.get("cases"), tests=record.get("tests")
            ),
            "reference_solution": code_block(record["reference"]),
        }

    def seed_known_bad(self, known_bad: list[Solution], params: Mapping[str, Any]) -> list[Solution]:
        return [code_block(k) if isinstance(k, str) and "```" not in k else k for k in known_bad]

    def verify(self, task: TaskView, completion: Solution) -> Verdict:
        spec = task.verifier
        if not isinstance(spec, UnitTests):
            return Verdict(0.0, f"code task carries a {spec.type} verifier")
        return check_code(completion if isinstance(completion, str) else "\n".join(completion), spec)
