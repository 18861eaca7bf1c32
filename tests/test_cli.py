"""The ``v1mtl`` entry point: subcommand listing, the one-line error contract, closed pipes and --debug."""

import os
import subprocess
import sys

import pytest

from v1mtl.cli import EXIT_CLOSED_PIPE, main
from v1mtl.common.errors import InputError


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


def _image_folder(root):
    """The smallest image folder ``data inspect`` reads: two classes of ten 8 x 8 PNGs."""
    from PIL import Image

    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        for i in range(10):
            Image.new("L", (8, 8)).save(root / name / f"{i}.png")
    return root


def test_a_closed_pipe_ends_quietly_with_status_141(tmp_path):
    # `v1mtl data inspect X | head` where head has already gone: the read end is closed before v1mtl writes
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "v1mtl", "data", "inspect", str(_image_folder(tmp_path / "images"))],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert (proc.returncode, proc.stderr) == (EXIT_CLOSED_PIPE, "")


def _failing_command(monkeypatch, error):
    from v1mtl.commands import simulate_v1

    def run(args):
        raise error

    monkeypatch.setattr(simulate_v1, "run", run)


def test_an_unexpected_error_is_one_line_naming_its_type(monkeypatch, capsys, tmp_path):
    _failing_command(monkeypatch, RuntimeError("disk\nfull \x1b[31mnow\x1b[0m"))
    assert main(["simulate-v1", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err == "v1mtl: error: RuntimeError: disk full now (run with --debug for the traceback)\n"


@pytest.mark.parametrize(
    "argv", [["--debug", "simulate-v1", "--out", "x"], ["simulate-v1", "--out", "x", "--debug"]]
)
def test_debug_shows_the_traceback(monkeypatch, argv):
    _failing_command(monkeypatch, RuntimeError("disk full"))
    with pytest.raises(RuntimeError, match="disk full"):
        main(argv)


def test_an_input_error_stays_one_line_with_status_2(monkeypatch, capsys, tmp_path):
    _failing_command(monkeypatch, InputError("bad\nvalue", path="a.yaml", field="seed"))
    assert main(["--debug", "simulate-v1", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == "v1mtl: error: a.yaml: field 'seed': bad value\n"


def test_the_limits_reach_the_readers_through_the_environment(tmp_path, monkeypatch, capsys):
    import numpy as np
    from PIL import Image

    from v1mtl.common.limits import MAX_ARRAY_ELEMENTS_ENV, MAX_IMAGE_SIDE_ENV
    from v1mtl.data.images.decode import decode_image
    from v1mtl.data.images.limits import max_image_side
    from v1mtl.data.neural.limits import max_array_elements

    # set (empty = the default) through monkeypatch, so what main sets is undone after the test
    monkeypatch.setenv(MAX_IMAGE_SIDE_ENV, "")
    monkeypatch.setenv(MAX_ARRAY_ELEMENTS_ENV, "")
    assert max_image_side() == 8192 and max_array_elements() == 2**28
    folder = tmp_path / "images" / "cat"
    folder.mkdir(parents=True)
    Image.fromarray(np.zeros((40, 40), dtype=np.uint8)).save(folder / "a.png")
    assert main(["--max-image-side", "16", "report", str(tmp_path / "no-study")]) == 2
    assert max_image_side() == 16  # set for this process and the ones it starts
    # a limit below the image's side refuses it, in one line naming the file and how to raise the limit
    with pytest.raises(InputError) as caught:
        decode_image(folder / "a.png", 32)
    assert "a.png" in str(caught.value) and "--max-image-side" in str(caught.value)
    monkeypatch.setenv(MAX_ARRAY_ELEMENTS_ENV, "12x")
    with pytest.raises(InputError, match=f"environment variable {MAX_ARRAY_ELEMENTS_ENV} must be a positive"):
        max_array_elements()
