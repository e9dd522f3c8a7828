"""BFCL v4 (from the installed `bfcl-eval` package): single-turn categories scored by BFCL's AST rules.

`bfcl_eval`'s own AST checker module imports every model handler (openai, anthropic, ...), which the
project does not install, so its matching rules are re-implemented here: the function name must match,
required parameters must be present, every given parameter must be one the function declares, and each
value must be among the ground truth's possible values after BFCL's string standardisation (spaces and
",./-_*^" removed, lower-cased, quotes unified); an omitted optional parameter needs "" among them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rlvr_assets.core.answers import Verdict
from rlvr_assets.core.environments import parse_tool_calls

_STANDARDIZE = re.compile(r"[ \,\.\/\-\_\*\^]")
_TYPES = {
    "integer": int,
    "float": float,
    "number": float,
    "boolean": bool,
    "string": str,
    "array": list,
    "tuple": list,
    "dict": dict,
    "object": dict,
    "any": object,
}


def standardize(value: str) -> str:
    return _STANDARDIZE.sub("", value).lower().replace("'", '"')


def _value_matches(value: Any, possible: list[Any], declared: str) -> bool:
    if declared in ("float", "number") and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
        possible = [float(p) if isinstance(p, int) and not isinstance(p, bool) else p for p in possible]
    expected_type = _TYPES.get(declared, object)
    if expected_type is not object and not isinstance(value, expected_type):
        return False
    if isinstance(value, str):
        return standardize(value) in {standardize(p) for p in possible if isinstance(p, str)}
    if isinstance(value, list):
        return any(
            isinstance(p, list)
            and len(p) == len(value)
            and all(
                (standardize(a) == standardize(b)) if isinstance(a, str) and isinstance(b, str) else a == b
                for a, b in zip(value, p, strict=True)
            )
            for p in possible
        )
    return value in possible


def check_call(
    call_name: str, arguments: dict[str, Any], function: dict[str, Any], truth: dict[str, list[Any]]
) -> str | None:
    """None when the call matches, else why not."""
    if call_name != function["name"]:
        return f"called {call_name}, expected {function['name']}"
    properties = function["parameters"].get("properties", {})
    for name in function["parameters"].get("required", []):
        if name not in arguments:
            return f"missing required parameter {name!r}"
    for name, value in arguments.items():
        if name not in properties:
            return f"unexpected parameter {name!r}"
        if name not in truth:
            return f"parameter {name!r} should not be given"
        if not _value_matches(value, truth[name], properties[name].get("type", "any")):
            return f"wrong value for {name!r}: {json.dumps(value)[:60]}"
    for name, possible in truth.items():
        if name not in arguments and "" not in possible and None not in possible:
            return f"missing parameter {name!r}"
    return None


def check_bfcl_single(completion: str, functions: list[dict[str, Any]], ground_truth: list[dict[str, Any]]) -> Verdict:
    """Exactly the ground truth's calls (in any order for parallel categories), each matching by the AST rules."""
    calls = parse_tool_calls(completion)
    if not calls:
        return Verdict(0.0, "no function call")
    if len(calls) != len(ground_truth):
        return Verdict(0.0, f"{len(calls)} calls, expected {len(ground_truth)}")
    by_name = {f["name"]: f for f in functions}
    unmatched = list(ground_truth)
    for call in calls:
        problems = []
        for truth in unmatched:
            name, params = next(iter(truth.items()))
            function = by_name.get(name)
            problem = (
                "unknown function" if function is None else check_call(call.name, call.arguments, function, params)
            )
            if problem is None:
                unmatched.remove(truth)
                break
            problems.append(problem)
        else:
            return Verdict(0.0, problems[0] if problems else "call matches nothing")
    return Verdict(1.0, "all calls match the ground truth")


