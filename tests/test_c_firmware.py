"""The C firmware (firmware/c/, built by firmware/cbuild.py): builds, images, workload
checksum, and the C BIOS against the Python BIOS on the generated mirrorswap_top.

The build tests cross-compile the BIOS and the workload for PicoRV32 (RV32IM, -Wall
-Wextra -Werror) and check the $readmemh images word for word against the ELF files, the
reset and IRQ vectors, the RAM budget and the build parameters. The workload's native
twin must give the same checksum twice, and another for another operation count.

The comparison runs the same flow through both BIOSes on the RTL, one after the other
with a reset between (boot and migrate; boot and a direct hot remove; boot and the event
loop under three button presses, the second inside the abort window): the Python BIOS (firmware/bios.py, firmware/hotplug.py) through a
recording register bus, and the C flows (bios.c, hotplug.c) built for the build machine
as a shared library whose register accesses are ctypes callbacks; the C code runs in a
cocotb bridge thread and each callback performs a real AXI4-Lite access through
``cocotb.task.resume``. The two register traces (polling reads collapsed) must be equal,
value for value. Without riscv64-unknown-elf-gcc the cross builds skip; without a native
gcc everything skips.
"""

import ctypes
import os
import re
import shutil
import subprocess

import cocotb
import pytest
from cocotb import regression
from cocotb.triggers import ClockCycles

from mirrorswap.firmware import cbuild
from mirrorswap.firmware.regbus import RegisterBus
from mirrorswap.regmap import Led, Mode
from mirrorswap.sim.runner import run_tests, shared_top
from mirrorswap.soc import map as soc_map

SEED = int(os.environ.get("MS_SEED", "1"))
HAVE_RISCV = shutil.which(cbuild.RISCV_PREFIX + "gcc") is not None
HAVE_CC = (shutil.which("gcc") or shutil.which("cc")) is not None
needs_riscv = pytest.mark.skipif(not HAVE_RISCV, reason=f"{cbuild.DEBIAN_PACKAGE} not installed")
needs_cc = pytest.mark.skipif(not HAVE_CC, reason="no native C compiler (gcc)")


# ---- builds -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def images(tmp_path_factory):
    if not HAVE_RISCV:
        pytest.skip(f"{cbuild.DEBIAN_PACKAGE} not installed")
    out = tmp_path_factory.mktemp("c")
    return cbuild.build_images(out, workload_ops=777, abort_window_cycles=12345)


def _hex_words(path):
    lines = path.read_text().splitlines()
    bad = [(i, line) for i, line in enumerate(lines) if not re.fullmatch(r"[0-9a-f]{8}", line)]
    assert not bad, f"{path}: lines that are not 8 hex digits: {bad[:3]}"
    return [int(line, 16) for line in lines]


@needs_riscv
def test_builds_with_every_warning_an_error(images):
    assert {"-Wall", "-Wextra", "-Werror"} <= set(cbuild.WARNINGS)
    assert {"-march=rv32im", "-mabi=ilp32", "-ffreestanding", "-nostdlib"} <= set(
        cbuild.TARGET_FLAGS)
    for key in ("bios", "workload", "bios_elf", "workload_elf"):
        assert images[key].is_file(), key


