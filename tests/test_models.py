"""The starting policy: converted or built once, reused by later runs, rebuilt when what it came from changes."""

import json
from pathlib import Path

from rlvr_assets.core.config import ModelConfig
from rlvr_assets.core.policy.models import materialize_base_model


def test_a_built_base_model_is_reused_and_rebuilt_only_when_its_inputs_change(tmp_path: Path) -> None:
    cfg = ModelConfig(source="tiny", device="cpu")
    out = tmp_path / "tiny"
    first = materialize_base_model(cfg, out)
    weights = out / "model.safetensors"
    built_at = weights.stat().st_mtime_ns

    assert materialize_base_model(cfg, out) == first  # same source, GGUF and libraries: nothing rewritten
    assert weights.stat().st_mtime_ns == built_at

    bigger = materialize_base_model(ModelConfig(source="tiny", device="cpu", tiny_hidden_size=64), out)
    assert bigger.parameters > first.parameters and weights.stat().st_mtime_ns != built_at

    for foreign in ("[1, 2]", "{not json", json.dumps({"build_stamp": "another build"})):
        (out / "rlvr_lineage.json").write_text(foreign)  # torn, not ours, or another build: rebuilt, no crash
        assert materialize_base_model(cfg, out) == first
        assert json.loads((out / "rlvr_lineage.json").read_text())["source"] == first.source
