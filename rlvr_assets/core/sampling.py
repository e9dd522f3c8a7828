"""Batched chat-template generation with a transformers model: the policy's rollouts for the gate and eval.

Prompts are rendered through the model's own chat template (the same for every caller), left-padded and
generated in batches; every sample records its token counts so rollout compute can be priced.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rlvr_assets.core.config import ModelConfig, SamplingConfig

_Job = tuple[int, str]  # (conversation index, rendered prompt)


@dataclass(frozen=True)
class Sample:
    prompt_index: int
    text: str
    prompt_tokens: int
    completion_tokens: int


def resolve_device(cfg: ModelConfig) -> str:
    import torch

    if cfg.device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return cfg.device


class Policy:
    """A loaded causal LM plus tokenizer that samples completions for chat prompts."""

    def __init__(self, model_path: str, cfg: ModelConfig) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if cfg.torch_threads:
            torch.set_num_threads(cfg.torch_threads)
        self.device = resolve_device(cfg)
        self.tokenizer = AutoTokenizer.from_pretrained(model_path)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        dtype = torch.bfloat16 if self.device == "cuda" else torch.float32
        self.model = AutoModelForCausalLM.from_pretrained(model_path, dtype=dtype).to(self.device)
        self.model.eval()

    def render(self, messages: list[dict[str, str]]) -> str:
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def sample(
        self,
        conversations: list[list[dict[str, str]]],
        n: int,
        cfg: SamplingConfig,
        *,
        seed: int | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[Sample]:
        """`n` samples per conversation (greedy when `cfg.temperature` == 0), batched across conversations;
        `seed` overrides `cfg.seed` (a multi-turn loop seeds each round differently).

        Batches are formed from prompts of similar length (less left padding to compute over) and hold at
        most `batch_size` sequences and `max_batch_tokens` tokens (prompt + new tokens, padded), so long
        multi-turn contexts get smaller batches instead of exhausting memory. The samples come back in
        conversation order, then sample order."""
        import torch

        rendered = [self.render(c) for c in conversations]
        lengths = [len(self.tokenizer(text, add_special_tokens=False)["input_ids"]) for text in rendered]
        jobs = sorted(((i, text) for i, text in enumerate(rendered) for _ in range(n)), key=lambda j: lengths[j[0]])
        samples: list[Sample] = []
        torch.manual_seed(cfg.seed if seed is None else seed)
        done = 0
        for chunk in token_budget_batches(
            jobs, [lengths[i] + cfg.max_new_tokens for i, _ in jobs], cfg.batch_size, cfg.max_batch_tokens
        ):
            enc = self.tokenizer([t for _, t in chunk], return_tensors="pt", padding=True).to(self.device)
            gen_kwargs = {"max_new_tokens": cfg.max_new_tokens, "pad_token_id": self.tokenizer.pad_token_id}
            if cfg.temperature > 0:
                gen_kwargs.update(do_sample=True, temperature=cfg.temperature, top_p=cfg.top_p)
            else:
                gen_kwargs.update(do_sample=False)
            with torch.no_grad():
                out = self.model.generate(**enc, **gen_kwargs)
            prompt_len = enc["input_ids"].shape[1]
            for row, (idx, _) in enumerate(chunk):
                completion_ids = out[row, prompt_len:]
                mask = completion_ids != self.tokenizer.pad_token_id
                samples.append(
                    Sample(
                        prompt_index=idx,
                        text=self.tokenizer.decode(completion_ids, skip_special_tokens=True),
                        prompt_tokens=int(enc["attention_mask"][row].sum()),
                        completion_tokens=int(mask.sum()),
                    )
                )
            done += len(chunk)
            if progress:
                progress(done, len(jobs))
        return sorted(samples, key=lambda s: s.prompt_index)


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
