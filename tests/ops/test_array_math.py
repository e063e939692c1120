"""The process-wide settings the array sweeps rely on."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

# Make and drop three 8 MB arrays 20 times, as a sweep over large arrays makes its temporaries,
# and count the page faults: glibc hands the freed 24 MB back to the OS each time unless told
# to keep it, and then each array faults in anew (2,048 pages of 4 KiB).
PROBE = """
import resource, sys
import numpy as np
from backprop_cli.ops.array_math import settle_allocator
if sys.argv[1] == "settled":
    settle_allocator()
def temporaries():
    a, b, c = np.ones(1 << 20), np.ones(1 << 20), np.ones(1 << 20)
temporaries()  # the first ones fault either way
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    temporaries()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the thresholds are glibc's")
def test_settled_temporaries_come_from_the_heap_without_page_faults() -> None:
    assert page_faults("plain") > 10 * 2048  # the probe sees the faults it is meant to
    assert page_faults("settled") < 2048  # not one array's worth in 60
