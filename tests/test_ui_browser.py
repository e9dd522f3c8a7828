"""The Dagster UI in a real browser: Debian's Chromium driven by Playwright against `dagster-webserver` serving the
tiny sweep's instance. What a researcher opens first must render: the asset graph, the report's figures and the
lineage table of an arm's corpus. Screenshots land in test-artifacts/ui/ (gitignored) for a human to look at.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from rlvr_assets.core.store.storage import read_frame
from tests.conftest import ROOT

ARTIFACTS = ROOT / "test-artifacts" / "ui"
STARTUP_SECONDS = 240


def chromium() -> str:
    """The system Chromium (scripts/setup.sh installs Debian's `chromium`); Playwright downloads no browser."""
    found = os.environ.get("RLVR_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("no system Chromium: run scripts/setup.sh (apt package `chromium`) or set RLVR_CHROMIUM")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_serving(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"dagster-webserver exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/server_info", timeout=5) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    pytest.fail(f"dagster-webserver did not serve {url} within {STARTUP_SECONDS}s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def webserver(tiny_sweep) -> Iterator[str]:
    """`dagster-webserver` on a free loopback port with the sweep's instance and config; stopped (its whole
    process group: the code server too) when the module's tests are done."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tiny_sweep["dir"] / "dagster_home"),
        "RLVR_ASSETS_CONFIG": str(tiny_sweep["dir"] / "pipeline.yaml"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    log = ARTIFACTS / "webserver.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dagster_webserver", "-h", "127.0.0.1", "-p", str(port), "-w", "workspace.yaml"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_serving(url, proc, log)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    assert proc.returncode is not None


@pytest.fixture(scope="module")
def page(webserver: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1600, "height": 1100})
        context.set_default_timeout(60_000)
        tab = context.new_page()
        # The community sign-up dialog of a fresh browser profile comes up whenever the UI gets to it, which on a
        # loaded machine can be after any check made right after a page load: dismiss it whenever it appears in
        # front of an action, instead of once, so it can never cover a click or make a second "dialog".
        skip = tab.get_by_role("button", name="Skip")
        tab.add_locator_handler(skip, lambda button: button.click())
        tab.base = webserver  # type: ignore[attr-defined]
        yield tab
        browser.close()


def _open(page, path: str) -> None:
    page.goto(page.base + path)
    page.wait_for_load_state("networkidle")


def _decoded_widths(images) -> list[int]:
    """Natural widths of the images once the browser has decoded them. `img.complete` read right after the
    element appears can still be false for a large data-URI PNG on a busy machine (the old race); `decode()`
    waits for the decoding and rejects if the data is not an image."""
    return images.evaluate_all("imgs => Promise.all(imgs.map(i => i.decode().then(() => i.naturalWidth)))")


def _metadata_row(page, key: str):
    """The row of a metadata table whose key cell is exactly `key`."""
    return page.locator(
        "tr", has=page.locator("td:first-child", has_text=re.compile(rf"^\s*{re.escape(key)}\s*$"))
    ).last


def _visible(page, text: str):
    return page.get_by_text(text, exact=True).filter(visible=True).first


def test_asset_graph_shows_every_asset_once_groups_are_expanded(page, tiny_sweep) -> None:
    _open(page, "/asset-groups")
    for group in ("tasks", "augmentation", "training", "evaluation", "economics"):
        _visible(page, group).wait_for()
    page.keyboard.press("Alt+e")  # the graph's "Expand all groups" (its settings menu, ⌥E)
    for asset in ("seed_tasks", "gate_results", "training_corpus", "policy_checkpoint", "economics_report"):
        _visible(page, asset).wait_for()
    page.screenshot(path=str(ARTIFACTS / "asset_graph.png"))


def test_training_corpus_page_shows_the_lineage_table(page, tiny_sweep) -> None:
    corpus = read_frame(tiny_sweep["cfg"].paths.duckdb_path, "training_corpus")
    variant = corpus.filter((pl.col("arm") == "aug-0.50") & (pl.col("origin") == "augmented")).row(0, named=True)
    seed_names = dict(zip(corpus["task_id"].to_list(), corpus["name"].to_list(), strict=True))
    _open(page, "/assets/training_corpus?view=partitions&partition=aug-0.50")
    table = _metadata_row(page, "lineage").locator("table").first
    table.wait_for()
    text = table.inner_text()
    assert variant["task_id"] in text and seed_names[variant["parent_id"]] in text
    assert f"{variant['operator']}@{variant['operator_version']}" in text
    for factor in ("verify pass", "solve pass", "distinct pass", "faithful pass", "informative pass"):
        assert factor in text, f"gate verdict {factor!r} missing from the lineage table"
    rejected = _metadata_row(page, "rejected_variants_of_parents").locator("table").first
    assert "FAIL" in rejected.inner_text()
    page.screenshot(path=str(ARTIFACTS / "training_corpus_lineage.png"), full_page=True)


def test_economics_report_leads_with_the_verdict_and_a_figure(page) -> None:
    _open(page, "/assets/economics_report")
    verdict = _metadata_row(page, "verdict").locator("table").first
    verdict.wait_for()
    text = verdict.inner_text()
    assert "identified" in text and re.search(r"\b(pays|does not pay|cannot tell)\b", text), text
    box = verdict.bounding_box()
    assert box is not None and box["y"] < 1100, "the verdict table must be on the first screen"
    last = verdict.locator("th").last
    assert last.inner_text().strip() == "rho_cost low"
    edge = last.bounding_box()
    sidebar = page.get_by_text("Definition", exact=True).first.bounding_box()  # the right-hand panel
    assert edge is not None and sidebar is not None
    assert edge["x"] + edge["width"] <= sidebar["x"], "the verdict table is cut off under the Definition panel"
    summary = _metadata_row(page, "summary")
    assert summary.count() and len(summary.inner_text()) < 400
    for key in ("summary", "verdict_reasons"):  # text entries wrap inside the visible column, not under the panel
        cell = _metadata_row(page, key).locator("td").last.bounding_box()
        assert cell is not None and cell["x"] + cell["width"] <= sidebar["x"], f"{key} runs under the Definition panel"
    # a figure on the page without any click (the asset's description embeds the latest rho_cost figure)
    shown = page.locator("img[src^='data:image/png;base64,']").filter(visible=True)
    shown.first.wait_for()
    assert max(_decoded_widths(shown)) > 100, "the embedded PNG did not decode"
    page.screenshot(path=str(ARTIFACTS / "economics_report.png"))
    page.screenshot(path=str(ARTIFACTS / "economics_report_full.png"), full_page=True)
    # every figure of the report behind one click
    _metadata_row(page, "figures").get_by_text("[Show Markdown]").click()
    dialog = page.get_by_role("dialog").filter(has=page.locator("img[src^='data:image/png;base64,']"))
    images = dialog.locator("img[src^='data:image/png;base64,']")
    images.first.wait_for()
    widths = _decoded_widths(images)
    assert len(widths) >= 4 and min(widths) > 100, widths
    page.screenshot(path=str(ARTIFACTS / "economics_report_figures.png"))
    dialog.get_by_role("button", name="Close").click()
    dialog.wait_for(state="detached")
    assert "report_html" in page.locator("td:first-child").all_inner_texts().__str__()


def test_overview_timeline_lists_the_runs_of_rlvr_assets_run(page) -> None:
    _open(page, "/overview/activity/timeline")
    for job in ("prepare_tasks_job", "train_arm_job", "report_job"):
        _visible(page, job).wait_for()
    assert not page.get_by_text("No runs or scheduled ticks in this time period").count()
    page.screenshot(path=str(ARTIFACTS / "overview_timeline.png"))
