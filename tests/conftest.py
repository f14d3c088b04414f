"""Shared fixtures: the default top level, generated once for the whole regression.

Under pytest-xdist every worker runs session fixtures itself; :func:`sim.runner.shared_top`
takes a file lock, so the first worker elaborates and the others wait and then find the
file up to date. Benches with other parameters call ``shared_top(**params)`` themselves.
"""

import pytest

from mirrorswap.sim.runner import shared_top


@pytest.fixture(scope="session")
def top_verilog():
    """Path of ``mirrorswap_top.v`` with the SPEC defaults, for benches to share."""
    return shared_top()
