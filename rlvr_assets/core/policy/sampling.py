"""The rollout engine: every completion the gate, evaluation and the rewrite operator sample comes from here.

`Policy` is the one interface: chat conversations, `n` samples each, a `SamplingConfig` (temperature, top-p,
token budget) -> completions with their token counts, in conversation order. `load_policy` picks the backend
named by `sampling.backend`:

- `hf-generate`: transformers `model.generate` on left-padded batches of prompts of similar length;
- `continuous`: transformers continuous batching (`ContinuousBatchingManager`, paged KV cache): finished
  sequences leave the batch at once and the `n` samples of a prompt share its cached prefix;
- `vllm`: vLLM's offline `LLM` engine (GPU machines with the `vllm` extra installed).

Every backend renders prompts through the model's own chat template and counts tokens the same way, so
rollout compute is priced alike whichever runs. GRPO training generates through TRL, and
`trl_generation_args` maps the same backend names onto TRL's own options (core/training/grpo.py).
"""

from __future__ import annotations

import contextlib
import gc
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from rlvr_assets.core.config import (
    DEFAULT_BACKEND,
    Backend,
    ModelConfig,
    SamplingConfig,
    TrainingConfig,
    missing_backend_package,
)

Conversation = list[dict[str, str]]
Progress = Callable[[int, int], None]
_Job = tuple[int, str]  # (conversation index, rendered prompt)

# Continuous batching on CPU: a small page keeps the k samples of a short prompt sharing most of its blocks,
# and a bounded step keeps the per-step attention mask (tokens x cached tokens) small.
CPU_PAGE_SIZE = 32
CPU_STEP_TOKENS = 512
# The KV cache TRL's continuous generation gets on CPU, in tokens (sampling.max_batch_tokens' default): TRL
# would size it from free memory; one prompt plus its completion must fit in it.
CPU_TRAINING_KV_TOKENS = 16_384


@dataclass(frozen=True)
class Sample:
    prompt_index: int
    text: str
    prompt_tokens: int
    completion_tokens: int


class BackendUnavailable(RuntimeError):
    """The configured backend's package is not installed here."""

    def __init__(self, backend: str, package: str) -> None:
        self.backend, self.package = backend, package
        super().__init__(
            f"sampling.backend '{backend}' needs the '{package}' package, which is not installed "
            f"(pip install -e '.[{package}]' on a GPU machine, or choose hf-generate or continuous)"
        )


def backend_unavailable(backend: str) -> BackendUnavailable | None:
    """Why `backend` cannot run here (its package is missing), or None when it can."""
    package = missing_backend_package(backend)
    return BackendUnavailable(backend, package) if package else None


class Policy(Protocol):
    """The rollout engine's interface: what the episode loop (core/policy/rollouts.py) calls every round."""

    def sample(
        self,
        conversations: list[Conversation],
        n: int,
        cfg: SamplingConfig,
        *,
        seed: int | None = None,
        progress: Progress | None = None,
    ) -> list[Sample]:
        """`n` samples per conversation (greedy when `cfg.temperature` == 0), in conversation order then sample
        order; `seed` overrides `cfg.seed` (a multi-turn loop seeds each round differently)."""
        ...


def load_policy(model_path: str, model_cfg: ModelConfig, backend: Backend) -> Policy:
    """The rollout engine for `model_path` on `backend` (one of `sampling.backend`'s values)."""
    if (missing := backend_unavailable(backend)) is not None:
        raise missing
    if backend == "hf-generate":
        return HFGenerate(model_path, model_cfg)
    if backend == "continuous":
        return ContinuousBatching(model_path, model_cfg)
    if backend == "vllm":
        return VLLMOffline(model_path, model_cfg)
    raise ValueError(f"unknown sampling backend {backend!r}")


def resolve_device(cfg: ModelConfig) -> str:
    import torch

    if cfg.device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return cfg.device


