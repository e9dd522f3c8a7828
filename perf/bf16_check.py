"""Checks the two ways bf16 GRPO training went wrong, on the device that runs it, and prints JSON.

1. `update_loss`: one AdamW step at the GRPO learning rate on the real model, with the weights held in bf16
   (the old GPU path: `from_pretrained(dtype=bfloat16)` + `GRPOConfig(bf16=True)`) against fp32 master
   weights (the fix): the fraction of weight elements the step changes at all.
2. `sdpa_padded_backward`: scaled-dot-product attention forward and backward on a left-padded causal bf16
   batch, the layout GRPO trains on (prompts left-padded, so pad query rows attend to nothing), once per
   SDPA backend the device has: non-finite gradient elements. On CPU only MATH and FLASH exist; on a Hopper
   GPU with torch >= 2.11, CUDNN_ATTENTION is the suspect (pytorch/pytorch#196678).
3. `model_backward`: the model's GRPO-shaped loss (advantage-weighted log-probs of completion tokens after
   left-padded chat prompts) under each precision and backend set: non-finite gradient tensors.

    python perf/bf16_check.py --model var/artifacts/base_model/smollm2-gguf --device cuda
"""

from __future__ import annotations

import argparse
import json
import time
from contextlib import nullcontext
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

from rlvr_assets.core.tasks.seeds import load_task_file

ROOT = Path(__file__).resolve().parents[1]


def update_loss(model_path: str, device: str, lr: float, batch: dict[str, torch.Tensor]) -> dict[str, float]:
    """Fraction of weight elements one AdamW step changes: bf16 weights vs fp32 master weights, same gradient."""
    from transformers import AutoModelForCausalLM

    master = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32).to(device)
    _grpo_loss(master, batch).backward()
    out: dict[str, float] = {}
    for name, dtype in (("bf16_weights", torch.bfloat16), ("fp32_master_weights", torch.float32)):
        params = [p.detach().to(dtype).clone().requires_grad_(True) for p in master.parameters()]
        names = [n for n, _ in master.named_parameters()]
        for p, ref in zip(params, master.parameters(), strict=True):
            p.grad = ref.grad.to(dtype)
        before = [p.detach().clone() for p in params]
        torch.optim.AdamW(params, lr=lr).step()
        changed = [(p.detach() != b).sum().item() for p, b in zip(params, before, strict=True)]
        total = sum(p.numel() for p in params)
        norms = [i for i, n in enumerate(names) if n.endswith("norm.weight")]
        out[f"{name}_changed_fraction"] = round(sum(changed) / total, 6)
        out[f"{name}_norm_weights_changed_fraction"] = round(
            sum(changed[i] for i in norms) / sum(params[i].numel() for i in norms), 6
        )
    return out


def sdpa_padded_backward(device: str, lengths: list[int], pads: list[int]) -> list[dict[str, object]]:
    """Non-finite gradient elements of SDPA on a left-padded causal bf16 batch, per backend and length."""
    rows = []
    backends = [SDPBackend.CUDNN_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.FLASH_ATTENTION]
    for length in lengths:
        torch.manual_seed(0)
        b, h, d = len(pads), 9, 64
        keep = torch.ones(b, length, dtype=torch.bool, device=device)
        for row, pad in enumerate(pads):
            keep[row, :pad] = False
        mask = torch.ones(length, length, dtype=torch.bool, device=device).tril()[None, None] & keep[:, None, None, :]
        base = [torch.randn(b, h, length, d, device=device, dtype=torch.bfloat16) for _ in range(3)]
        upstream = torch.randn(b, h, length, d, device=device, dtype=torch.bfloat16) * keep[:, None, :, None]
        for backend in [*backends, SDPBackend.MATH]:
            q, k, v = (t.clone().requires_grad_(True) for t in base)
            try:
                with sdpa_kernel([backend]):
                    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
                    out.backward(upstream)  # pad rows get no gradient from the loss, as in GRPO
            except RuntimeError as exc:
                rows.append({"length": length, "backend": backend.name, "status": f"unavailable: {str(exc)[:80]}"})
                continue
            bad = {n: int((~torch.isfinite(t.grad)).sum()) for n, t in (("q", q), ("k", k), ("v", v))}
            rows.append(
                {
                    "length": length,
                    "length_mod_128": length % 128,
                    "backend": backend.name,
                    "forward_nonfinite": int((~torch.isfinite(out)).sum()),
                    "grad_nonfinite": bad,
                }
            )
    return rows


