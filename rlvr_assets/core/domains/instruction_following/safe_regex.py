"""Regular expressions from seed and candidate files, judged before anything runs them.

The instruction-following checkers (if-verifiable's IFEval and IFBench copies) build regular expressions from
their arguments: `keywords`, `keyword`, `forbidden_words`, `section_spliter` and `postscript_marker` go straight into
`re.search` / `re.findall` / `re.split`. Python's engine backtracks, so a pattern such as `(a+)+$` or `(\\w|\\w)*x` from a
task file hangs `seeds validate`, `verify`, the gate and training for good. Which arguments a checker uses as
patterns is the library's business, so every string of those arguments (`PATTERN_KWARGS`) is judged as a pattern.

A pattern is accepted when it is *bounded*: it does not compile (then no checker can run it: the check fails
with a reason, never hangs), or it compiles and
- is at most MAX_PATTERN_CHARS long (a sanity bound: a long literal text is fine),
- has no unbounded repeat (no `*`, `+` or `{n,}`; `?` and `{m,n}` with n <= MAX_REPEAT_COUNT are fine),
- nests no repeat inside another repeat, and
- has at most MAX_PATHS ways to try a match at one position (each `?` doubles them, `{0,50}` multiplies
  them by 51, an alternation inside a repeat raises them to the repeat's power).
Then each attempt at one position costs a bounded number of steps, so a search is linear in the text. Plain
text (keywords, phrases, `P.S.`, `Is there anything else I can help with?`) is always bounded.
"""

from __future__ import annotations

import re
from typing import Any

try:  # Python 3.11+: the parser moved under re (sre_parse is a deprecated alias)
    from re import _constants as _sre_constants  # type: ignore[attr-defined]
    from re import _parser as _sre_parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover (3.10)
    import sre_constants as _sre_constants  # type: ignore[no-redef]
    import sre_parse as _sre_parser  # type: ignore[no-redef]

# the IFEval/IFBench arguments if-verifiable builds patterns from (re.search(keyword, ...), r"\s?" + section_spliter
# + ..., r"\s*" + postscript_marker + ...); its other arguments are escaped or compared as text
PATTERN_KWARGS = frozenset({"keywords", "keyword", "forbidden_words", "section_spliter", "postscript_marker"})
MAX_PATTERN_CHARS = 20_000
MAX_REPEAT_COUNT = 100
MAX_PATHS = 256
_REPEATS = {
    _sre_constants.MAX_REPEAT,
    _sre_constants.MIN_REPEAT,
    *([_sre_constants.POSSESSIVE_REPEAT] if hasattr(_sre_constants, "POSSESSIVE_REPEAT") else []),
}


class UnsafePattern(ValueError):
    """A regular expression whose matching time is not bounded by the length of the text."""


def _cap(n: int) -> int:
    return min(n, MAX_PATHS + 1)


def _paths(items: Any, depth: int, inside_repeat: bool) -> int:
    # how many ways the pattern can try to match at one position (an upper bound, capped past MAX_PATHS)
    if depth > 50:
        raise UnsafePattern("nested too deeply")
    total = 1
    for op, arg in items:
        if op in _REPEATS:
            low, high, body = arg
            if high > MAX_REPEAT_COUNT:  # MAXREPEAT stands for "no upper bound"
                raise UnsafePattern("an unbounded repeat (*, + or {n,}) or one over 100")
            if inside_repeat:
                raise UnsafePattern("a repeat inside a repeat")
            inner = _paths(body, depth + 1, True)
            ways = (high - low + 1) * (_cap(inner**high) if inner > 1 else 1)
        elif op is _sre_constants.SUBPATTERN:
            ways = _paths(arg[-1], depth + 1, inside_repeat)
        elif op is _sre_constants.BRANCH:
            ways = sum(_paths(branch, depth + 1, inside_repeat) for branch in arg[1])
        elif op in (_sre_constants.ASSERT, _sre_constants.ASSERT_NOT):
            ways = _paths(arg[1], depth + 1, inside_repeat)
        elif op is _sre_constants.GROUPREF_EXISTS:
            ways = sum(_paths(part, depth + 1, inside_repeat) for part in arg[1:] if part is not None)
        elif op is getattr(_sre_constants, "ATOMIC_GROUP", None):
            ways = _paths(arg, depth + 1, inside_repeat)
        else:
            ways = 1
        total = _cap(total * _cap(ways))
    return total


def check_pattern(pattern: str) -> None:
    """Raise UnsafePattern (with why) unless `pattern` is bounded in the sense of this module's docstring."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise UnsafePattern(f"longer than {MAX_PATTERN_CHARS} characters")
    try:
        parsed = _sre_parser.parse(pattern)
    except (re.error, RecursionError, OverflowError, ValueError):
        return  # not a pattern at all: whatever runs it fails at once (re.error), it cannot hang
    if _paths(parsed, 0, False) > MAX_PATHS:
        raise UnsafePattern(f"more than {MAX_PATHS} ways to try a match at one position")


def unsafe_strings(value: Any, path: str = "") -> list[tuple[str, str]]:
    """(where, why) for every string inside `value` (a kwargs dict, lists of keywords) that is not bounded."""
    found: list[tuple[str, str]] = []
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            try:
                check_pattern(item)
            except UnsafePattern as exc:
                found.append((where or "value", str(exc)))
        elif isinstance(item, dict):
            stack.extend((f"{where}.{k}" if where else str(k), v) for k, v in item.items())
        elif isinstance(item, list | tuple):
            stack.extend((f"{where}[{i}]", v) for i, v in enumerate(item))
    return found