class _ChatModel:
    """Tokenizer and chat template shared by the backends, so every backend sees the same prompt tokens."""

    def __init__(self, model_path: str, cfg: ModelConfig) -> None:
        import torch
        from transformers import AutoTokenizer

        if cfg.torch_threads:
            torch.set_num_threads(cfg.torch_threads)
        self.model_path = model_path
        self.device = resolve_device(cfg)
        self.tokenizer = AutoTokenizer.from_pretrained(model_path)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self._stop_ids = {self.tokenizer.pad_token_id, self.tokenizer.eos_token_id} - {None}

    def render(self, messages: Conversation) -> str:
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def encode(self, messages: Conversation) -> list[int]:
        """Prompt token ids; the chat template already carries the special tokens, so none are added."""
        return list(self.tokenizer(self.render(messages), add_special_tokens=False)["input_ids"])

    def completion(self, prompt_index: int, prompt_tokens: int, ids: list[int]) -> Sample:
        """A sample from generated ids; padding and end-of-sequence tokens are not counted as completion."""
        kept = [t for t in ids if t not in self._stop_ids]
        return Sample(prompt_index, self.tokenizer.decode(ids, skip_special_tokens=True), prompt_tokens, len(kept))

    def load_model(self):  # type: ignore[no-untyped-def]
        import torch
        from transformers import AutoModelForCausalLM

        dtype = torch.bfloat16 if self.device == "cuda" else torch.float32
        model = AutoModelForCausalLM.from_pretrained(self.model_path, dtype=dtype).to(self.device)
        return model.eval()

    def generation_kwargs(self, cfg: SamplingConfig) -> dict[str, Any]:
        """The decoding settings both transformers backends apply (greedy at temperature 0)."""
        kwargs: dict[str, Any] = {"max_new_tokens": cfg.max_new_tokens, "pad_token_id": self.tokenizer.pad_token_id}
        if cfg.temperature > 0:
            kwargs.update(do_sample=True, temperature=cfg.temperature, top_p=cfg.top_p)
        else:
            kwargs.update(do_sample=False)
        return kwargs


class _TransformersBackend:
    """What both transformers backends hold: the chat model and its weights, loaded once per policy."""

    def __init__(self, model_path: str, cfg: ModelConfig) -> None:
        self.chat = _ChatModel(model_path, cfg)
        self.tokenizer = self.chat.tokenizer
        self.device = self.chat.device
        self.model = self.chat.load_model()


class HFGenerate(_TransformersBackend):
    """`hf-generate`: `model.generate` on left-padded batches."""

    def sample(
        self,
        conversations: list[Conversation],
        n: int,
        cfg: SamplingConfig,
        *,
        seed: int | None = None,
        progress: Progress | None = None,
    ) -> list[Sample]:
        """Batches are formed from prompts of similar length (less left padding to compute over) and hold at
        most `batch_size` sequences and `max_batch_tokens` tokens (prompt + new tokens, padded), so long
        multi-turn contexts get smaller batches instead of exhausting memory."""
        import torch

        rendered = [self.chat.render(c) for c in conversations]
        lengths = [len(self.tokenizer(text, add_special_tokens=False)["input_ids"]) for text in rendered]
        jobs = sorted(((i, text) for i, text in enumerate(rendered) for _ in range(n)), key=lambda j: lengths[j[0]])
        samples: list[Sample] = []
        torch.manual_seed(cfg.seed if seed is None else seed)
        done = 0
        for chunk in token_budget_batches(
            jobs, [lengths[i] + cfg.max_new_tokens for i, _ in jobs], cfg.batch_size, cfg.max_batch_tokens
        ):
            enc = self.tokenizer([t for _, t in chunk], return_tensors="pt", padding=True, add_special_tokens=False).to(
                self.device
            )
            with torch.no_grad():
                out = self.model.generate(**enc, **self.chat.generation_kwargs(cfg))
            prompt_len = enc["input_ids"].shape[1]
            for row, (idx, _) in enumerate(chunk):
                samples.append(self.chat.completion(idx, lengths[idx], out[row, prompt_len:].tolist()))
            done += len(chunk)
            if progress:
                progress(done, len(jobs))
        return sorted(samples, key=lambda s: s.prompt_index)


