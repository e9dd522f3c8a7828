"""The optional LLM-backed rewrite operator, with three interchangeable backends.

A backend turns rewrite prompts into text: the local transformers model, vLLM when it is installed, or
any OpenAI-compatible chat-completions endpoint (URL + model name). Decoding is greedy (temperature 0,
fixed seed) so a rewrite is as deterministic as the backend allows. Every call's tokens and seconds are
recorded so the variant's cost is priced like every other augmentation cost. A rewrite changes only the
prompt's template; the verifier is carried over, and for parametric tasks every {placeholder} must
survive, so the gate's V_faithful can check the parent's solution still transfers.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from rlvr_assets.core.augment.operators import Attempt
from rlvr_assets.core.config import Backend, LLMRewriteConfig, SamplingConfig
from rlvr_assets.core.kernel.templates import field_names
from rlvr_assets.core.tasks.model import Provenance, Task, build_task

OPERATOR_VERSION = "1"
INSTRUCTIONS = {
    "vaguer_references": "Rewrite the task below so that its references are vaguer (say 'the file' or 'that "
    "amount' instead of repeating exact names where the meaning stays clear). Keep every fact needed to solve it.",
    "obscure_goal": "Rewrite the task below so that its goal is stated indirectly, as a situation the reader must "
    "interpret, while keeping every fact needed to solve it.",
    "genericize_constraints": "Rewrite the task below in plainer, more general wording while keeping every "
    "requirement it states.",
}
PROMPT = (
    "{instruction}\nKeep any text in curly braces such as {{name}} exactly as it is. Reply with the rewritten task "
    "only.\n\nTask:\n{template}"
)


@dataclass(frozen=True)
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    problem: str | None = None  # why the backend's answer is unusable (a malformed response): that variant fails


class RewriteBackend(Protocol):
    name: str

    def complete(self, prompts: Sequence[str], max_new_tokens: int) -> list[Generation]: ...


class TransformersBackend:
    """The local model through the rollout engine (core/policy/sampling.py), by default the pipeline's base model
    on `hf-generate`; greedy, batched."""

    name = "transformers"
    engine: Backend = "hf-generate"

    def __init__(self, model_path: str, device: str = "cpu", threads: int | None = 2) -> None:
        from rlvr_assets.core.config import ModelConfig
        from rlvr_assets.core.policy.sampling import load_policy

        model_cfg = ModelConfig(source=model_path, device=device, torch_threads=threads)  # type: ignore[arg-type]
        self.policy = load_policy(model_path, model_cfg, self.engine)

    def complete(self, prompts: Sequence[str], max_new_tokens: int) -> list[Generation]:
        start = time.monotonic()
        samples = self.policy.sample(
            [[{"role": "user", "content": p}] for p in prompts],
            1,
            SamplingConfig(max_new_tokens=max_new_tokens, temperature=0.0),
        )
        each = (time.monotonic() - start) / max(1, len(samples))
        return [Generation(s.text, s.prompt_tokens, s.completion_tokens, each) for s in samples]


class VLLMBackend(TransformersBackend):
    """The rollout engine's vLLM backend, for GPU machines with `pip install -e '.[vllm]'`."""

    name = "vllm"
    engine: Backend = "vllm"

    def __init__(self, model_path: str, device: str = "cuda", threads: int | None = None) -> None:
        super().__init__(model_path, device, threads)


class OpenAICompatibleBackend:
    """Any OpenAI-compatible /chat/completions endpoint (hosted APIs, vLLM or llama.cpp servers, ...)."""

    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key_env: str | None = "OPENAI_API_KEY",
        timeout: float = 60.0,
        seed: int = 0,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model, self.timeout, self.seed = model, timeout, seed
        self.api_key = os.environ.get(api_key_env) if api_key_env else None

    def complete(self, prompts: Sequence[str], max_new_tokens: int) -> list[Generation]:
        return [self._one(p, max_new_tokens) for p in prompts]

    def _one(self, prompt: str, max_new_tokens: int) -> Generation:
        body = json.dumps(
            {
                "model": self.model,
                "messages": [{"role": "user", "content": prompt}],
                "temperature": 0,
                "seed": self.seed,
                "max_tokens": max_new_tokens,
            }
        ).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        start = time.monotonic()
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = json.loads(response.read())
        except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as exc:
            raise RuntimeError(f"rewrite endpoint {self.url} failed: {exc}") from exc
        return parse_chat_response(payload, time.monotonic() - start)


def _token_count(usage: dict[str, object], key: str) -> int | str:
    value = usage.get(key, 0)
    if type(value) is int and 0 <= value < 10**9:
        return value
    return f"usage.{key} is not a token count ({str(value)[:40]!r})"


