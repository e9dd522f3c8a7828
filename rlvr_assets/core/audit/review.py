"""The human half of the gate audit: a reproducible stratified sample into a review file, and verdicts back.

`draw_sample` stratifies the gated variants by operator and decision (accepted / rejected): every non-empty
stratum gets one draw first, the rest is allocated in proportion to stratum size (largest remainder), so
pooled rates are close to self-weighting. Accepted variants that failed a probe are left out (a probe
failure is already a verdict). The same seed and the same gate results give the same sample.

The review file is a CSV (spreadsheet-friendly) and/or a self-contained HTML page (no network: its
content-security policy allows nothing from outside) showing parent, variant, ground truth and the gate's
reasons side by side; the page writes the verdicts as a CSV that `read_review_file` reads, like the CSV
itself. Every text in the page is escaped: prompts and solutions are untrusted.
"""

from __future__ import annotations

import csv
import html
import io
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from rlvr_assets.core.audit.rates import VERDICTS, json_cell
from rlvr_assets.core.kernel.files import FileProblem, read_table_text
from rlvr_assets.core.tasks.model import Task

REVIEW_COLUMNS = [
    "variant_id",
    "verdict",
    "note",
    "operator",
    "domain",
    "decision",
    "failed_factors",
    "gate_reasons",
    "probe_failures",
    "parent_prompt",
    "variant_prompt",
    "parent_truth",
    "variant_truth",
    "parent_id",
]
REVIEW_SCHEMA = {
    "variant_id": pl.String,
    "verdict": pl.String,
    "note": pl.String,
    "source_file": pl.String,
    "source_row": pl.Int64,
    "recorded_at": pl.String,
}
SAMPLE_SCHEMA = {"sample_seed": pl.Int64, "n": pl.Int64, "variant_id": pl.String, "stratum": pl.String}


class ReviewFileError(ValueError):
    """The whole review file cannot be read (missing, not UTF-8 CSV, no variant_id/verdict columns)."""


@dataclass(frozen=True)
class ReviewProblem:
    """One bad row: the file, its data row (1 = first after the header), the field and what is wrong."""

    file: str
    row: int
    field: str
    problem: str
    variant_id: str | None = None

    def line(self) -> str:
        who = f" variant {self.variant_id}" if self.variant_id else ""
        return f"{self.file}: row {self.row}{who}: field '{self.field}': {self.problem}"


@dataclass(frozen=True)
class Review:
    variant_id: str
    verdict: str
    note: str
    row: int


@dataclass(frozen=True)
class ReviewFile:
    reviews: list[Review] = field(default_factory=list)
    problems: list[ReviewProblem] = field(default_factory=list)
    blank: int = 0  # rows with no verdict yet (a partial review)


# ---------------------------------------------------------------------------------------------- sample


def _strata_allocation(sizes: dict[str, int], n: int, rng: random.Random) -> dict[str, int]:
    """One draw per stratum first (a seeded order when n is smaller), then the rest by size."""
    order = sorted(s for s, k in sizes.items() if k > 0)
    rng.shuffle(order)
    alloc = dict.fromkeys(order, 0)
    for s in order[:n]:
        alloc[s] = 1
    left = n - sum(alloc.values())
    room = {s: sizes[s] - alloc[s] for s in order}
    total = sum(room.values())
    if left > 0 and total > 0:
        shares = {s: left * room[s] / total for s in order}
        for s in order:
            alloc[s] += min(room[s], int(shares[s]))
        spare = n - sum(alloc.values())
        for s in sorted(order, key=lambda s: (-(shares[s] - int(shares[s])), s)):
            if spare <= 0:
                break
            if alloc[s] < sizes[s]:
                alloc[s] += 1
                spare -= 1
    return alloc


