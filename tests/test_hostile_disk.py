"""Class 1 of issue 20: nothing a completion writes in the code sandbox outlives its job or exceeds a bound.

A job's disk is a tmpfs of its own (JOB_DISK_BYTES, JOB_INODES) in the worker's private mount namespace, freed
whole when the job ends; without one, a chrooted job gets an empty directory it cannot write to. The fallback
cleanup (`remove_tree`) is iterative, so no tree shape can make it raise.
"""

import importlib.util
import os
import sys
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlvr_assets.core.domains.code.spec import TestCase, UnitTests
from rlvr_assets.core.domains.code.verifier import _WORKER, CodeSandbox


def _worker_module():
    spec = importlib.util.spec_from_file_location("code_worker_under_test", _WORKER)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


WORKER = _worker_module()
ADD = UnitTests(entry_point="add", cases=[TestCase(args=[1, 2], expected=3)])
INNOCENT = "```python\ndef add(a, b):\n    return a + b\n```"


@pytest.fixture(scope="module")
def box():
    with CodeSandbox() as sandbox:
        yield sandbox


def _bounded(box: CodeSandbox) -> bool:
    return any(p in box.guard.split("+") for p in ("tmpfs-per-job", "no-disk"))


def test_a_deep_directory_chain_leaves_nothing_and_does_not_change_the_next_reward(box) -> None:
    token = f"deep-{uuid.uuid4().hex}"
    hostile = f"""```python
import os
def add(a, b):
    try:
        os.mkdir({token!r})
        os.chdir({token!r})
        for _ in range(1500):
            os.mkdir("d")
            os.chdir("d")
        with open("blob", "wb") as f:
            f.write(b"x" * (3 << 20))
    except OSError:
        pass
    return a + b
```"""
    assert box.check(hostile, ADD).reward == 1.0  # the bound is on disk, not on reward: it still adds
    assert box.check(INNOCENT, ADD).reward == 1.0
    assert box.check(INNOCENT, ADD).reason == "all 1 cases passed"
    assert not list(Path("/tmp").glob(f"rlvr-job-*/{token}")), "the job's tree outlived the job"


FILL_FILES = """```python
import os
def add(a, b):
    n = 0
    try:
        while n < 5000:
            open("f%d" % n, "w").close()
            n += 1
    except OSError:
        pass
    return n
```"""

FILL_BYTES = """```python
def add(a, b):
    n = 0
    try:
        for i in range(64):
            with open("b%d" % i, "wb") as f:
                f.write(b"x" * (1 << 20))
            n += 1 << 20
    except OSError:
        pass
    return n
```"""


def test_inodes_and_bytes_per_job_are_bounded(box) -> None:
    if os.geteuid() != 0:  # as root, the worker always bounds a job's disk (a tmpfs, or no writable disk)
        pytest.skip(f"no per-job disk bound without root (guard {box.guard}); see docs/threat-model.md")
    assert _bounded(box)
    (files,), error = box.evaluate(FILL_FILES, ADD)
    assert error is None and files <= WORKER.JOB_INODES
    (written,), error = box.evaluate(FILL_BYTES, ADD)
    assert error is None and written <= WORKER.JOB_DISK_BYTES
    assert box.check(INNOCENT, ADD).reward == 1.0  # the next job gets a fresh, empty disk
    (files,), _ = box.evaluate(FILL_FILES, ADD)
    assert files > 0 or "no-disk" in box.guard  # not still full from the last job


def test_remove_tree_removes_a_chain_deeper_than_the_recursion_limit(tmp_path: Path) -> None:
    top = tmp_path / "job"
    top.mkdir()
    fd = os.open(top, os.O_RDONLY)
    try:
        for _ in range(3000):
            os.mkdir("d", dir_fd=fd)
            down = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = down
            for name in ("a", "b"):
                os.close(os.open(name, os.O_CREAT | os.O_WRONLY, dir_fd=fd))
    finally:
        os.close(fd)
    assert WORKER.remove_tree(str(top)) is True
    assert not top.exists()


def test_remove_tree_never_follows_links_and_never_raises(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("x")
    top = tmp_path / "job"
    (top / "a" / "b").mkdir(parents=True)
    (top / "a" / "link").symlink_to(outside)
    (top / "a" / "b" / "f").write_text("x")
    os.chmod(top / "a" / "b", 0o000)  # made unreadable by the job
    os.mkfifo(top / "fifo")
    assert WORKER.remove_tree(str(top)) is True
    assert not top.exists() and (outside / "keep").read_text() == "x"
    assert WORKER.remove_tree(str(tmp_path / "missing")) is True  # nothing there: gone, no exception


OPS = st.lists(st.sampled_from(["down", "up", "file", "link", "lock", "fifo"]), max_size=60)


@settings(max_examples=60, deadline=2000, database=None)
@given(ops=OPS)
def test_remove_tree_removes_any_generated_tree(tmp_path_factory, ops: list[str]) -> None:
    base = tmp_path_factory.mktemp("tree")
    keep = base / "keep"
    keep.write_text("x")
    top = base / "job"
    top.mkdir()
    here = top
    for made, op in enumerate(ops):
        if op == "down":
            here = here / f"d{made}"
            here.mkdir()
        elif op == "up" and here != top:
            here = here.parent
        elif op == "file":
            (here / f"f{made}").write_text("x")
        elif op == "link":
            (here / f"l{made}").symlink_to(keep if made % 2 else base)
        elif op == "lock" and here != top:
            os.chmod(here, 0o000)  # the job made its directory unreadable
        elif op == "fifo":
            os.mkfifo(here / f"p{made}")
    assert WORKER.remove_tree(str(top)) is True
    assert not top.exists() and keep.read_text() == "x"
