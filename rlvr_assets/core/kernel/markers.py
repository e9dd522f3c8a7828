"""Where a completion marks its answer, found in linear time.

The markers were regular expressions whose nested, adjacent quantifiers backtrack: `answer:\\s*\\**\\s*(.+?)\\s*
\\**\\s*$` takes cubic time in a run of spaces (`Answer: x`, 2,600 spaces, `y`: 17 s), and a lazy body with no
closing fence or tag is rescanned from every opening (quadratic). Each function here returns exactly what
`re.findall` of the pattern in its docstring returns on ordinary text, by scanning forward once: every
character is looked at a bounded number of times, whatever the text. Where the old pattern matched only by
backtracking into junk (a marker followed by nothing but spaces and stars), the answer is "" (still no
value: the callers score it 0, as they did the junk).
"""

from __future__ import annotations

import re

_ANSWER_MARK = re.compile(r"answer\s*(?:is|=|:)", re.IGNORECASE)  # linear: one scan of one space run per hit
BOXED = "\\boxed{"


def _skip_space(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i].isspace():
        i += 1
    return i


def _skip_stars(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i] == "*":
        i += 1
    return i


def _line_end(text: str, i: int) -> int:
    end = text.find("\n", i)
    return len(text) if end < 0 else end


def marked_answers(text: str) -> list[str]:
    """`re.findall(r"answer\\s*(?:is|=|:)\\s*\\**\\s*(.+?)\\s*\\**\\s*$", text, re.I | re.M)`: per marker, the first
    line with text after it (leading space, stars, space skipped, across lines), less its trailing space,
    stars and space."""
    out: list[str] = []
    pos = 0
    while (mark := _ANSWER_MARK.search(text, pos)) is not None:
        start = _skip_space(text, _skip_stars(text, _skip_space(text, mark.end())))
        end = _line_end(text, start)
        value = text[start:end].rstrip().rstrip("*").rstrip()
        if value or any(c != "\n" for c in text[mark.end() : end]):
            out.append(value)
        pos = max(end, mark.end())
    return out


def boxed_at_line_end(text: str) -> list[str]:
    """`re.findall(r"\\\\boxed\\{(.+?)\\}\\s*$", text, re.M)`: per line, from its first \\boxed{ to the line's last
    non-space character when that is the closing brace (what lies between, braces included)."""
    out: list[str] = []
    pos = 0
    n = len(text)
    while pos <= n:
        end = _line_end(text, pos)
        start = text.find(BOXED, pos, end)
        if start >= 0:
            line = text[start + len(BOXED) : end].rstrip()
            if len(line) > 1 and line.endswith("}"):
                out.append(line[:-1])
        pos = end + 1
    return out


def fenced_blocks(text: str, languages: tuple[str, ...]) -> list[str]:
    """`re.findall(r"```(?:lang1|lang2)?\\s*\\n(.*?)```", text, re.S)`: the body of each fenced block, from after
    the last newline of the space that follows the opening fence (and its optional language tag) to the next
    fence."""
    out: list[str] = []
    pos = 0
    while (open_at := text.find("```", pos)) >= 0:
        body = None
        for tag in (*languages, ""):
            if not text.startswith(tag, open_at + 3):
                continue
            space_from = open_at + 3 + len(tag)
            space_to = _skip_space(text, space_from)
            newline = text.rfind("\n", space_from, space_to)
            if newline >= 0:
                body = newline + 1
                break
        if body is None:
            pos = open_at + 1
            continue
        close_at = text.find("```", body)
        if close_at < 0:  # no fence after this one: no later opening can close either
            break
        out.append(text[body:close_at])
        pos = close_at + 3
    return out


def tagged(text: str, open_tag: str, close_tag: str) -> list[str]:
    """`re.findall(open_tag + r"\\s*(.*?)\\s*" + close_tag, text, re.S)` for literal tags: what lies between each
    opening tag and the next closing tag, stripped of surrounding space."""
    out: list[str] = []
    pos = 0
    while (open_at := text.find(open_tag, pos)) >= 0:
        close_at = text.find(close_tag, open_at + len(open_tag))
        if close_at < 0:
            break
        out.append(text[open_at + len(open_tag) : close_at].strip())
        pos = close_at + len(close_tag)
    return out
