"""Class 10 of issue 20: the LLM rewrite operator reads its endpoint's answer defensively; a malformed part
rejects that variant with the reason, never raises out of the operator."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from rlvr_assets.core.augment.llm_rewrite import OpenAICompatibleBackend, apply_llm_rewrites
from rlvr_assets.core.tasks.seeds import load_seed_dir

ROOT = Path(__file__).resolve().parents[1]
GOOD_CHOICES = [{"message": {"role": "assistant", "content": "Rewritten task: Somebody asks. What is 2 + 2?"}}]
MALFORMED = {
    "usage not a count": {"choices": GOOD_CHOICES, "usage": {"prompt_tokens": "n/a", "completion_tokens": 3}},
    "usage a float": {"choices": GOOD_CHOICES, "usage": {"prompt_tokens": 1.5, "completion_tokens": 3}},
    "usage a list": {"choices": GOOD_CHOICES, "usage": [1, 2]},
    "no choices": {"choices": [], "usage": {}},
    "content not text": {"choices": [{"message": {"content": 42}}]},
    "not an object": [1, 2, 3],
}


class _Endpoint(BaseHTTPRequestHandler):
    reply: object = None

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        data = json.dumps(type(self).reply).encode()
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


@pytest.mark.parametrize("name", MALFORMED)
def test_a_malformed_response_rejects_the_variant_with_a_reason(endpoint, name: str) -> None:
    _Endpoint.reply = MALFORMED[name]
    base = [t for t in load_seed_dir(ROOT / "seeds") if t.provenance.split == "base"][:2]
    attempts = apply_llm_rewrites(
        base, OpenAICompatibleBackend(endpoint, "m", api_key_env=None), ["obscure_goal"], 0, 8
    )
    assert len(attempts) == 2
    for attempt in attempts:
        assert attempt.variant is None and attempt.status == "failed"
        assert "rewrite endpoint" in attempt.reason