def draw_sample(variants: pl.DataFrame, n: int, seed: int) -> pl.DataFrame:
    """A stratified sample (operator x accepted/rejected) of `variants` (core.gate_audit.variant_audit_frame),
    reproducible from `seed`; accepted variants with a probe failure are not drawn."""
    if n < 1:
        raise ValueError("--n must be at least 1")
    pool = variants.filter(~(pl.col("accepted") & pl.col("probe_failures").is_not_null())).with_columns(
        (
            pl.col("operator").fill_null("?")
            + "|"
            + pl.when(pl.col("accepted")).then(pl.lit("accepted")).otherwise(pl.lit("rejected"))
        ).alias("stratum")
    )
    sizes = dict(pool.group_by("stratum").agg(pl.len()).iter_rows())
    alloc = _strata_allocation(sizes, min(n, pool.height), random.Random(f"strata|{seed}"))
    picked: list[pl.DataFrame] = []
    for stratum, k in sorted(alloc.items()):
        if k <= 0:
            continue
        ids = sorted(pool.filter(pl.col("stratum") == stratum)["variant_id"].to_list())
        chosen = set(random.Random(f"{seed}|{stratum}").sample(ids, k))
        picked.append(pool.filter(pl.col("variant_id").is_in(list(chosen))))
    if not picked:
        return pool.clear()
    return pl.concat(picked).sort("stratum", "variant_id")


def _safe_cell(text: str | None) -> str:
    """A spreadsheet must not run untrusted text as a formula: a leading = + - @ gets a quote mark."""
    text = text or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def review_rows(sample: pl.DataFrame, tasks: dict[str, Task], gate: pl.DataFrame) -> list[dict[str, str]]:
    """What the reviewer sees per sampled variant: parent and variant prompts and ground truths, decision,
    every factor's verdict and reason, and the probes that failed."""
    reasons: dict[str, list[str]] = {}
    for r in gate.sort("variant_id", "factor").iter_rows(named=True):
        mark = "pass" if r["passed"] else "FAIL"
        reasons.setdefault(r["variant_id"], []).append(f"V_{r['factor']} {mark}: {r['reason']}")
    rows = []
    for r in sample.iter_rows(named=True):
        variant, parent = tasks.get(r["variant_id"]), tasks.get(r["parent_id"] or "")
        rows.append(
            {
                "variant_id": r["variant_id"],
                "verdict": "",
                "note": "",
                "operator": r["operator"] or "",
                "domain": variant.domain if variant else "",
                "decision": "accepted" if r["accepted"] else "rejected",
                "failed_factors": r["failed_factors"] or "",
                "gate_reasons": "\n".join(reasons.get(r["variant_id"], [])),
                "probe_failures": r["probe_failures"] or "",
                "parent_prompt": parent.prompt_text if parent else "(parent not found)",
                "variant_prompt": variant.prompt_text if variant else "(variant not found)",
                "parent_truth": _truth(parent),
                "variant_truth": _truth(variant),
                "parent_id": r["parent_id"] or "",
            }
        )
    return rows


def _truth(task: Task | None) -> str:
    if task is None:
        return ""
    spec = task.verifier.model_dump(mode="json")
    return f"reference solution:\n{json_cell(task.reference_solution)}\n\nverifier:\n{json_cell(spec)}"


def write_review_csv(path: Path, rows: Sequence[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=REVIEW_COLUMNS)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: (v if k in ("variant_id", "verdict", "note") else _safe_cell(v)) for k, v in r.items()})
    return path


_PAGE_SCRIPT = """
function csvCell(s) { return '"' + String(s).replace(/"/g, '""') + '"'; }
function exportVerdicts() {
  const lines = ['variant_id,verdict,note'];
  let done = 0;
  for (const card of document.querySelectorAll('section.variant')) {
    const id = card.dataset.variant;
    const picked = card.querySelector('input[type=radio]:checked');
    const note = card.querySelector('textarea').value;
    if (picked) done += 1;
    lines.push([id, picked ? picked.value : '', note].map(csvCell).join(','));
  }
  const blob = new Blob([lines.join('\\n') + '\\n'], {type: 'text/csv'});
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = document.body.dataset.verdictFile;
  a.click();
  document.getElementById('status').textContent = done + ' verdict(s) exported';
}
"""

