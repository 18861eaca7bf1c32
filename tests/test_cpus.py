import os
import subprocess
import sys

import pytest

from v1mtl.common.cpus import available_cpus


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="no CPU affinity on this OS")
def test_the_affinity_mask_bounds_the_cpus():
    assert available_cpus() == len(os.sched_getaffinity(0))
    one = sorted(os.sched_getaffinity(0))[:1]
    code = f"import os; os.sched_setaffinity(0, {one}); from v1mtl.common.cpus import available_cpus; print(available_cpus())"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "1"