def grpo_batch(tokenizer, device: str, prompts: int, completion: int) -> dict[str, torch.Tensor]:  # type: ignore[no-untyped-def]
    """Left-padded real chat prompts (smoke suite items) followed by random completion tokens."""
    items = load_task_file(ROOT / "heldout" / "smoke_reasoning.jsonl")[:prompts]
    rendered = [tokenizer.apply_chat_template(t.messages, tokenize=False, add_generation_prompt=True) for t in items]
    tokenizer.padding_side = "left"
    enc = tokenizer(rendered, return_tensors="pt", padding=True, add_special_tokens=False)
    torch.manual_seed(0)
    tail = torch.randint(100, tokenizer.vocab_size - 100, (len(items), completion))
    return {
        "input_ids": torch.cat([enc["input_ids"], tail], 1).to(device),
        "attention_mask": torch.cat([enc["attention_mask"], torch.ones_like(tail)], 1).to(device),
        "completion": torch.tensor(completion),
        "advantages": torch.randn(len(items)).to(device),
    }


def _grpo_loss(model, batch: dict[str, torch.Tensor]) -> torch.Tensor:  # type: ignore[no-untyped-def]
    n = int(batch["completion"])
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, -n - 1 : -1]
    logps = torch.log_softmax(logits.float(), -1).gather(-1, batch["input_ids"][:, -n:, None]).squeeze(-1)
    return -(logps.mean(1) * batch["advantages"]).mean()


def model_backward(model_path: str, device: str, batch: dict[str, torch.Tensor]) -> list[dict[str, object]]:
    from transformers import AutoModelForCausalLM

    no_cudnn = [SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH]
    configs = [
        ("bf16 weights + bf16 autocast (old GPU path)", torch.bfloat16, True, None),
        ("fp32 master + bf16 autocast, default SDPA backends", torch.float32, True, None),
        ("fp32 master + bf16 autocast, cuDNN excluded (the fix)", torch.float32, True, no_cudnn),
        ("fp32", torch.float32, False, None),
    ]
    rows = []
    for label, dtype, autocast, backends in configs:
        model = AutoModelForCausalLM.from_pretrained(model_path, dtype=dtype).to(device)
        started = time.monotonic()
        amp = torch.autocast(device, dtype=torch.bfloat16) if autocast else nullcontext()
        with amp, sdpa_kernel(backends) if backends else nullcontext():
            loss = _grpo_loss(model, batch)
        loss.backward()
        bad = [n for n, p in model.named_parameters() if p.grad is not None and not torch.isfinite(p.grad).all()]
        rows.append(
            {
                "config": label,
                "loss": float(loss),
                "nonfinite_grad_tensors": len(bad),
                "first": bad[:3],
                "seconds": round(time.monotonic() - started, 2),
            }
        )
        del model
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="model directory (e.g. the base_model asset's path)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--lr", type=float, default=1e-5, help="the learning rate of the failing GPU run")
    parser.add_argument("--prompts", type=int, default=4)
    parser.add_argument("--completion-tokens", type=int, default=96)
    parser.add_argument("--lengths", default="160,192,200,256", help="SDPA sequence lengths to check")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    from transformers import AutoTokenizer

    torch.set_num_threads(2 if args.device == "cpu" else torch.get_num_threads())
    batch = grpo_batch(AutoTokenizer.from_pretrained(args.model), args.device, args.prompts, args.completion_tokens)
    pad_rows = int((batch["attention_mask"] == 0).sum())
    lengths = [int(x) for x in args.lengths.split(",")]
    result = {
        "device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu",
        "torch": torch.__version__,
        "batch": {"sequences": len(batch["advantages"]), "length": batch["input_ids"].shape[1], "pad_tokens": pad_rows},
        "update_loss": update_loss(args.model, args.device, args.lr, batch),
        "sdpa_padded_backward": sdpa_padded_backward(args.device, lengths, [0, 17, 40, 63]),
        "model_backward": model_backward(args.model, args.device, batch),
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text)


if __name__ == "__main__":
    main()
