"""The ``v1mtl`` entry point: subcommand listing and the one-line error contract."""

import subprocess
import sys

import pytest

from v1mtl.cli import main


def test_help_lists_the_subcommands(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    listed = {line.split()[0] for line in capsys.readouterr().out.splitlines() if line.startswith("    ")}
    assert {"run", "simulate-v1", "data"} <= listed


def test_input_error_is_one_stderr_line_and_exit_code_2(tmp_path):
    # A real process, so the exit code and stderr are exactly what a user sees.
    proc = subprocess.run(
        [sys.executable, "-m", "v1mtl", "simulate-v1", "--out", str(tmp_path / "x"), "--repeats", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("v1mtl: error:") and "repeats" in lines[0]


def test_the_command_line_starts_without_torch_or_scipy():
    # every command builds its help from its config's defaults; none of that may import the heavy stages
    code = "import sys; from v1mtl.cli import build_parser; build_parser(); print(sorted({'torch', 'scipy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