@contextlib.contextmanager
def collections_of_new_objects_only() -> Iterator[None]:
    """transformers' continuous batching runs two full `gc.collect()` when a manager stops, to free (CUDA)
    memory its cycles hold. A full collection walks every object in the process: about 0.3 s each with torch,
    transformers and Dagster loaded, more than a small rollout call itself. Objects that existed before the call
    are frozen while it runs, so those collections walk only what the call created (the manager and its cache,
    what they are there to free). A caller that froze objects itself keeps its own freeze."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class ContinuousBatching(_TransformersBackend):
    """`continuous`: transformers continuous batching over a paged KV cache.

    Every request is queued before the generation loop starts, so scheduling, and with it the sampled
    tokens for a given seed, do not depend on thread timing. On CPU the cache is sized from the workload
    and capped by `max_batch_tokens` (transformers would otherwise size it from free memory, which here
    means gigabytes to allocate and clear per call); on CUDA transformers sizes it from free GPU memory."""

    def _cache_config(self, prompts: list[list[int]], n: int, cfg: SamplingConfig, seed: int):  # type: ignore[no-untyped-def]
        from transformers.generation import ContinuousBatchingConfig

        if self.device != "cpu":
            return ContinuousBatchingConfig(seed=seed, max_requests_per_batch=cfg.batch_size)
        longest = max(len(p) for p in prompts) + cfg.max_new_tokens
        needed = sum(math.ceil((len(p) + cfg.max_new_tokens) / CPU_PAGE_SIZE) for p in prompts) * n
        cap = math.ceil((cfg.max_batch_tokens or needed * CPU_PAGE_SIZE) / CPU_PAGE_SIZE)
        blocks = max(min(needed, cap), math.ceil(longest / CPU_PAGE_SIZE) + 1)
        return ContinuousBatchingConfig(
            seed=seed,
            page_size=CPU_PAGE_SIZE,
            num_blocks=blocks + 1,
            max_batch_tokens=max(CPU_STEP_TOKENS, cfg.batch_size),
            max_requests_per_batch=cfg.batch_size,
        )

    def sample(
        self,
        conversations: list[Conversation],
        n: int,
        cfg: SamplingConfig,
        *,
        seed: int | None = None,
        progress: Progress | None = None,
    ) -> list[Sample]:
        """The `n` samples of a prompt are forked from it after its prefill (`num_return_sequences`), so they
        share its cached prompt blocks. Greedy samples are identical: each prompt is decoded once."""
        import torch

        if not conversations:
            return []
        prompts = [self.chat.encode(c) for c in conversations]
        forks = n if cfg.temperature > 0 else 1
        generation = self.model.generation_config.__class__.from_dict(
            {
                **self.model.generation_config.to_dict(),
                **self.chat.generation_kwargs(cfg),
                "num_return_sequences": forks,
            }
        )
        if generation.eos_token_id is None:
            generation.eos_token_id = self.tokenizer.eos_token_id
        cache = self._cache_config(prompts, n, cfg, cfg.seed if seed is None else seed)
        outputs: dict[str, Any] = {}
        with torch.inference_mode(), collections_of_new_objects_only():
            manager = self.model.init_continuous_batching(
                generation_config=generation, continuous_batching_config=cache
            )
            try:
                ids = manager.add_requests(inputs=prompts, max_new_tokens=cfg.max_new_tokens)
                manager.start()
                total = len(prompts) * forks
                while len(outputs) < total:
                    result = manager.get_result(timeout=1.0)
                    if result is None:
                        if not manager.is_running():
                            break
                        continue
                    if result.is_finished():
                        outputs[result.request_id] = result
                        if progress:
                            progress(len(outputs), total)
            finally:
                manager.stop(block=True)
                manager.destroy()
        samples: list[Sample] = []
        for index, request_id in enumerate(ids):
            for rid in [request_id, *(f"{request_id}__child#{c}" for c in range(forks - 1))]:
                out = outputs.get(rid)
                if out is None or out.error is not None:
                    reason = "no result" if out is None else out.error
                    raise RuntimeError(f"continuous batching request {rid} (conversation {index}) failed: {reason}")
                sample = self.chat.completion(index, len(prompts[index]), list(out.generated_tokens))
                samples.extend([sample] * (n // forks))
        return samples


class VLLMOffline:
    """`vllm`: vLLM's offline `LLM` engine, for the gate and evaluation on GPU machines.

    Untested here: the `vllm` wheel cannot be installed on the CPU machine nor carried to the lent GPU."""

    def __init__(self, model_path: str, cfg: ModelConfig) -> None:
        from vllm import LLM

        self.chat = _ChatModel(model_path, cfg)
        self.tokenizer = self.chat.tokenizer
        self.llm = LLM(model=model_path, seed=0)

    def sample(
        self,
        conversations: list[Conversation],
        n: int,
        cfg: SamplingConfig,
        *,
        seed: int | None = None,
        progress: Progress | None = None,
    ) -> list[Sample]:
        from vllm import SamplingParams

        prompts = [self.chat.encode(c) for c in conversations]
        greedy = cfg.temperature == 0
        params = SamplingParams(
            n=1 if greedy else n,  # greedy samples are identical: decode once, repeat
            temperature=cfg.temperature,
            top_p=1.0 if greedy else cfg.top_p,
            max_tokens=cfg.max_new_tokens,
            seed=cfg.seed if seed is None else seed,
        )
        outputs = self.llm.generate([{"prompt_token_ids": p} for p in prompts], params, use_tqdm=False)
        samples = [
            self.chat.completion(i, len(prompts[i]), list(choice.token_ids))
            for i, request in enumerate(outputs)
            for choice in (request.outputs * n if greedy else request.outputs)
        ]
        if progress:
            progress(len(samples), len(samples))
        return samples


def trl_generation_args(cfg: TrainingConfig, device: str, bf16: bool) -> dict[str, Any]:
    """GRPOConfig keyword arguments that make TRL generate through `cfg.backend` during GRPO: its padded
    `generate` (hf-generate), its transformers continuous batching option, or vLLM (colocate or server).

    `continuous` applies when training in fp32 (the CPU default). Under bf16, TRL 1.16 casts the policy to
    bf16 in place before each continuous-batching generation (GRPOTrainer._generate_single_turn), which
    would overwrite the fp32 master weights (core/training/grpo.py), so bf16 training generates with TRL's padded
    `generate` instead."""
    backend = cfg.backend or DEFAULT_BACKEND
    if backend == "continuous" and not bf16:
        per_step = cfg.prompts_per_step * cfg.num_generations
        cache: dict[str, Any] = {}
        if device == "cpu":  # TRL would size the cache from free memory: gigabytes to allocate per step here
            cache = {
                "page_size": CPU_PAGE_SIZE,
                "num_blocks": CPU_TRAINING_KV_TOKENS // CPU_PAGE_SIZE,
                "max_batch_tokens": max(CPU_STEP_TOKENS, per_step),
                "max_requests_per_batch": per_step,
            }
        return {"use_transformers_continuous_batching": True, "transformers_continuous_batching_config": cache}
    if backend == "vllm":
        args: dict[str, Any] = {"use_vllm": True, "vllm_mode": cfg.vllm_mode}
        if cfg.vllm_mode == "server" and cfg.vllm_server_url:
            args["vllm_server_base_url"] = cfg.vllm_server_url
        return args
    return {"use_vllm": False}


def token_budget_batches(
    jobs: list[_Job], sizes: list[int], batch_size: int, max_batch_tokens: int | None
) -> list[list[_Job]]:
    """Consecutive batches of `jobs` (sorted by size, ascending): at most `batch_size` jobs, and at most
    `max_batch_tokens` once padded to the batch's longest; a job bigger than the budget runs alone."""
    batches: list[list[_Job]] = []
    current: list[_Job] = []
    for job, size in zip(jobs, sizes, strict=True):
        over_budget = max_batch_tokens is not None and (len(current) + 1) * size > max_batch_tokens
        if current and (len(current) == batch_size or over_budget):
            batches.append(current)
            current = []
        current.append(job)
    if current:
        batches.append(current)
    return batches