_PAGE_STYLE = """
body { font-family: sans-serif; margin: 1.5em; }
section.variant { border: 1px solid #ccc; border-radius: 6px; padding: 0.8em; margin: 1em 0; }
.side { display: grid; grid-template-columns: 1fr 1fr; gap: 0.8em; }
pre { white-space: pre-wrap; background: #f6f6f6; padding: 0.5em; margin: 0.2em 0; font-size: 0.85em; }
.accepted { color: #1b7f3b; } .rejected { color: #b3261e; } .probe { color: #b3261e; }
"""


def write_review_html(path: Path, rows: Sequence[dict[str, str]], title: str, verdict_file: str) -> Path:
    """A self-contained page: one card per variant, parent and variant side by side, verdict buttons, and an
    export button that downloads the verdicts as a CSV for `rlvr-assets audit record`."""
    e = html.escape
    cards = []
    for i, r in enumerate(rows):
        radios = " ".join(f'<label><input type="radio" name="v{i}" value="{v}"> {v}</label>' for v in VERDICTS)
        probe = f'<p class="probe">Failed probes: {e(r["probe_failures"])}</p>' if r["probe_failures"] else ""
        cards.append(
            f'<section class="variant" data-variant="{e(r["variant_id"])}">'
            f"<h3>{i + 1}. {e(r['variant_id'])} &middot; {e(r['operator'])} &middot; {e(r['domain'])} &middot; "
            f'<span class="{e(r["decision"])}">{e(r["decision"])}</span></h3>'
            f'<div class="side"><div><h4>Parent {e(r["parent_id"])}</h4><pre>{e(r["parent_prompt"])}</pre>'
            f"<h4>Parent ground truth</h4><pre>{e(r['parent_truth'])}</pre></div>"
            f"<div><h4>Variant</h4><pre>{e(r['variant_prompt'])}</pre>"
            f"<h4>Variant ground truth</h4><pre>{e(r['variant_truth'])}</pre></div></div>"
            f"<h4>Gate</h4><pre>{e(r['gate_reasons'])}</pre>{probe}"
            f'<p>Verdict: {radios}</p><textarea rows=2 cols=80 placeholder="note (optional)"></textarea>'
            "</section>"
        )
    page = (
        '<!doctype html><html><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
        f"<title>{e(title)}</title><style>{_PAGE_STYLE}</style><script>{_PAGE_SCRIPT}</script></head>"
        f'<body data-verdict-file="{e(verdict_file)}"><h1>{e(title)}</h1>'
        "<p>For each variant: <b>correct</b> = a sound task whose ground truth is right for its own prompt "
        "(unambiguous, same meaning the operator promised); <b>broken</b> = wrong or ambiguous ground truth, or "
        "the wording changed what is asked; <b>unsure</b> = cannot tell. Leave a variant blank to skip it: a "
        "partial review is usable. Export, then run <code>rlvr-assets audit record FILE</code>.</p>"
        '<p><button onclick="exportVerdicts()">Export verdicts (CSV)</button> <span id="status"></span></p>'
        + "".join(cards)
        + '<p><button onclick="exportVerdicts()">Export verdicts (CSV)</button></p></body></html>\n'
    )
    path.write_text(page, encoding="utf-8")
    return path


def sample_record(sample: pl.DataFrame, seed: int, n: int) -> pl.DataFrame:
    """The drawn sample as a table row per variant (which seed and size drew it, and its stratum)."""
    return pl.DataFrame(
        [
            {"sample_seed": seed, "n": n, "variant_id": r["variant_id"], "stratum": r["stratum"]}
            for r in sample.iter_rows(named=True)
        ],
        schema=SAMPLE_SCHEMA,
    )


