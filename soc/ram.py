"""Block RAMs of the SoC: each CPU's program RAM and the slots' memory modules."""

from pathlib import Path

from amaranth.hdl import Const, Module, Mux, Signal, Cat
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from mirrorswap.rtl.signatures import AXI4LiteSignature, AXI4Signature, Resp

__all__ = ["read_image", "ProgramRam", "ModuleRam"]


def read_image(path, words):
    """The 32-bit words of a ``$readmemh``-style image: one hex word per line, from
    address 0 (blank lines and ``//`` comments are skipped; ``@address`` is not supported).

    Raises
    ------
    ValueError
        A line is not one hexadecimal word of at most 32 bits, or the image has more than
        ``words`` words (the message names the file and line).
    """
    path = Path(path)
    image = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        text = line.split("//", 1)[0].strip()
        if not text:
            continue
        try:
            value = int(text, 16)
        except ValueError:
            value = -1
        if not 0 <= value < 1 << 32 or len(text) > 8:
            raise ValueError(f"{path}:{number}: not a 32-bit hex word: {line!r}")
        image.append(value)
    if len(image) > words:
        raise ValueError(f"{path}: {len(image)} words do not fit a RAM of {words} words")
    return image


class ProgramRam(wiring.Component):
    """A CPU's own RAM: ``size`` bytes of 32-bit words on an AXI4-Lite port, with an image.

    One access at a time, as the CPU makes them: a read answers the cycle after AR (the
    RAM's synchronous read), a write takes AW and W together and answers B the cycle
    after. Byte strobes are honoured. The address is taken modulo ``size`` (the bus
    decoder in front only routes addresses inside it); every response is OKAY.

    Parameters
    ----------
    size : int
        Bytes, a power of two of at least 8.
    init : list of int
        Initial words from address 0 (the rest is zero).

    Members
    -------
    bus : In(AXI4LiteSignature(addr_width=32))
    """

    def __init__(self, *, size, init=()):
        if not isinstance(size, int) or size < 8 or size & (size - 1):
            raise ValueError(f"Program RAM size must be a power of two of at least 8 bytes, "
                             f"not {size!r}")
        init = list(init)
        if len(init) > size // 4:
            raise ValueError(f"An image of {len(init)} words does not fit {size} bytes")
        self._words = size // 4
        self._init = init
        super().__init__({"bus": In(AXI4LiteSignature(addr_width=32))})

    def elaborate(self, platform):
        m = Module()
        bus = self.bus
        m.submodules.mem = mem = Memory(shape=32, depth=self._words, init=self._init)
        wp = mem.write_port(granularity=8)
        rp = mem.read_port(domain="sync")
        index = slice(2, 2 + (self._words - 1).bit_length())
        r_pending = Signal()
        b_pending = Signal()
        # one access in flight at a time: AR or AW+W only while no response is pending
        idle = ~r_pending & ~b_pending
        write = idle & bus.awvalid & bus.wvalid
        read = idle & bus.arvalid & ~write
        m.d.comb += [
            bus.awready.eq(write), bus.wready.eq(write), bus.arready.eq(read),
            wp.addr.eq(bus.awaddr[index]), wp.data.eq(bus.wdata),
            wp.en.eq(Mux(write, bus.wstrb, 0)),
            rp.addr.eq(bus.araddr[index]), rp.en.eq(read),
            bus.rdata.eq(rp.data), bus.rvalid.eq(r_pending), bus.rresp.eq(Resp.OKAY),
            bus.bvalid.eq(b_pending), bus.bresp.eq(Resp.OKAY),
        ]
        with m.If(read):
            m.d.sync += r_pending.eq(1)
        with m.Elif(r_pending & bus.rready):
            m.d.sync += r_pending.eq(0)
        with m.If(write):
            m.d.sync += b_pending.eq(1)
        with m.Elif(b_pending & bus.bready):
            m.d.sync += b_pending.eq(0)
        return m


