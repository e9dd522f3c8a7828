"""Writing a trained policy to disk: safetensors in the dtype training kept, readable by the people who run
the study.

Why not bf16: GRPO updates are small (lr 3e-5 over a few hundred steps), and near 1.0 (every RMSNorm weight)
bf16's resolution is 2**-7, so rounding the saved weights to bf16 would silently undo much of the training
(tests/test_training.py checks that the norm weights moved). Training keeps fp32 master weights, so the
checkpoint does too; it costs twice the disk of bf16 (about 0.5 GB for the 135M default).

Why the mode change: Hugging Face writes through temporary files created with mode 0600, which leaves a
checkpoint written by a service account or a container unreadable to everyone else, so group and others get
read access (and folders search access).
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

READ = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
SEARCH = stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH


def save_policy(model: Any, tokenizer: Any, directory: Path) -> Path:
    """Save `model` (as it is: fp32 master weights) as safetensors plus its tokenizer into `directory`."""
    model.save_pretrained(directory, safe_serialization=True)
    tokenizer.save_pretrained(directory)
    make_readable(directory)
    return directory


def make_readable(directory: Path) -> None:
    """Add read permission for group and others to every file (and search permission to every folder)."""
    directory.chmod(directory.stat().st_mode | READ | SEARCH)
    for path in directory.rglob("*"):
        extra = READ | SEARCH if path.is_dir() else READ
        path.chmod(path.stat().st_mode | extra)
