"""Shared fixtures: the default top level, generated once per test session.

Under pytest-xdist every worker runs session fixtures itself, so the generation takes a
file lock: the first worker elaborates, the others wait and then find the file up to date
(sim.runner.generate_top skips the elaboration when the Verilog is newer than the RTL).
"""

import fcntl

import pytest

from sim.runner import bench_dir, generate_top


@pytest.fixture(scope="session")
def top_verilog():
    """Path of ``mirrorswap_top.v`` with the SPEC defaults, for benches to share."""
    build = bench_dir("top_default")
    build.mkdir(parents=True, exist_ok=True)
    with open(build / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return generate_top(build)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