class ModuleRam(wiring.Component):
    """A slot's memory module: ``depth`` lines of ``data_width`` bits behind an AXI4 port,
    which a ``wipe`` pulse scrambles (a module pulled out loses its contents).

    The AXI side is the example board's :class:`~mirrorswap.example.bram.AxiBlockRam` made
    parametric in the line width: reads and writes run independently, one burst at a time
    each, one beat per cycle; INCR bursts (FIXED and WRAP treated as INCR) of any size up
    to a line per beat, byte strobes; a line at or past ``depth`` answers SLVERR and
    writes nothing.

    ``wipe`` (one cycle) starts overwriting every line, one per cycle, with a pattern
    made of the line number (``0xDEAD_BEEF`` xor the line, repeated), so a read after it
    returns garbage rather than the old data; ``wiping`` is high until the last line is
    written. While wiping, the wipe owns the RAM's write port: a host write in that time
    (there is none: the slot is powered off) would be lost.

    Parameters
    ----------
    depth : int
        Lines (a power of two of at least 2).
    data_width : int
        Bits per line: 32 to 1024, a power of two.
    addr_width, id_width : int
        Of the AXI4 port.

    Members
    -------
    bus : In(AXI4Signature(addr_width, data_width, id_width, user=True))
        The memory port; without poison support (``ruser`` 0, ``wuser`` ignored).
    wipe : In(1)
    wiping : Out(1)
    """

    def __init__(self, *, depth=4096, data_width=64, addr_width=32, id_width=4):
        if not isinstance(depth, int) or depth < 2 or depth & (depth - 1):
            raise ValueError(f"Depth must be a power of two of at least 2, not {depth!r}")
        if (not isinstance(data_width, int) or data_width < 32 or data_width > 1024
                or data_width & (data_width - 1)):
            raise ValueError(f"Data width must be a power of two from 32 to 1024 bits, "
                             f"not {data_width!r}")
        self._depth = depth
        self._data_width = data_width
        super().__init__({
            # a memory without poison support: ruser stays 0, wuser is not stored
            "bus": In(AXI4Signature(addr_width=addr_width, data_width=data_width,
                                    id_width=id_width, user=True)),
            "wipe": In(1),
            "wiping": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        bus = self.bus
        width = self._data_width
        byte_bits = (width // 8 - 1).bit_length()        # log2 of bytes per line
        lines_log2 = (self._depth - 1).bit_length()
        m.submodules.mem = mem = Memory(shape=width, depth=self._depth, init=[])
        wp = mem.write_port(granularity=8)
        rp = mem.read_port(domain="sync")

        def inside(byte_addr):
            return (byte_addr >> (byte_bits + lines_log2)) == 0

        # ---- wipe: one line per cycle, the write port's owner while it runs
        wipe_line = Signal(lines_log2)
        pattern = Const(0xDEAD_BEEF, 32) ^ wipe_line
        m.d.comb += self.wiping.eq(wipe_line != 0)
        with m.If(self.wipe | (wipe_line != 0)):
            m.d.sync += wipe_line.eq(wipe_line + 1)
        bus_addr = Signal(lines_log2)
        bus_en = Signal(width // 8)

        # ---- write side: AW, then the beats, then B
        w_addr = Signal.like(bus.awaddr)
        w_size = Signal(3)
        w_bad = Signal()
        m.d.comb += [bus_addr.eq(w_addr >> byte_bits)]
        with m.If(self.wipe | self.wiping):
            m.d.comb += [wp.addr.eq(wipe_line), wp.data.eq(Cat(*[pattern] * (width // 32))),
                         wp.en.eq(-1)]
        with m.Else():
            m.d.comb += [wp.addr.eq(bus_addr), wp.data.eq(bus.wdata), wp.en.eq(bus_en)]
        with m.FSM(name="write"):
            with m.State("AW"):
                m.d.comb += bus.awready.eq(1)
                with m.If(bus.awvalid):
                    m.d.sync += [w_addr.eq(bus.awaddr), w_size.eq(bus.awsize),
                                 bus.bid.eq(bus.awid), w_bad.eq(0)]
                    m.next = "W"
            with m.State("W"):
                m.d.comb += bus.wready.eq(1)
                with m.If(bus.wvalid):
                    with m.If(inside(w_addr)):
                        m.d.comb += bus_en.eq(bus.wstrb)
                    with m.Else():
                        m.d.sync += w_bad.eq(1)
                    m.d.sync += w_addr.eq(w_addr + (1 << w_size))
                    with m.If(bus.wlast):
                        m.next = "B"
            with m.State("B"):
                m.d.comb += [bus.bvalid.eq(1),
                             bus.bresp.eq(Mux(w_bad, Resp.SLVERR, Resp.OKAY))]
                with m.If(bus.bready):
                    m.next = "AW"

        # ---- read side: the RAM read enable is the output register's enable
        r_addr = Signal.like(bus.araddr)
        r_size = Signal(3)
        r_left = Signal(8)      # beats still to read after the current one
        r_active = Signal()     # beats remain to be read
        r_valid = Signal()
        r_last = Signal()
        r_bad = Signal()
        advance = ~r_valid | bus.rready
        m.d.comb += [
            rp.addr.eq(r_addr >> byte_bits), rp.en.eq(advance),
            bus.rvalid.eq(r_valid), bus.rlast.eq(r_last), bus.rdata.eq(rp.data),
            bus.rresp.eq(Mux(r_bad, Resp.SLVERR, Resp.OKAY)),
            bus.arready.eq(~r_active & ~r_valid),
        ]
        with m.If(bus.arvalid & bus.arready):
            m.d.sync += [r_addr.eq(bus.araddr), r_size.eq(bus.arsize), r_left.eq(bus.arlen),
                         r_active.eq(1), bus.rid.eq(bus.arid)]
        with m.If(advance):
            m.d.sync += [r_valid.eq(r_active), r_last.eq(r_active & (r_left == 0)),
                         r_bad.eq(~inside(r_addr))]
            with m.If(r_active):
                m.d.sync += [r_addr.eq(r_addr + (1 << r_size)), r_left.eq(r_left - 1)]
                with m.If(r_left == 0):
                    m.d.sync += r_active.eq(0)
        return m
