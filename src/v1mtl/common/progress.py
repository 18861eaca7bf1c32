"""When a progress bar is drawn: only when asked for and only on a terminal.

A bar redraws itself with carriage returns; in a log file or a pipe (a study's ``log.txt``, a Slurm
output file, ``| tee``) every redraw is left behind as a fragment, so a bar is kept off there.
"""

from __future__ import annotations


def bar_disabled(progress: bool) -> bool | None:
    """tqdm's ``disable`` for a ``progress`` setting.

    False -> True: no bar. True -> None: tqdm's own check, which draws the bar only when its stream
    (stderr by default) is a terminal.
    """
    return None if progress else True
