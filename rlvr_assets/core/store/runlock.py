"""One `rlvr-assets run` per var directory at a time.

Two runs on the same instance would both train every stale arm and race on the same DuckDB tables and
checkpoints. A run holds an exclusive `flock` on `<var_dir>/run.lock` for its whole length and writes who
it is (pid, start time, command) into the file; a second run reads that and refuses, or waits. The kernel
drops the lock when the holder exits, however it exits, so a crashed run never leaves a stale lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

LOCK_NAME = "run.lock"


@dataclass(frozen=True)
class LockHolder:
    pid: int | None
    started: str
    command: str

    def describe(self) -> str:
        pid = self.pid if self.pid is not None else "unknown"
        return f"pid {pid}, started {self.started or 'at an unknown time'}" + (
            f", `{self.command}`" if self.command else ""
        )


class VarDirBusy(Exception):
    """Another run holds the var directory's lock."""

    def __init__(self, path: Path, holder: LockHolder) -> None:
        self.path, self.holder = path, holder
        super().__init__(f"{path.parent} is in use by another rlvr-assets run ({holder.describe()})")


def _read_holder(fd: int) -> LockHolder:
    try:
        record = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        record = {}
    if not isinstance(record, dict):
        record = {}
    pid = record.get("pid")
    return LockHolder(
        pid if isinstance(pid, int) else None, str(record.get("started", "")), str(record.get("command", ""))
    )


@contextlib.contextmanager
def var_dir_lock(
    var_dir: Path, *, wait: bool = False, on_wait: Callable[[LockHolder], None] | None = None
) -> Iterator[Path]:
    """Hold `var_dir`'s run lock for the block. Busy: VarDirBusy, or with `wait` block until it is free
    (`on_wait` is told who holds it first)."""
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            if not wait:
                raise VarDirBusy(path, holder) from None
            if on_wait is not None:
                on_wait(holder)
            fcntl.flock(fd, fcntl.LOCK_EX)
        me = {
            "pid": os.getpid(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "command": " ".join(sys.argv)[:200],
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
        yield path
        os.ftruncate(fd, 0)  # nobody holds it now
    finally:
        os.close(fd)  # releases the lock
