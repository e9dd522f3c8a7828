"""Writing a trained policy to disk: bf16 safetensors that the people who run the study can read.

A checkpoint is only evaluated and shipped, never trained further (a resumed run restarts from the trainer's
own state), so fp32 weights would double its size for nothing; bf16 keeps fp32's range. Hugging Face writes
through temporary files created with mode 0600, which leaves a checkpoint written by a service account or a
container unreadable to everyone else: group and others get read access (and folders search access).
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

READ = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
SEARCH = stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH


def save_policy(model: Any, tokenizer: Any, directory: Path) -> Path:
    """Save `model` as bf16 safetensors plus its tokenizer into `directory`; returns the directory."""
    import torch

    model.to(torch.bfloat16).save_pretrained(directory, safe_serialization=True)
    tokenizer.save_pretrained(directory)
    make_readable(directory)
    return directory


def make_readable(directory: Path) -> None:
    """Add read permission for group and others to every file (and search permission to every folder)."""
    directory.chmod(directory.stat().st_mode | READ | SEARCH)
    for path in directory.rglob("*"):
        extra = READ | SEARCH if path.is_dir() else READ
        path.chmod(path.stat().st_mode | extra)
