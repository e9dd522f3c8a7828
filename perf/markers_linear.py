"""Old answer-marker regexes vs the linear scans of core/kernel/markers.py, side by side in one run (issue 20, class 2).

Prints, per hostile completion, the seconds each takes and the ratio. The old patterns are cubic or quadratic
in these inputs, so sizes are kept where the old side still ends in seconds.
Run: PYTHONPATH=. python perf/markers_linear.py
"""

from __future__ import annotations

import re
import time

from rlvr_assets.core.kernel.markers import boxed_at_line_end, marked_answers, tagged

OLD_MARKED = re.compile(r"answer\s*(?:is|=|:)\s*\**\s*(.+?)\s*\**\s*$", re.IGNORECASE | re.MULTILINE)
OLD_BOXED = re.compile(r"\\boxed\{(.+?)\}\s*$", re.MULTILINE)
OLD_TAG = re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.DOTALL)

CASES = [
    ("Answer: x, 1,000 spaces, y", "Answer: x" + " " * 1_000 + "y", OLD_MARKED.findall, marked_answers),
    ("Answer: x, 2,000 spaces, y", "Answer: x" + " " * 2_000 + "y", OLD_MARKED.findall, marked_answers),
    ("10,000 unclosed \\boxed{", "\\boxed{" * 10_000, OLD_BOXED.findall, boxed_at_line_end),
    (
        "10,000 opening <tool_call> tags",
        "<tool_call>" * 10_000,
        OLD_TAG.findall,
        lambda t: tagged(t, "<tool_call>", "</tool_call>"),
    ),
]


def _seconds(fn, text: str) -> float:
    start = time.perf_counter()
    fn(text)
    return time.perf_counter() - start


def main() -> None:
    print(f"{'completion':<34} {'old s':>9} {'new s':>9} {'old/new':>9}")
    for name, text, old, new in CASES:
        old_s, new_s = _seconds(old, text), _seconds(new, text)
        print(f"{name:<34} {old_s:>9.3f} {new_s:>9.5f} {old_s / max(new_s, 1e-9):>9.0f}")


if __name__ == "__main__":
    main()
