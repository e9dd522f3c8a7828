"""The one template language of task prompts: plain `{name}` fields, and `{{` / `}}` for literal braces.

Templates come from seed files, candidate files and LLM rewrites, so they are untrusted. `str.format` is a
small language of its own: a width spec such as `{n:>1000000000}` costs 2 GB per render, `{a.attr}` and
`{a[0]}` reach into Python objects (rendering their internals into prompts, or raising), and `{}` / `{0}` are
positional. Here a field is an ASCII identifier between braces and nothing else; any other brace is an error
(`TemplateError`, a ValueError naming the position) when the template is read, not when it is rendered. A
rendered prompt is at most MAX_RENDERED_CHARS long. Seeds, candidates, operators and the rewrite validator
all parse and render through this module.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_RENDERED_CHARS = 1_000_000
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class TemplateError(ValueError):
    """A template outside the language (a brace that is not a plain `{name}` field or an escape), or one that
    cannot be rendered with the params given."""


@dataclass(frozen=True)
class Field:
    name: str
    at: int  # character offset of its opening brace


def parse(template: str) -> list[str | Field]:
    """Literal text and fields, in order (literal braces already unescaped); TemplateError outside the language."""
    parts: list[str | Field] = []
    text: list[str] = []
    i, n = 0, len(template)
    while i < n:
        brace = min((p for p in (template.find("{", i), template.find("}", i)) if p >= 0), default=n)
        text.append(template[i:brace])
        if brace == n:
            break
        if template.startswith("{{", brace) or template.startswith("}}", brace):
            text.append(template[brace])
            i = brace + 2
            continue
        if template[brace] == "}":
            raise TemplateError(f"single '}}' at character {brace} (write '}}}}' for a literal brace)")
        close = template.find("}", brace + 1)
        if close < 0:
            raise TemplateError(f"'{{' at character {brace} is never closed (write '{{{{' for a literal brace)")
        name = template[brace + 1 : close]
        if not _NAME.fullmatch(name):
            shown = name if len(name) <= 40 else name[:39] + "…"
            raise TemplateError(
                f"field {{{shown}}} at character {brace}: only plain {{name}} fields are allowed "
                "(no format spec, conversion, attribute, index or position)"
            )
        if text:
            parts.append("".join(text))
            text = []
        parts.append(Field(name, brace))
        i = close + 1
    if text:
        parts.append("".join(text))
    return parts


def field_names(template: str) -> set[str]:
    """The names of the template's fields (TemplateError outside the language)."""
    return {p.name for p in parse(template) if isinstance(p, Field)}


def render(template: str, params: Mapping[str, Any]) -> str:
    """Each `{name}` replaced by `str(params[name])`; TemplateError for a field without a param, a template
    outside the language or a result over MAX_RENDERED_CHARS."""
    out: list[str] = []
    size = 0
    for part in parse(template):
        if isinstance(part, Field):
            if part.name not in params:
                raise TemplateError(f"field {{{part.name}}} at character {part.at} has no param")
            piece = str(params[part.name])
        else:
            piece = part
        size += len(piece)
        if size > MAX_RENDERED_CHARS:
            raise TemplateError(f"rendered template is over {MAX_RENDERED_CHARS:,} characters")
        out.append(piece)
    return "".join(out)
