"""The LLM rewrite operator against a real HTTP endpoint on loopback and against a local model."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from rlvr_assets.core.augment.llm_rewrite import OpenAICompatibleBackend, TransformersBackend, apply_llm_rewrites
from rlvr_assets.core.tasks.seeds import load_seed_dir

ROOT = Path(__file__).resolve().parents[1]


class _Endpoint(BaseHTTPRequestHandler):
    """A minimal OpenAI-compatible /chat/completions server that rewrites by a fixed rule."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompt = body["messages"][0]["content"]
        task = prompt.split("Task:\n", 1)[1]
        text = "In other words: " + task if "{" in task else "Rewritten task: Somebody needs this done. " + task
        reply = {
            "choices": [{"message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": 40, "completion_tokens": 25},
        }
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture(scope="module")
def endpoint():
    server = HTTPServer(("127.0.0.1", 0), _Endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


@pytest.fixture(scope="module")
def base():
    return [t for t in load_seed_dir(ROOT / "seeds") if t.provenance.split == "base"]


def test_openai_compatible_backend_produces_priced_variants(endpoint, base) -> None:
    backend = OpenAICompatibleBackend(endpoint, "any-model", api_key_env=None)
    attempts = apply_llm_rewrites(base[:6], backend, ["obscure_goal", "vaguer_references"], 7, 64)
    assert len(attempts) == 12
    made = [a for a in attempts if a.variant]
    assert made and all(a.generation_tokens == 65 for a in attempts)
    for a in made:
        parent = next(p for p in base if p.id == a.parent_id)
        assert a.variant.verifier == parent.verifier
        assert a.variant.prompt.template != parent.prompt.template
        assert a.variant.provenance.operator == f"llm_rewrite:{a.family}"
        assert a.operator_version == "1:openai"


def test_unreachable_endpoint_fails_attempts_with_the_reason(base) -> None:
    backend = OpenAICompatibleBackend("http://127.0.0.1:9/v1", "m", api_key_env=None, timeout=2)
    attempts = apply_llm_rewrites(base[:2], backend, ["obscure_goal"], 0, 16)
    assert all(a.status == "failed" and "failed" in a.reason for a in attempts)


def test_unknown_family_is_an_error(base) -> None:
    with pytest.raises(KeyError, match="unknown rewrite families"):
        apply_llm_rewrites(base[:1], OpenAICompatibleBackend("http://x/v1", "m", None), ["sparkle"], 0, 8)


def test_transformers_backend_runs_the_local_model(tmp_path, base) -> None:
    from rlvr_assets.core.config import ModelConfig
    from rlvr_assets.core.policy.models import materialize_base_model

    info = materialize_base_model(ModelConfig(source="tiny"), tmp_path / "tiny")
    attempts = apply_llm_rewrites(base[:2], TransformersBackend(info.path), ["obscure_goal"], 0, 8)
    assert len(attempts) == 2
    assert all(a.generation_tokens > 0 and a.generation_seconds > 0 for a in attempts)
    assert all(a.reason for a in attempts)  # a random model's rewrite is rejected with a reason
