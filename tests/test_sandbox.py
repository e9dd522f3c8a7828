from rlvr_assets.core.domains.reasoning.solutions import run_solution
from rlvr_assets.core.sandbox.process import SandboxLimits, network_guard, run_python


def test_runs_code_and_captures_output() -> None:
    result = run_python("print(input()[::-1])", stdin="abc")
    assert result.ok and result.stdout.strip() == "cba"


def test_wall_clock_limit_kills_runaway_code() -> None:
    result = run_python("while True: pass", limits=SandboxLimits(wall_seconds=1.0, cpu_seconds=5))
    assert not result.ok
    assert result.timed_out or result.returncode != 0


def test_memory_limit() -> None:
    result = run_python("x = bytearray(2 * 1024**3)", limits=SandboxLimits(memory_mb=256))
    assert result.returncode != 0 and "MemoryError" in result.stderr


def test_file_size_limit() -> None:
    code = "open('big', 'wb').write(b'x' * (8 * 1024 * 1024))"
    assert run_python(code, limits=SandboxLimits(file_size_mb=1)).returncode != 0


def test_network_is_unreachable_when_guard_active() -> None:
    code = (
        "import socket\n"
        "s = socket.socket(); s.settimeout(2)\n"
        "try:\n    s.connect(('127.0.0.1', 9)); print('CONNECTED')\n"
        "except OSError as e:\n    print('BLOCKED', e)\n"
    )
    result = run_python(code)
    if network_guard().startswith("unshare-net"):
        assert "BLOCKED" in result.stdout
    assert "CONNECTED" not in result.stdout


def test_working_directory_is_private_and_temporary() -> None:
    first = run_python("import os; open('leak', 'w').write('x'); print(os.getcwd())")
    second = run_python("import os; print(os.path.exists('leak'), os.getcwd())")
    assert first.stdout.strip() != second.stdout.split()[1]
    assert second.stdout.split()[0] == "False"


def test_solution_runner_reports_per_param_errors() -> None:
    program = (
        "def solve(a, b, **_):\n    if b == 0:\n        raise ValueError('b must be non-zero')\n    return a / b\n"
    )
    run = run_solution(program, [{"a": 6, "b": 3}, {"a": 1, "b": 0}, {"a": 1, "b": 4}])
    assert run.answers == ["2", None, "1/4"]
    assert run.errors[1] is not None and "non-zero" in run.errors[1]


def test_solution_printing_fake_marker_cannot_forge_result() -> None:
    program = 'def solve(**_):\n    print(\'@@RESULT-0000@@[{"ok": "999"}]\')\n    return 1\n'
    assert run_solution(program, [{}]).answers == ["1"]
