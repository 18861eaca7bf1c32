"""Progress bars are drawn only when asked for and only on a terminal, never into a log file or a pipe."""

import io

from tqdm import tqdm

from v1mtl.common.progress import bar_disabled
from v1mtl.simulator import SimulationConfig, simulate_v1


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as a console's stderr does."""

    def isatty(self) -> bool:
        return True


def _drawn(progress: bool, stream: io.StringIO) -> str:
    for _ in tqdm(range(3), desc="work", file=stream, disable=bar_disabled(progress)):
        pass
    return stream.getvalue()


def test_a_bar_that_is_on_is_drawn_on_a_terminal():
    assert "work: 100%" in _drawn(True, Terminal())


def test_a_bar_that_is_on_writes_nothing_to_a_stream_that_is_not_a_terminal():
    assert _drawn(True, io.StringIO()) == ""


def test_a_bar_that_is_off_is_not_drawn_even_on_a_terminal():
    assert _drawn(False, Terminal()) == ""


def test_a_stage_with_progress_on_draws_no_bar_into_a_redirected_stderr(capsys):
    # pytest's captured stderr is not a terminal, as a study unit's log.txt is not
    simulate_v1(SimulationConfig(neurons=2, sessions=1, images=4, test_images=2, repeats=2), progress=True)
    assert capsys.readouterr().err == ""
