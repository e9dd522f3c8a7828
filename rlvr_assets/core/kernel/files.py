"""Reading a file a user names (seed, candidate, task, completion files): only a regular file, bounded, UTF-8.

`Path.read_text` on a FIFO blocks for good, on a symlink to /dev/zero reads until MemoryError, on a directory
named `x.jsonl` raises IsADirectoryError, and on Latin-1 bytes raises UnicodeDecodeError: tracebacks or hangs.
Here the file is opened without blocking (O_NONBLOCK: a FIFO opens at once), checked to be a regular file on
the open descriptor (no race with a rename), read up to a bound, and decoded strictly; every problem is a
`FileProblem` (a ValueError) whose message is one line naming the file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_FILE_BYTES = 256 << 20  # far above any seed or candidate file; a bound, not a budget

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class FileProblem(ValueError):
    """A named file cannot be read as a bounded regular file of UTF-8 text; the message is one line."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path, self.problem = Path(path), problem
        super().__init__(f"{path}: {problem}")


def read_bytes(path: Path | str, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The file's bytes; FileProblem when it is missing, not a regular file, unreadable or over `max_bytes`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise FileProblem(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
            raise FileProblem(path, f"is {kind}, not a regular file")
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                raise FileProblem(path, f"is larger than {max_bytes:,} bytes")
        return b"".join(chunks)
    except OSError as exc:
        raise FileProblem(path, f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def read_text(path: Path | str, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The file as UTF-8 text (as `read_bytes`, and FileProblem naming the byte offset when it is not UTF-8)."""
    data = read_bytes(path, max_bytes)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileProblem(path, f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def read_table_text(path: Path | str, what: str, max_bytes: int = MAX_FILE_BYTES) -> str:
    """A user's CSV as text (as `read_bytes`): NUL bytes are a binary file, a UTF-8 byte-order mark is dropped
    (spreadsheets write one); `what` names the expected file in the one-line error."""
    data = read_bytes(path, max_bytes)
    if b"\x00" in data:
        raise FileProblem(path, f"binary file (contains NUL bytes), not {what}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileProblem(path, f"not UTF-8 text (invalid byte at offset {exc.start}), not {what}") from None
