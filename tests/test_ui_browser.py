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
        tab.base = webserver  # type: ignore[attr-defined]
        yield tab
        browser.close()


def _open(page, path: str) -> None:
    page.goto(page.base + path)
    page.wait_for_load_state("networkidle")
    skip = page.get_by_role("button", name="Skip")  # the community sign-up dialog of a fresh browser profile
    if skip.count():
        skip.first.click()


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


def test_economics_report_figures_render(page) -> None:
    _open(page, "/assets/economics_report")
    figure_key = re.compile(r"^\s*(\w+_figure|reward_curves)\s*$")
    figures = page.locator("tr").filter(has=page.locator("td:first-child", has_text=figure_key))
    figures.first.wait_for()
    keys = [figures.nth(i).locator("td").first.inner_text().strip() for i in range(figures.count())]
    expected = {"scaling_curve_figure", "rho_cost_figure", "gate_funnel_figure", "rho_per_arm_figure"}
    assert expected | {"reward_curves"} <= set(keys), keys
    for i, key in enumerate(keys):
        figures.nth(i).get_by_text("[Show Markdown]").click()
        dialog = page.get_by_role("dialog")
        image = dialog.locator("img[src^='data:image/png;base64,']").first
        image.wait_for()
        width = image.evaluate("img => img.complete ? img.naturalWidth : 0")
        assert width > 100, f"{key}: the embedded PNG did not decode"
        page.wait_for_timeout(600)  # let the dialog finish fading in before the screenshot
        page.screenshot(path=str(ARTIFACTS / f"{key}.png"))
        dialog.get_by_role("button", name="Close").click()
        dialog.wait_for(state="detached")
