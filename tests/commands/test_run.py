"""``v1mtl run --smoke``: simulates into OUT/v1, prints the summary, and keeps an identical dataset."""

import json

from v1mtl.cli import main
from v1mtl.commands.run import SMOKE


def test_smoke_run_simulates_and_summarizes(tmp_path, capsys):
    assert main(["run", "--smoke", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "v1" / "manifest.json").is_file()
    start = out.index("{")
    summary, end = json.JSONDecoder().raw_decode(out[start:])
    assert summary["n_neurons_total"] == SMOKE.neurons * SMOKE.sessions
    table = out[start + end :]
    assert "median explainable variance" in table
    neurons_row = next(line for line in table.splitlines() if line.startswith("neurons"))
    assert neurons_row.split()[-1] == str(SMOKE.neurons * SMOKE.sessions)

    before = (tmp_path / "v1" / "manifest.json").stat().st_mtime_ns
    assert main(["run", "--smoke", "--out", str(tmp_path)]) == 0
    assert "kept the existing" in capsys.readouterr().out
    assert (tmp_path / "v1" / "manifest.json").stat().st_mtime_ns == before