# --- multi-turn: BFCL's own executable API classes and state-based checker, run inside the sandbox -------
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PROGRAM = """
import json, sys
from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker import multi_turn_checker
from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_utils import execute_multi_turn_func_call
job = json.loads(sys.stdin.read())
entry = job["entry"]
if job["mode"] == "execute":
    results = []
    for step in job["history"] + [job["calls"]]:
        results, _ = execute_multi_turn_func_call(step, entry["initial_config"], entry["involved_classes"],
                                                  "rlvr", entry["id"])
    out = [str(r) for r in results]
else:
    verdict = multi_turn_checker(job["decoded"], job["ground_truth"], entry, "multi_turn_base", "rlvr")
    out = {"valid": bool(verdict["valid"]), "error": str(verdict.get("error_message", ""))[:300]}
sys.stdout.write("\\n" + MARKER + json.dumps(out) + "\\n")
"""


def to_call_string(name: str, arguments: dict[str, Any]) -> str | None:
    """BFCL's call syntax, built only from an identifier and literal values (None: not a valid call)."""
    if not _IDENTIFIER.match(name) or not all(_IDENTIFIER.match(k) for k in arguments):
        return None
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in arguments.items())})"


def decode_turn(text: str) -> list[str]:
    calls = [to_call_string(c.name, c.arguments) for c in parse_tool_calls(text)]
    return [c for c in calls if c is not None]


def _run_bfcl(job: dict[str, Any]) -> Any:
    import secrets

    from rlvr_assets.core.sandbox import SandboxLimits, run_python

    marker = f"@@BFCL-{secrets.token_hex(8)}@@"
    program = _PROGRAM.replace("MARKER", json.dumps(marker))
    result = run_python(program, json.dumps(job), SandboxLimits(wall_seconds=30, cpu_seconds=30, memory_mb=2048))
    lines = [line for line in result.stdout.splitlines() if line.startswith(marker)]
    if not lines:
        raise RuntimeError(f"BFCL sandbox failed: {result.stderr.strip()[-300:]}")
    return json.loads(lines[-1][len(marker) :])


def execute_calls(entry: dict[str, Any], history: list[list[str]], calls: list[str]) -> list[str]:
    """Results of `calls` after replaying `history`, from BFCL's API classes (in the sandbox)."""
    return list(_run_bfcl({"mode": "execute", "entry": entry, "history": history, "calls": calls}))


def check_bfcl_multi_turn(entry: dict[str, Any], ground_truth: list[list[str]], completion: str) -> Verdict:
    """BFCL's multi_turn_checker on the decoded calls (JSON: turns -> steps -> call strings)."""
    try:
        decoded = json.loads(completion)
    except json.JSONDecodeError:
        return Verdict(0.0, "completion is not a decoded multi-turn episode")
    if not (
        isinstance(decoded, list)
        and len(decoded) == len(ground_truth)
        and all(isinstance(t, list) and all(isinstance(s, list) for s in t) for t in decoded)
    ):
        return Verdict(0.0, f"episode has the wrong shape (expected {len(ground_truth)} turns of steps)")
    if any(not isinstance(c, str) or not to_call_string_valid(c) for t in decoded for s in t for c in s):
        return Verdict(0.0, "episode contains a call that is not a plain call with literal arguments")
    try:
        out = _run_bfcl({"mode": "check", "entry": entry, "decoded": decoded, "ground_truth": ground_truth})
    except RuntimeError as exc:
        return Verdict(0.0, str(exc))
    return Verdict(1.0, "state and responses match BFCL's ground truth") if out["valid"] else Verdict(0.0, out["error"])


def to_call_string_valid(call: str) -> bool:
    """A call string is acceptable only as name(literal, ..., k=literal): nothing else reaches BFCL's eval."""
    import ast

    try:
        node = ast.parse(call, mode="eval").body
    except SyntaxError:
        return False
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        return False
    try:
        for arg in node.args:
            ast.literal_eval(arg)
        for keyword in node.keywords:
            if keyword.arg is None:
                return False
            ast.literal_eval(keyword.value)
    except ValueError:
        return False
    return True