def parse_chat_response(payload: object, seconds: float) -> Generation:
    """A chat-completions response read defensively: the endpoint is untrusted, so a missing or malformed part
    (no choices, content that is not text, a usage count such as "n/a") makes a Generation with a `problem`,
    which rejects that one variant with the reason; it never raises."""
    try:
        content = payload["choices"][0]["message"]["content"]  # type: ignore[index]
    except (KeyError, IndexError, TypeError):
        return Generation("", 0, 0, seconds, "rewrite endpoint response has no choices[0].message.content")
    if not isinstance(content, str):
        return Generation("", 0, 0, seconds, "rewrite endpoint content is not text")
    usage = payload.get("usage") or {}  # type: ignore[union-attr]
    if not isinstance(usage, dict):
        return Generation(content, 0, 0, seconds, "rewrite endpoint usage is not an object")
    prompt_tokens, completion_tokens = _token_count(usage, "prompt_tokens"), _token_count(usage, "completion_tokens")
    for count in (prompt_tokens, completion_tokens):
        if isinstance(count, str):
            return Generation(content, 0, 0, seconds, f"rewrite endpoint {count}")
    return Generation(content, int(prompt_tokens), int(completion_tokens), seconds)


def _placeholders(template: str) -> set[str]:
    """The template's `{name}` fields (TemplateError, a ValueError, for anything but plain fields)."""
    return field_names(template)


def clean_rewrite(text: str) -> str:
    text = text.strip()
    text = re.sub(r"^```\w*\n?|```$", "", text).strip()
    text = re.sub(r"^(rewritten task|task)\s*:\s*", "", text, flags=re.IGNORECASE)
    return text.strip().strip('"').strip()


def validate_rewrite(parent: Task, rewritten: str) -> str | None:
    """None when the rewrite is usable, else why not."""
    template = parent.prompt.template
    if not rewritten:
        return "empty rewrite"
    if rewritten == template:
        return "rewrite is identical to the original"
    if not 0.3 <= len(rewritten) / max(1, len(template)) <= 3.0:
        return f"rewrite length {len(rewritten)} is implausible for an original of {len(template)} characters"
    try:  # the template language (templates.py): a rewrite cannot add a format spec, attribute or index
        found = _placeholders(rewritten)
    except ValueError as exc:
        return f"rewrite is not a valid template: {exc}"
    if parent.prompt.params and found != _placeholders(template):
        return f"rewrite changed the placeholders ({sorted(found)} vs {sorted(_placeholders(template))})"
    if not parent.prompt.params and found:
        return "rewrite introduced {placeholders} into a non-parametric task"
    return None


def rewrite_prompts(parents: Sequence[Task], family: str) -> list[str]:
    instruction = INSTRUCTIONS[family]
    return [PROMPT.format(instruction=instruction, template=p.prompt.template) for p in parents]


def apply_llm_rewrites(
    parents: Sequence[Task], backend: RewriteBackend, families: Sequence[str], rng_seed: int, max_new_tokens: int
) -> list[Attempt]:
    """One rewrite per (parent, family), batched per family; failures are attempts with their reason."""
    unknown = [f for f in families if f not in INSTRUCTIONS]
    if unknown:
        raise KeyError(f"unknown rewrite families {unknown}; known: {sorted(INSTRUCTIONS)}")
    attempts: list[Attempt] = []
    for family in families:
        operator = f"llm_rewrite:{family}"
        version = f"{OPERATOR_VERSION}:{backend.name}"
        try:
            generations = backend.complete(rewrite_prompts(parents, family), max_new_tokens)
        except RuntimeError as exc:
            attempts.extend(
                Attempt(p.id, operator, version, family, rng_seed, "failed", str(exc), None, 0.0) for p in parents
            )
            continue
        for parent, gen in zip(parents, generations, strict=True):
            rewritten = clean_rewrite(gen.text)
            problem = gen.problem or validate_rewrite(parent, rewritten)
            cost = {"generation_tokens": gen.prompt_tokens + gen.completion_tokens, "generation_seconds": gen.seconds}
            if problem:
                attempts.append(
                    Attempt(parent.id, operator, version, family, rng_seed, "failed", problem, None, 0.0, **cost)
                )
                continue
            variant = build_task(
                name=f"{parent.name}~{operator}~{rng_seed}",
                domain=parent.domain,
                prompt=parent.prompt.model_copy(update={"template": rewritten}),
                verifier=parent.verifier,
                reference_solution=parent.reference_solution,
                known_bad=list(parent.known_bad),
                solution_program=parent.solution_program,
                environment=parent.environment,
                system=parent.system,
                authoring_cost_usd=0.0,
                provenance=Provenance(
                    kind="augmented",
                    parent_id=parent.id,
                    operator=operator,
                    operator_version=version,
                    rng_seed=rng_seed,
                ),
            )
            attempts.append(
                Attempt(parent.id, operator, version, family, rng_seed, "proposed", "ok", variant, 0.0, **cost)
            )
    return attempts


def make_backend(cfg: LLMRewriteConfig, base_model_path: str, device: str = "cpu") -> RewriteBackend | None:
    if cfg.backend == "none":
        return None
    if cfg.backend == "transformers":
        return TransformersBackend(cfg.model or base_model_path, device=device)
    if cfg.backend == "vllm":
        return VLLMBackend(cfg.model or base_model_path, device=device)
    assert cfg.base_url and cfg.model
    return OpenAICompatibleBackend(cfg.base_url, cfg.model, cfg.api_key_env)