# ---------------------------------------------------------------------------------------------- verdicts


def _read_text(path: Path) -> str:
    """The review file as text (`kernel/files.read_table_text`: bounded, regular files only); any problem is one line."""
    try:
        return read_table_text(path, "a review CSV")
    except FileProblem as exc:
        raise ReviewFileError(str(exc)) from None


def read_review_file(path: Path, known_ids: set[str]) -> ReviewFile:
    """Verdicts from a review CSV (columns variant_id, verdict[, note]; others ignored). A bad row is a
    problem naming the file, row and field and is skipped; every other row is kept. Blank verdicts are a
    partial review, not an error."""
    reader = csv.DictReader(io.StringIO(_read_text(path), newline=""))
    try:
        columns = reader.fieldnames or []
    except csv.Error as exc:
        raise ReviewFileError(f"{path}: row 0: not a readable CSV header: {exc}") from None
    missing = [c for c in ("variant_id", "verdict") if c not in columns]
    if missing:
        raise ReviewFileError(f"{path}: header: missing column(s) {missing}; need variant_id,verdict[,note]")
    reviews: list[Review] = []
    problems: list[ReviewProblem] = []
    seen: dict[str, int] = {}
    blank = 0
    index = 0
    rows = iter(reader)
    while True:
        try:
            record = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:
            index += 1
            problems.append(ReviewProblem(str(path), index, "(row)", f"not a readable CSV row: {exc}"))
            break
        index += 1
        vid = (record.get("variant_id") or "").strip()
        verdict = (record.get("verdict") or "").strip().lower()
        note = (record.get("note") or "").strip()
        if not vid:
            if verdict:
                problems.append(ReviewProblem(str(path), index, "variant_id", "empty variant id"))
            continue
        if not verdict:
            blank += 1
            continue
        if vid not in known_ids:
            problems.append(
                ReviewProblem(str(path), index, "variant_id", "unknown variant id (not in gate_results)", vid)
            )
            continue
        if verdict not in VERDICTS:
            shown = verdict if len(verdict) <= 40 else verdict[:40] + "..."
            problems.append(
                ReviewProblem(str(path), index, "verdict", f"{shown!r} is not one of {'/'.join(VERDICTS)}", vid)
            )
            continue
        if vid in seen:
            problems.append(
                ReviewProblem(
                    str(path), index, "variant_id", f"duplicate verdict (first on row {seen[vid]}, kept)", vid
                )
            )
            continue
        seen[vid] = index
        reviews.append(Review(vid, verdict, note, index))
    return ReviewFile(reviews, problems, blank)


def merge_reviews(existing: pl.DataFrame | None, new: ReviewFile, source: Path) -> pl.DataFrame:
    """The stored verdicts with this file's verdicts replacing earlier ones for the same variants."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    incoming = pl.DataFrame(
        [
            {
                "variant_id": r.variant_id,
                "verdict": r.verdict,
                "note": r.note,
                "source_file": str(source),
                "source_row": r.row,
                "recorded_at": now,
            }
            for r in new.reviews
        ],
        schema=REVIEW_SCHEMA,
    )
    if existing is None or not existing.height:
        return incoming
    kept = existing.select(list(REVIEW_SCHEMA)).filter(~pl.col("variant_id").is_in(incoming["variant_id"].to_list()))
    return pl.concat([kept, incoming]).sort("variant_id")


def tasks_by_id(*frames: pl.DataFrame) -> dict[str, Task]:
    """Tasks from task frames (seed_tasks, augmented_tasks), keyed by id (rows without a task are skipped)."""
    out: dict[str, Task] = {}
    for frame in frames:
        for text in frame["task_json"].drop_nulls().to_list():
            task = Task.from_json(text)
            out[task.id] = task
    return out


def as_json(rows: Sequence[dict[str, Any]]) -> str:
    return json.dumps(list(rows), indent=2)
