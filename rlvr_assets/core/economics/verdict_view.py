"""The answer first: the verdict table a reader sees before any number, and the one-file HTML report.

`verdict_table(rows)` only lays out rows it is given (one per augmented arm, estimator and cost ratio);
`verdict_rows` makes them from the statistics' decisions (`trade_stats.decide`: one-sided bounds, the verdict
and its reason).
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from rlvr_assets.core.economics.trade_stats import Decision

PAYS, DOES_NOT_PAY, CANNOT_TELL = "pays", "does not pay", "cannot tell"


@dataclass(frozen=True)
class VerdictRow:
    """One decision: does augmenting `arm` pay at cost ratio r, and what the verdict rests on."""

    arm: str
    estimator: str
    cost_ratio: float
    rho: float | None
    rho_low: float | None
    rho_high: float | None
    rho_cost_low: float | None
    rho_cost_high: float | None
    verdict: str
    identified: bool | None
    why: str


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _interval(point: float | None, low: float | None, high: float | None) -> str:
    if point is None:
        return "-"
    if low is None or high is None:
        return _num(point)
    return f"{_num(point)} [{_num(low)}, {_num(high)}]"


def verdict_rows(decisions: Sequence[Decision]) -> list[VerdictRow]:
    """The display rows of the statistics' decisions (`trade_stats.decide`): the verdict and what it rests on."""
    return [
        VerdictRow(
            arm=d.arm,
            estimator=d.estimator,
            cost_ratio=d.cost_ratio,
            rho=d.rho,
            rho_low=d.rho_low,
            rho_high=d.rho_high,
            rho_cost_low=d.rho_cost_low,
            rho_cost_high=d.rho_cost_high,
            verdict=d.verdict,
            identified=d.identified,
            why=d.reason,
        )
        for d in decisions
    ]


SHORT_ESTIMATOR = {"dominance_bound": "bound", "log_interpolation": "interp"}


def verdict_table(rows: Sequence[VerdictRow], compact: bool = False) -> pl.DataFrame:
    """The verdict table as shown: verdict and identified before the numbers, the numbers as short
    "x [low, high]" strings (95% bootstrap intervals), then what the verdict rests on. `compact` (the UI's
    narrow metadata column, which does not wrap tables) keeps the verdict, identified and the lower bound of
    rho_cost only; rho with its CI and the reasons are then in `verdict_reasons` and the full tables."""
    records = []
    for r in rows:
        rho_cost = None if r.rho is None else r.rho * r.cost_ratio
        record = {
            "arm": f"{r.arm} {SHORT_ESTIMATOR.get(r.estimator, r.estimator)}",
            "r": f"{r.cost_ratio:g}",
            "verdict": r.verdict,
            "identified": "-" if r.identified is None else ("yes" if r.identified else "no"),
        }
        if compact:
            record["rho_cost low"] = _num(r.rho_cost_low)
        else:
            record |= {
                "rho [CI]": _interval(r.rho, r.rho_low, r.rho_high),
                "rho_cost [CI]": _interval(rho_cost, r.rho_cost_low, r.rho_cost_high),
                "why": r.why,
            }
        records.append(record)
    columns = ["arm", "r", "verdict", "identified"]
    columns += ["rho_cost low"] if compact else ["rho [CI]", "rho_cost [CI]", "why"]
    return pl.DataFrame(records, schema={c: pl.String for c in columns})


def verdict_reasons(rows: Sequence[VerdictRow]) -> str:
    """What each verdict rests on, once per distinct reason (the UI table leaves this column out to fit)."""
    seen: dict[str, list[str]] = {}
    for r in rows:
        where = f"{r.arm} {SHORT_ESTIMATOR.get(r.estimator, r.estimator)} r={r.cost_ratio:g}"
        seen.setdefault(f"rho {_interval(r.rho, r.rho_low, r.rho_high)}: {r.why}", []).append(where)
    return "\n".join(f"{why} ({'; '.join(where)})" for why, where in seen.items())


