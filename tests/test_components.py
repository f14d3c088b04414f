"""Runs the per-component cocotb benches in Icarus, each on its own generated Verilog."""

from pathlib import Path

import pytest

from mirrorswap.rtl.axi_slice import RegisterSlice
from mirrorswap.example.bram import AxiBlockRam
from mirrorswap.rtl.decoder import AddressDecoder
from mirrorswap.rtl.home_agent import HomeAgent
from mirrorswap.rtl.host_port import HostWriteEngine
from mirrorswap.rtl.signatures import AXI4Signature
from mirrorswap.rtl.sweep import SweepEngine
from mirrorswap.sim.runner import BUILD, run_bench, write_verilog


def run_component(component, toplevel, module, name, env=None):
    build = BUILD / name
    src = write_verilog(component, toplevel, build)
    run_bench([src], toplevel, module, build_dir=build, env=env,
              test_dir=Path(__file__).parent)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_home_agent(seed):
    run_component(HomeAgent(), "home_agent", "cocotb_home_agent", f"home_agent_{seed}",
                  {"MS_SEED": seed})


@pytest.mark.parametrize("seed", [1, 2])
def test_sweep_engine(seed):
    run_component(SweepEngine(agent=2), "sweep_engine", "cocotb_sweep", f"sweep_{seed}",
                  {"MS_SEED": seed})


def test_address_decoder():
    run_component(AddressDecoder(agents=4, line_addr_width=29), "address_decoder",
                  "cocotb_decoder", "address_decoder")


@pytest.mark.parametrize("seed", [1, 2])
def test_block_ram(seed):
    run_component(AxiBlockRam(depth=256), "axi_block_ram", "cocotb_bram", f"bram_{seed}",
                  {"MS_SEED": seed, "MS_DEPTH": 256})


@pytest.mark.parametrize("seed", [1, 2])
def test_register_slice(seed):
    sig = AXI4Signature(addr_width=16, data_width=64, id_width=4)
    run_component(RegisterSlice(sig), "register_slice", "cocotb_axi_slice",
                  f"register_slice_{seed}", {"MS_SEED": seed})


@pytest.mark.parametrize("bits, message", [
    (0, "Claim bits must be an integer of at least 1, not 0"),
    (33, "Claim bits must be at most 32, not 33"),
    (True, "Claim bits must be an integer of at least 1, not True"),
])
def test_claim_bits_refused(bits, message):
    """Both ends of the claim check refuse a width that is not 1..32."""
    for build in (lambda: SweepEngine(agent=0, claim_bits=bits),
                  lambda: HostWriteEngine(agents=4, claim_bits=bits)):
        with pytest.raises(ValueError, match=message):
            build()


def test_register_slice_rejects_unknown_channel():
    with pytest.raises(ValueError, match="Unknown AXI channels"):
        RegisterSlice(AXI4Signature(addr_width=16, data_width=64, id_width=4),
                      channels=("r", "x"))