@needs_riscv
def test_images_are_the_elf_files_word_for_word(images, tmp_path):
    for name in ("bios", "workload"):
        words = _hex_words(images[name])
        raw = tmp_path / f"{name}.bin"
        subprocess.run([cbuild.toolchain("objcopy"), "-O", "binary", str(images[f"{name}_elf"]),
                        str(raw)], check=True)
        assert words == cbuild.image_words(raw.read_bytes()), name
        syms = cbuild.symbols(images[f"{name}_elf"])
        assert len(words) * 4 == syms["_image_end"], name
        # image, .bss and the stack reserve fit the CPU's own RAM (the linker asserts too)
        assert syms["_bss_end"] + 2048 <= soc_map.RAM_BYTES, (name, syms["_bss_end"])
        # reset vector: a jal x0 (opcode 0x6f, rd 0) to _start
        assert words[soc_map.PROGADDR_RESET // 4] & 0xfff == 0x06f, hex(words[0])
    bios = _hex_words(images["bios"])
    # the IRQ entry at PROGADDR_IRQ begins with setq q2, ra (custom-0, funct7 1, funct3 2)
    assert bios[soc_map.PROGADDR_IRQ // 4] == 0x0200a10b, hex(bios[soc_map.PROGADDR_IRQ // 4])
    assert 0x0400000b in bios, "no retirq in the BIOS"
    # the BIOS reaches mirrorswap at SOC_MIRRORSWAP_BASE: some lui loads its upper bits
    lui = {w >> 12 for w in bios if w & 0x7f == 0x37}
    assert soc_map.MIRRORSWAP_BASE >> 12 in lui


@needs_riscv
def test_build_parameters_reach_the_images(images):
    syms = cbuild.symbols(images["bios_elf"])
    words = _hex_words(images["bios"])
    assert words[syms["ms_abort_window_cycles"] // 4] == 12345
    dis = subprocess.run([cbuild.toolchain("objdump"), "-d", str(images["workload_elf"])],
                         capture_output=True, text=True, check=True).stdout
    assert re.search(r"\b777\b", dis), "WORKLOAD_OPS=777 is not in the workload's code"


def test_bad_parameters_are_refused(tmp_path):
    for kwargs, text in ((dict(workload_ops=0), "workload_ops must be an integer >= 1"),
                         (dict(abort_window_cycles=-1), "abort_window_cycles must be"),
                         (dict(chunk_lines=True), "chunk_lines must be"),
                         (dict(abort_window_cycles=1 << 32), "must fit in 32 bits"),
                         (dict(table_bytes=3000), "table_bytes must be a power of two"),
                         (dict(table_bytes=65536), "table_bytes must be a power of two")):
        with pytest.raises(ValueError, match=re.escape(text)):
            cbuild.build_images(tmp_path, **kwargs)


def test_missing_toolchain_names_the_debian_package(monkeypatch, tmp_path):
    monkeypatch.setattr(cbuild.shutil, "which", lambda name: None)
    with pytest.raises(cbuild.ToolchainMissing, match="gcc-riscv64-unknown-elf"):
        cbuild.build_images(tmp_path)


@needs_riscv
@needs_cc
@pytest.mark.parametrize("native", [False, True])
def test_a_write_to_a_read_only_register_does_not_compile(native, tmp_path):
    src = tmp_path / "bad.c"
    src.write_text('#include "hal.h"\nvoid bad(void);\n'
                   'void bad(void) { MS_WR(MIRRORSWAP->agent[0].STATUS, 1); }\n')
    cc = shutil.which("gcc") if native else cbuild.toolchain("gcc")
    flags = ["-DMS_NATIVE"] if native else cbuild.TARGET_FLAGS
    r = subprocess.run([cc, *flags, "-std=c11", "-c", *map(str, cbuild._includes()), str(src),
                        "-o", str(tmp_path / "bad.o")], capture_output=True, text=True)
    assert r.returncode != 0 and "read-only" in r.stderr, r.stderr


@needs_cc
def test_workload_checksum_is_deterministic(tmp_path):
    first = cbuild.expected_checksum(workload_ops=300, out_dir=tmp_path)
    assert cbuild.expected_checksum(workload_ops=300, out_dir=tmp_path) == first
    assert cbuild.expected_checksum(workload_ops=301, out_dir=tmp_path) != first
    assert cbuild.expected_checksum(workload_ops=300, table_bytes=4096,
                                    out_dir=tmp_path) != first
    assert 0 <= first < 1 << 32


# ---- the C BIOS against the Python BIOS, on the RTL ---------------------------------------

class TraceBus(RegisterBus):
    """A register bus that records every access of the bus it wraps:
    ``("R", offset, value)`` and ``("W", offset, value)``, in order."""

    def __init__(self, inner):
        self.inner = inner
        self.trace = []

    async def read32(self, offset):
        value = await self.inner.read32(offset)
        self.trace.append(("R", offset, value))
        return value

    async def write32(self, offset, value):
        self.trace.append(("W", offset, value))
        await self.inner.write32(offset, value)

    async def pause(self, cycles):
        await self.inner.pause(cycles)

    def spawn(self, coro):
        return self.inner.spawn(coro)

    async def wait_irq(self, cycles):
        await self.inner.wait_irq(cycles)


def collapse(trace):
    """Runs of reads of one register (a polling loop) as one read with the last value:
    how often a loop polls depends on timing, what it waited for does not."""
    out = []
    for entry in trace:
        if entry[0] == "R" and out and out[-1][0] == "R" and out[-1][1] == entry[1]:
            out[-1] = entry
        else:
            out.append(entry)
    return out


def _first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def _show(trace, i):
    return "\n".join(f"  {j}: {e[0]} {e[1]:#05x} {e[2]:#010x}"
                     for j, e in enumerate(trace[max(0, i - 3):i + 3], start=max(0, i - 3)))


class NativeBios:
    """The C BIOS library (cbuild.build_native_bios) bound to a cocotb register bus.

    Its flows are blocking C calls; :meth:`run` runs one in a cocotb bridge thread, where
    every register callback waits for a real AXI4-Lite access (``cocotb.task.resume``).
    """

    READ = ctypes.CFUNCTYPE(ctypes.c_uint32, ctypes.c_uint32)
    WRITE = ctypes.CFUNCTYPE(None, ctypes.c_uint32, ctypes.c_uint32)
    PAUSE = ctypes.CFUNCTYPE(None, ctypes.c_uint32)
    PUTC = ctypes.CFUNCTYPE(None, ctypes.c_int)

    def __init__(self, path, bus):
        from cocotb.task import resume
        self.lib = ctypes.CDLL(str(path))
        self.bus = bus
        self.console = []
        self.io = []
        self.errors = []     # an exception in a callback cannot cross the C frames
        read, write = resume(bus.read32), resume(bus.write32)
        #: what the pause callback runs; a test may wrap it (an emulated interrupt)
        self.pause_hook = resume(bus.pause)

        def guard(f):
            def call(*args):
                try:
                    return f(*args)
                except BaseException as e:
                    self.errors.append(e)
                    return 0
            return call

        # kept as members: a collected callback would leave C a dangling pointer
        self._callbacks = (self.READ(guard(read)), self.WRITE(guard(write)),
                           self.PAUSE(guard(lambda cycles: self.pause_hook(cycles))),
                           self.PUTC(lambda c: self.console.append(chr(c))),
                           self.WRITE(lambda off, v: self.io.append((off, v))))
        assert self.lib.ms_native_init(*self._callbacks) == 0
        self.lib.ms_bios_init(4, 10_000_000)

    async def run(self, name, *args):
        from cocotb.task import bridge
        result = await bridge(lambda: getattr(self.lib, name)(*args))()
        assert not self.errors, f"{name}: a register callback failed: {self.errors[0]!r}"
        return result

    @property
    def text(self):
        return "".join(self.console)


class FlowRecord(ctypes.Structure):
    _fields_ = [("slot", ctypes.c_int), ("kind", ctypes.c_int), ("outcome", ctypes.c_int),
                ("moved_to", ctypes.c_int), ("chunks", ctypes.c_uint32)]


async def _both(dut, python_flow, c_flow):
    """Run ``python_flow(bios)`` and then, after a reset, ``c_flow(native)`` on one
    mirrorswap_top; return both collapsed traces and the native BIOS."""
    from mirrorswap.firmware.bios import Bios
    from mirrorswap.sim.tb import TopTB
    tb = TopTB(dut, capacities_log2=(12, 12, 12, 13), seed=SEED)
    await tb.reset()
    py_bus = TraceBus(tb.bus)
    await python_flow(Bios(py_bus), tb)
    await tb.reset()          # LOCK, modes and slot power back to their reset values
    for a in range(tb.agents):
        assert (await tb.status(a))["mode"] == Mode.OFF, a
    c_bus = TraceBus(tb.bus)
    native = NativeBios(os.environ["MS_C_BIOS_LIB"], c_bus)
    await c_flow(native, tb)
    return collapse(py_bus.trace), collapse(c_bus.trace), native, tb


def _assert_same(py, c):
    i = _first_difference(py, c)
    assert py == c, (f"traces differ at access {i} of {len(py)} (Python) / {len(c)} (C)\n"
                     f"Python:\n{_show(py, i)}\nC:\n{_show(c, i)}")


@cocotb.test()
async def boot_and_migrate_write_the_same_registers(dut):
    """boot(), then migrate(1) in chunks of 1024 lines: one trace, access for access."""
    async def python_flow(bios, tb):
        await bios.boot()
        assert await bios.migrate(1, chunk_lines=1024) == 3

    async def c_flow(native, tb):
        assert await native.run("ms_boot", 100_000, 1) == 0, native.text
        moved = ctypes.c_int(-1)
        assert await native.run("ms_migrate", 1, -1, 1024, 3, None,
                                ctypes.byref(moved)) == 0, native.text
        assert moved.value == 3

    py, c, native, tb = await _both(dut, python_flow, c_flow)
    _assert_same(py, c)
    assert len(py) > 60 and sum(e[0] == "W" for e in py) > 30, len(py)
    assert (await tb.status(3))["mode"] == Mode.ACTIVE
    assert (await tb.status(1))["mode"] == Mode.IDLE
    # the C BIOS published the map in the SoC's I/O block: MEM_BYTES, then GO
    assert native.io == [(soc_map.io_offset("MEM_BYTES"), 12288 * 8),
                         (soc_map.io_offset("GO"), 1)], native.io
    assert "boot: 4 modules, spare slot 3, 12288 lines published" in native.text, native.text
    assert "slot 1: range moved to slot 3" in native.text, native.text
    dut._log.info("C BIOS console:\n%s", native.text)


@cocotb.test()
async def hot_remove_writes_the_same_registers(dut):
    """boot(), then the hot-remove flow of slot 1 called directly (no abort window):
    LEDs, spare pick, migration, power off; same trace, same LEDs at the end."""
    from mirrorswap.firmware.hotplug import HotPlug

    async def python_flow(bios, tb):
        await bios.boot()
        record = await HotPlug(bios, abort_window_cycles=0, chunk_lines=1024).hot_remove(1)
        assert (record.outcome, record.moved_to) == ("done", 3), record

    async def c_flow(native, tb):
        assert await native.run("ms_boot", 100_000, 1) == 0, native.text
        record = FlowRecord()
        outcome = await native.run("ms_hot_remove", 1, ctypes.byref(record))
        assert (outcome, record.outcome, record.moved_to, record.chunks) == (1, 1, 3, 4), (
            outcome, record.outcome, record.moved_to, record.chunks, native.text)

    py, c, native, tb = await _both(dut, python_flow, c_flow)
    _assert_same(py, c)
    assert (await tb.status(1))["mode"] == Mode.OFF
    ctrl = await tb.read(1, "SLOT_CTRL")
    assert ctrl == 0, f"slot 1 SLOT_CTRL {ctrl:#x}: power and both LEDs off"
    assert int(tb.slots[1].pins["power_led"].value) == int(Led.OFF)
    assert "slot 1: remove flow done" in native.text, native.text


WINDOW = 4000      # abort window of the button test, cycles


async def _press_twice_then_once(tb, ended):
    """Slot 1's button: a press, a second one inside the abort window (cancels), and once
    the flow ended, a third press that runs the hot remove to its end. ``ended()`` says
    how many flows have ended."""
    await tb.slots[1].press_button()
    await tb.cycles(1000)
    await tb.slots[1].press_button()
    while ended() < 1:
        await tb.cycles(256)
    await tb.slots[1].press_button()
    waited = 0
    while ended() < 2:
        assert waited < 200_000, "the hot remove did not end"
        await tb.cycles(256)
        waited += 256


@cocotb.test()
async def button_presses_write_the_same_registers(dut):
    """The event loop: slot 1's button pressed twice inside the abort window (cancelled,
    LEDs restored), then once (hot remove done). Python: HotPlug.run(). C: the event
    handling of hotplug.c with the interrupt emulated at the flows' pauses (the pause
    callback calls ms_hotplug_service when irq is high) and the main loop's
    ms_hotplug_run_queued. The loop's idle polls of IRQ_SUMMARY (Python reads it every
    256 cycles, the C BIOS only on an interrupt) are left out of the traces."""
    from cocotb.triggers import ClockCycles, First, RisingEdge
    from cocotb.task import resume
    from mirrorswap.firmware.hotplug import HotPlug
    from mirrorswap.regmap import global_reg
    summary = global_reg("IRQ_SUMMARY").offset
    outcomes = {}

    async def python_flow(bios, tb):
        await bios.boot()
        hp = HotPlug(bios, abort_window_cycles=WINDOW, chunk_lines=1024)
        loop = cocotb.start_soon(hp.run())
        while not hp.listening:
            await tb.cycles(16)
        await _press_twice_then_once(tb, lambda: len(hp.history) - len(hp.flows))
        hp.stop()
        await loop
        outcomes["python"] = [(r.kind, r.outcome, r.moved_to) for r in hp.history]

    async def c_flow(native, tb):
        lib = native.lib
        ctypes.c_uint32.in_dll(lib, "ms_abort_window_cycles").value = WINDOW
        ended = ctypes.c_uint32.in_dll(lib, "ms_flows_ended")
        ended_before = ended.value       # the library's globals live as long as the process
        last = FlowRecord.in_dll(lib, "ms_last_flow")
        assert await native.run("ms_boot", 100_000, 1) == 0, native.text
        await native.run("ms_hotplug_enable")

        async def irq_high():
            return int(dut.irq.value)

        irq = resume(irq_high)
        pause = native.pause_hook

        def pause_then_interrupt(cycles):
            pause(cycles)
            if irq():                  # the interrupt, taken where the flow pauses
                lib.ms_hotplug_service()
        native.pause_hook = pause_then_interrupt
        records = []
        stop = False

        async def main_loop():       # main.c's loop, with the interrupt emulated
            while not stop:
                if int(dut.irq.value):
                    await native.run("ms_hotplug_service")
                if await native.run("ms_hotplug_run_queued"):
                    records.append(("remove", last.outcome, last.moved_to))
                    continue
                await First(RisingEdge(dut.irq), ClockCycles(dut.clk, 256))

        loop = cocotb.start_soon(main_loop())
        await _press_twice_then_once(tb, lambda: ended.value - ended_before)
        stop = True
        await loop
        names = {2: "cancelled", 1: "done"}
        outcomes["c"] = [(kind, names.get(outcome, outcome), None if moved < 0 else moved)
                         for kind, outcome, moved in records]

    py, c, native, tb = await _both(dut, python_flow, c_flow)
    idle = ("R", summary, 0)
    py, c = collapse([e for e in py if e != idle]), collapse([e for e in c if e != idle])
    assert outcomes["python"] == [("remove", "cancelled", None), ("remove", "done", 3)], outcomes
    assert outcomes["c"] == outcomes["python"], (outcomes, native.text)
    _assert_same(py, c)
    assert "second press in the abort window, cancelling" in native.text, native.text
    assert (await tb.status(1))["mode"] == Mode.OFF
    dut._log.info("C BIOS console:\n%s", native.text)


# ---- the images on the SoC's PicoRV32 cores -------------------------------------------------

SOC_OPS, SOC_TABLE = 200, 4096        # the workload's build parameters on the SoC


async def _bios_line(tb, text, limit=600_000):
    """Wait until the BIOS console printed a line holding ``text``."""
    waited = 0
    while not any(text in line for line in tb.lines["bios"]):
        assert waited < limit, f"no BIOS line with {text!r} in {limit} cycles:\n" + \
            tb.output("bios")
        await ClockCycles(tb.dut.clk, 500)
        waited += 500


@cocotb.test()
async def soc_button_flows(dut):
    """The cross-compiled BIOS on the management CPU, the workload on the host CPU
    (soc_top): slot 1's button pressed twice (the second press in the abort window
    cancels), then once while the workload runs (hot remove to the spare, slot 0), then
    again (hot add: slot 1 is the new spare), then again (spare removed). The workload
    ends with the checksum of its native build and no mismatch."""
    from mirrorswap.soc.tb import SocTB
    tb = SocTB(dut, echo=False)
    await tb.start()
    await _bios_line(tb, "listening for slot events")
    await tb.press(1, 500)
    # the flow starts once the main loop is back from its console line (a press before
    # that drops the queued flow instead; either way nothing happens to the slot)
    await _bios_line(tb, "slot 1: remove flow")
    await tb.press(1, 500)
    await _bios_line(tb, "slot 1: remove flow cancelled")
    assert int(dut.stats_host_state.value) == 1, "the workload ended before the migration"
    await tb.press(1, 500)
    await _bios_line(tb, "slot 1: remove flow done")
    for flow in ("add", "remove-spare"):
        await tb.press(1, 500)
        await _bios_line(tb, f"slot 1: {flow} flow done")
    await tb.wait_io(dut.stats_host_state, lambda v: v >= 2, timeout_cycles=2_000_000)
    bios, host = tb.output("bios"), tb.output("host")
    dut._log.info("BIOS console:\n%s\nhost console:\n%s", bios, host)
    expected = int(os.environ["MS_EXPECTED"])
    assert int(dut.stats_host_state.value) == 2, host
    assert int(dut.stats_host_result.value) == expected, (
        f"{int(dut.stats_host_result.value):#010x} != {expected:#010x}")
    assert f"checksum {expected:#010x}, 0 mismatches" in host, host
    assert int(dut.stats_trap.value) == 0
    assert "slot 1: range moved to slot 0" in bios
    assert "second press in the abort window, cancelling" in bios
    for i, (power_en, power_led, attn_led) in enumerate([(1, 1, 0), (0, 0, 0), (1, 1, 0)]):
        pins = tb.slot[i]
        assert (int(pins["power_en"].value), int(pins["power_led"].value),
                int(pins["attn_led"].value)) == (power_en, power_led, attn_led), i


# ---- pytest entry -------------------------------------------------------------------------

#: The cocotb tests of this file on mirrorswap_top, in the order they are written.
TESTS = [obj.name for obj in list(globals().values())
         if isinstance(obj, regression.TestGenerator) and not obj.name.startswith("soc_")]


@pytest.fixture(scope="module")
def native_bios_lib(tmp_path_factory):
    return cbuild.build_native_bios(tmp_path_factory.mktemp("native"))


def test_every_cocotb_test_is_collected():
    assert len(TESTS) == 3, TESTS


@needs_cc
@pytest.mark.parametrize("testcase", TESTS)
def test_c_bios_matches_python_bios(testcase, native_bios_lib):
    run_tests(__file__, "mirrorswap_top", sources=[shared_top()], testcase=testcase,
              env={"MS_C_BIOS_LIB": str(native_bios_lib)})


@needs_riscv
@needs_cc
@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("SIM", "icarus").lower() != "verilator",
                    reason="both CPUs of the SoC simulate at about 2k cycles/s in Icarus "
                           "(this run is about 0.6M cycles): run it with SIM=verilator")
def test_flows_on_the_soc():
    from mirrorswap.sim.runner import bench_dir, run_bench
    from mirrorswap.soc.tb import soc_sources
    build = bench_dir("test_c_firmware_soc")
    images = cbuild.build_images(build / "c", workload_ops=SOC_OPS, table_bytes=SOC_TABLE,
                                 abort_window_cycles=6000)
    expected = cbuild.expected_checksum(workload_ops=SOC_OPS, table_bytes=SOC_TABLE,
                                        out_dir=build / "c")
    run_bench(soc_sources(build, bios=images["bios"], workload=images["workload"]), "soc_top",
              "test_c_firmware", build_dir=build, testcase="soc_button_flows",
              test_dir=os.path.dirname(__file__), quiet=True,
              env={"MS_EXPECTED": expected})