def short_summary(text: str, limit: int = 280) -> str:
    """The first sentences of the run summary that fit `limit` characters (the rest is in the report)."""
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    out = ""
    for sentence in sentences:
        if len(out) + len(sentence) + 1 > limit:
            break
        out = f"{out} {sentence}".strip()
    return out or text[: limit - 1] + "…"


def _inline_images(markdown_html: str, folder: Path) -> str:
    def embed(match: re.Match[str]) -> str:
        alt, name = match.group(1), match.group(2)
        path = folder / name
        if not path.is_file() or "/" in name:
            return html.escape(f"[{alt}: {name} missing]")
        data = base64.b64encode(path.read_bytes()).decode()
        return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"></figure>'

    return re.sub(r"!\[([^\]]*)\]\(([^)\s]+\.png)\)", embed, markdown_html)


def _markdown_to_html(text: str) -> str:
    """The small Markdown subset report.md uses: headings, quotes, pipe tables, images, paragraphs."""
    out: list[str] = []
    table: list[list[str]] = []

    def flush_table() -> None:
        if not table:
            return
        head, *body = [r for r in table if not all(set(c) <= set("-: ") for c in r)]
        out.append("<table><thead><tr>" + "".join(f"<th>{c}</th>" for c in head) + "</tr></thead><tbody>")
        out.extend("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in body)
        out.append("</tbody></table>")
        table.clear()

    for raw in text.splitlines():
        line = html.escape(raw.rstrip(), quote=False)
        line = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", line)
        line = re.sub(r"`([^`]+)`", r"<code>\1</code>", line)
        if line.startswith("|"):
            table.append([c.strip() for c in line.strip("|").split("|")])
            continue
        flush_table()
        if not line:
            continue
        heading = re.match(r"(#{1,4}) (.*)", line)
        if heading:
            level = len(heading.group(1))
            out.append(f"<h{level}>{heading.group(2)}</h{level}>")
        elif line.startswith("&gt; "):
            out.append(f"<blockquote>{line[5:]}</blockquote>")
        else:
            out.append(f"<p>{line}</p>")
    flush_table()
    return "\n".join(out)


STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;"
    "text-align:left;vertical-align:top}th{background:#f3f3f3}img{max-width:100%}blockquote{border-left:4px "
    "solid #c62828;margin:1em 0;padding:.5em 1em;background:#fff3f3}.pays{color:#1b5e20;font-weight:600}"
    ".cannot{color:#8a6d00}.notpay{color:#b71c1c;font-weight:600}"
)


def write_report_html(report_md: Path, verdicts: pl.DataFrame, out: Path | None = None) -> Path:
    """report.md as one self-contained HTML file: the verdict table first, every figure inline (base64), so it
    can be mailed or archived without the folder beside it."""
    folder = report_md.parent
    body = _inline_images(_markdown_to_html(report_md.read_text()), folder)
    classes = {PAYS: "pays", DOES_NOT_PAY: "notpay", CANNOT_TELL: "cannot"}
    head = "".join(f"<th>{html.escape(c)}</th>" for c in verdicts.columns)
    rows = "".join(
        "<tr>"
        + "".join(
            f'<td class="{classes.get(v, "")}">{html.escape(str(v))}</td>'
            if k == "verdict"
            else f"<td>{html.escape(str(v))}</td>"
            for k, v in row.items()
        )
        + "</tr>"
        for row in verdicts.iter_rows(named=True)
    )
    verdict_html = f"<h2>Verdict</h2><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    title_end = body.find("</h1>")
    body = body[: title_end + 5] + verdict_html + body[title_end + 5 :] if title_end >= 0 else verdict_html + body
    target = out or folder / "report.html"
    target.write_text(
        f'<!doctype html><html><head><meta charset="utf-8"><title>rlvr_assets report</title>'
        f"<style>{STYLE}</style></head><body>{body}</body></html>\n"
    )
    return target


__all__ = [
    "CANNOT_TELL",
    "DOES_NOT_PAY",
    "PAYS",
    "VerdictRow",
    "short_summary",
    "verdict_reasons",
    "verdict_rows",
    "verdict_table",
    "write_report_html",
]
