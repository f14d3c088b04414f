"""AXI4-Lite control and status registers (SPEC section 3)."""

from amaranth.hdl import Module, Signal, Cat, Const, Mux
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mirrorswap import regmap
from .signatures import AXI4LiteSignature, Resp

__all__ = ["AgentRegsSignature", "ControlRegisters"]


class AgentRegsSignature(wiring.Signature):
    """What the register block exchanges with the core about one agent.

    ``Out`` members are register contents and strobes the core uses; ``In`` members are
    values the core reports. From the register block's point of view.
    """

    def __init__(self):
        super().__init__({
            # software-written values
            "base": Out(32), "size": Out(32), "sweep_start": Out(32), "sweep_count": Out(32),
            "throttle": Out(16), "power_en": Out(1), "power_led": Out(2), "attn_led": Out(2),
            "irq_en": Out(7), "events": Out(7), "ras_ctrl": Out(2),
            "cmd_valid": Out(1), "cmd_opcode": Out(4), "cmd_peer": Out(4),
            "power_refused": Out(1),
            # core-reported values
            "mode": In(3), "busy": In(1), "swept": In(1), "peer": In(4), "err": In(4),
            "present": In(1), "power_good": In(1), "capacity": In(32), "swept_upto": In(32),
            "err_addr": In(32), "event_set": In(7),
            # CE_COUNT and UE_COUNT grow by these each cycle (saturating at 2**32 - 1)
            "ce_inc": In(1), "ue_inc": In(2),
            # BASE/SIZE are locked while the agent owns a range (a write answers SLVERR) and
            # are written by the core when a mirror slave takes its master's range.
            "range_lock": In(1), "range_we": In(1), "range_base": In(32), "range_size": In(32),
            # SLOT_CTRL.power_en may not go 0 while the agent owns a range or is a slave.
            "power_protect": In(1),
        })


class ControlRegisters(wiring.Component):
    """AXI4-Lite subordinate holding the registers of SPEC section 3.

    One read and one write are handled at a time. RVALID rises two cycles after the AR
    handshake; BVALID rises two cycles after the later of the AW and W handshakes, or
    later while ``freeze`` holds the write. Offsets, fields, access types and resets all
    come from :mod:`mirrorswap.regmap`.

    The two low address bits are ignored (a byte write arrives as its byte address with the
    matching strobe). Error responses (SLVERR), each of which changes nothing: an unmapped
    offset; a write to a read-only register; a value that does not fit its field (bits
    above DEBOUNCE/BLINK/THROTTLE's 16, an LED code of 3, unused bits of SLOT_CTRL, LOCK's
    bits above 0); a write to BASE or SIZE while the agent owns a range; a refused
    non-secure write (below). A CMD write answers OKAY unless refused as non-secure: the
    command reports through STATUS.err. Reads of CMD return 0.

    Security (SPEC section 8): a write is non-secure when ``awprot[1]`` is 1. LOCK's
    ``secure_only`` bit is set by a secure write of 1 and cleared only by ``rst`` (a write
    of 0 leaves it and answers OKAY). While it is set, every non-secure write, to any
    offset, answers SLVERR and changes nothing: no register, no event, no command pulse,
    no power-refused pulse. LOCK itself takes only secure writes, also while it is clear,
    so that a non-secure manager cannot lock the firmware out. Reads are never refused
    (``arprot`` is ignored). With ``secure_only`` clear, non-secure writes to any other
    register are served as secure ones.

    Timing: no path runs from every register of every agent through one multiplexer. A
    read selects a word in each block, registered, then picks the block. A write's address
    is decoded and its value's fit checked as they arrive, so the write itself is a short
    path, and each register's write enable tests that register's own condition.

    Parameters
    ----------
    agents : int
        Number of home agents, 1 to 16 (their blocks must fit the 12-bit register space).
    config : int
        Value of the CONFIG register.

    Raises
    ------
    ValueError
        ``agents`` is not an integer from 1 to 16, or its blocks do not fit.

    Members
    -------
    bus : In(AXI4LiteSignature(addr_width=12))
        Register port.
    debounce, blink : Out(16)
        Global settings for the slot controllers.
    irq : Out(1)
        OR over agents of EVENTS & IRQ_EN.
    freeze : In(1)
        While high, a write is held (not performed, not answered): the command sequencer
        freezes what its checks read for a few cycles.
    secure_only : Out(1)
        LOCK.secure_only: non-secure writes are refused.
    agent : Out(AgentRegsSignature()).array(agents)
        Per-agent register contents and status (ports ``agent<i>_*``).
    """

    def __init__(self, *, agents, config):
        if not isinstance(agents, int) or not 1 <= agents <= 16:
            raise ValueError(f"Agent count must be an integer from 1 to 16, not {agents!r}")
        last = regmap.AGENT_BASE + regmap.AGENT_STRIDE * agents
        if last > (1 << regmap.REG_ADDR_WIDTH):
            raise ValueError(f"{agents} agents do not fit the 12-bit register space")
        self._agents = agents
        self._config = config
        members = {
            "bus": In(AXI4LiteSignature(addr_width=regmap.REG_ADDR_WIDTH)),
            "debounce": Out(16), "blink": Out(16), "irq": Out(1),
            "freeze": In(1), "secure_only": Out(1),
        }
        members["agent"] = Out(AgentRegsSignature()).array(agents)
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        glob = self._global_storage(m)
        agents = [self._agent_storage(m, i) for i in range(self._agents)]
        irq_summary = self._interrupts(m, agents)

        self._read_channel(m, self._global_read_table(glob, irq_summary),
                           [self._agent_read_table(m, agent) for agent in agents])

        write = self._capture_write(m)
        self._decide_write(m, write, glob)
        self._write_response(m, write)
        self._write_global_registers(m, write, glob)
        for agent in agents:
            self._write_agent_registers(m, write, agent)
        return m

    def _global_storage(self, m):
        """DEBOUNCE, BLINK and LOCK, driving their outputs."""
        glob = _GlobalRegisters()
        m.d.comb += [self.debounce.eq(glob.debounce), self.blink.eq(glob.blink),
                     self.secure_only.eq(glob.lock)]
        return glob

    def _agent_storage(self, m, index):
        """Agent ``index``'s stored registers, driving the contents of its port."""
        agent = _AgentRegisters(index, self.agent[index])
        port, stored = agent.port, agent.stored
        slot_ctrl = regmap.agent_reg("SLOT_CTRL")
        m.d.comb += [
            port.base.eq(stored["BASE"]), port.size.eq(stored["SIZE"]),
            port.sweep_start.eq(stored["SWEEP_START"]),
            port.sweep_count.eq(stored["SWEEP_COUNT"]),
            port.throttle.eq(stored["THROTTLE"]),
            port.power_en.eq(_field(stored["SLOT_CTRL"], slot_ctrl.power_en)),
            port.power_led.eq(_field(stored["SLOT_CTRL"], slot_ctrl.power_led)),
            port.attn_led.eq(_field(stored["SLOT_CTRL"], slot_ctrl.attn_led)),
            port.irq_en.eq(stored["IRQ_EN"]), port.events.eq(stored["EVENTS"]),
            port.ras_ctrl.eq(stored["RAS_CTRL"]),
        ]
        return agent

    def _interrupts(self, m, agents):
        """``irq`` and IRQ_SUMMARY: bit ``i`` is agent ``i``'s EVENTS & IRQ_EN, non-zero."""
        summary = Signal(16, name="irq_summary")
        for agent in agents:
            m.d.comb += summary[agent.index].eq(
                (agent.stored["EVENTS"] & agent.stored["IRQ_EN"]).any())
        m.d.comb += self.irq.eq(summary.any())
        return summary

    def _global_read_table(self, glob, irq_summary):
        """The global block's readable registers: ``{offset: value}``."""
        gr = regmap.global_reg
        return {
            gr("ID").offset: Const(regmap.ID_VALUE, 32),
            gr("CONFIG").offset: Const(self._config, 32),
            gr("DEBOUNCE").offset: glob.debounce,
            gr("BLINK").offset: glob.blink,
            gr("IRQ_SUMMARY").offset: irq_summary,
            gr("LOCK").offset: glob.lock,
        }

    def _agent_read_table(self, m, agent):
        """An agent block's readable registers, ``{offset within the block: value}``.

        STATUS is read from a register copy, every field of it a cycle old together, which
        keeps the controller's 32-bit ``swept`` compare off the read path. A read issued
        after a CMD write's B handshake still sees the command's effect: the core updates
        STATUS in the cycle BVALID rises, and the copy has caught up by the AR handshake.
        """
        i, port, stored = agent.index, agent.port, agent.stored
        ar = regmap.agent_reg
        status = Signal(32, name=f"a{i}_status")
        m.d.sync += status.eq(_pack(m, ar("STATUS"), {
            "mode": port.mode, "busy": port.busy, "swept": port.swept, "peer": port.peer,
            "err": port.err, "present": port.present, "power_good": port.power_good},
            name=f"a{i}_status_value"))
        return {
            ar("STATUS").offset: status, ar("CMD").offset: Const(0, 32),
            ar("BASE").offset: stored["BASE"], ar("SIZE").offset: stored["SIZE"],
            ar("CAPACITY").offset: port.capacity,
            ar("SWEEP_START").offset: stored["SWEEP_START"],
            ar("SWEEP_COUNT").offset: stored["SWEEP_COUNT"],
            ar("SWEPT_UPTO").offset: port.swept_upto,
            ar("THROTTLE").offset: stored["THROTTLE"], ar("ERR_ADDR").offset: port.err_addr,
            ar("SLOT_CTRL").offset: stored["SLOT_CTRL"], ar("EVENTS").offset: stored["EVENTS"],
            ar("IRQ_EN").offset: stored["IRQ_EN"],
            ar("CE_COUNT").offset: stored["CE_COUNT"], ar("UE_COUNT").offset: stored["UE_COUNT"],
            ar("RAS_CTRL").offset: stored["RAS_CTRL"],
        }

    def _read_channel(self, m, global_table, agent_tables):
        """AR, R: the two-stage read of the tables' registers.

        In the AR handshake cycle each block (the global one and each agent's) selects its
        register by the offset into a register of its own (``rd_word<k>``), with whether it
        holds the addressed one (``rd_hit<k>``); the next cycle picks the block that does,
        into RDATA (SLVERR if none), and raises RVALID. Both stages sample every cycle, so
        only RDATA has an enable. ARREADY is low while a read is in either stage or in R.
        """
        bus = self.bus
        r_pick = Signal(name="r_pick")     # stage 1 holds the words of the accepted AR
        r_valid = Signal(name="r_valid")
        r_data = Signal(32, name="r_data")
        r_resp = Signal(2, name="r_resp")
        m.d.comb += [bus.arready.eq(~r_pick & ~r_valid), bus.rvalid.eq(r_valid),
                     bus.rdata.eq(r_data), bus.rresp.eq(r_resp)]
        with m.If(r_valid & bus.rready):
            m.d.sync += r_valid.eq(0)
        m.d.sync += r_pick.eq(bus.arvalid & bus.arready)

        addr = _word_address(bus.araddr)
        is_global, idx, off = _decode(m, addr, name="ar")
        # per block: its registers, the address bits that select one, whether it is addressed
        blocks = [(global_table, addr, is_global)]
        blocks += [(table, off, ~is_global & (idx == i)) for i, table in enumerate(agent_tables)]
        words = []
        for k, (table, key, addressed) in enumerate(blocks):
            word = Signal(32, name=f"rd_word{k}")
            hit = Signal(name=f"rd_hit{k}")
            m.d.sync += [word.eq(0), hit.eq(0)]
            with m.Switch(key):
                for offset, value in table.items():
                    with m.Case(offset):
                        m.d.sync += [word.eq(value), hit.eq(addressed)]
            words.append((word, hit))
        with m.If(r_pick):
            m.d.sync += [r_valid.eq(1), r_data.eq(0), r_resp.eq(Resp.SLVERR)]
            for word, hit in words:
                with m.If(hit):
                    m.d.sync += [r_data.eq(word), r_resp.eq(Resp.OKAY)]

    def _capture_write(self, m):
        """AW and W into holding registers; each is accepted while its holding register
        is empty and no B response waits. The address is decoded and the value's fit
        checked as they arrive, into registers of :class:`_Write`."""
        bus = self.bus
        write = _Write(self._agents)
        m.d.comb += [bus.awready.eq(~write.aw_full & ~write.b_valid),
                     bus.wready.eq(~write.w_full & ~write.b_valid)]
        with m.If(bus.awvalid & bus.awready):
            addr = _word_address(bus.awaddr)
            is_global, idx, off = _decode(m, addr, name="aw")
            m.d.sync += [write.aw_full.eq(1), write.addr.eq(bus.awaddr),
                         write.is_global.eq(is_global),
                         write.is_agent.eq(~is_global & (idx < self._agents)),
                         write.agent.eq(idx), write.offset.eq(off),
                         write.nonsecure.eq(bus.awprot[1]),
                         write.to_lock.eq(is_global &
                                          (addr == regmap.global_reg("LOCK").offset))]
        with m.If(bus.wvalid & bus.wready):
            # A stored value always fits its field, so whether a merged value fits depends
            # on the written bytes alone.
            written = bus.wdata & _byte_mask(bus.wstrb)
            slot_ctrl = regmap.agent_reg("SLOT_CTRL")
            bad_led = bus.wstrb[0] & ((_field(written, slot_ctrl.power_led) == 3) |
                                      (_field(written, slot_ctrl.attn_led) == 3))
            m.d.sync += [write.w_full.eq(1), write.data.eq(bus.wdata),
                         write.strb.eq(bus.wstrb),
                         write.slot_ok.eq(((written & ~slot_ctrl.writable_mask) == 0) &
                                          ~bad_led)]
            m.d.sync += [fits.eq((written >> width) == 0)
                         for width, fits in write.fits.items()]
        return write

    def _decide_write(self, m, write, glob):
        """When the held write is answered (``do_write``) and whether it is performed
        (``perform``): not while ``freeze`` holds it, and never when refused as
        non-secure (SPEC section 8).

        Every write enable, command pulse and event clear is qualified by ``perform``, so
        none of them can fire for a refused write."""
        m.d.comb += [
            write.do_write.eq(write.aw_full & write.w_full & ~self.freeze),
            write.refused.eq(write.nonsecure & (glob.lock | write.to_lock)),
            write.perform.eq(write.do_write & ~write.refused),
            write.bytemask.eq(_byte_mask(write.strb)),
            write.word_addr.eq(_word_address(write.addr)),
        ]

    def _write_response(self, m, write):
        """B: OKAY when the addressed register accepted the write and it was not refused,
        else SLVERR; answering frees both holding registers."""
        bus = self.bus
        m.d.comb += [bus.bvalid.eq(write.b_valid), bus.bresp.eq(write.b_resp)]
        with m.If(write.b_valid & bus.bready):
            m.d.sync += write.b_valid.eq(0)
        with m.If(write.do_write):
            m.d.sync += [write.aw_full.eq(0), write.w_full.eq(0), write.b_valid.eq(1),
                         write.b_resp.eq(Mux(write.ok & ~write.refused,
                                             Resp.OKAY, Resp.SLVERR))]

    def _write_global_registers(self, m, write, glob):
        """DEBOUNCE, BLINK (RW) and LOCK (RW1S: a 1 sets it, a 0 leaves it; only ``rst``
        clears it)."""
        gr = regmap.global_reg
        with m.If(write.is_global):
            for reg, stored in ((gr("DEBOUNCE"), glob.debounce), (gr("BLINK"), glob.blink)):
                with m.If(write.word_addr == reg.offset):
                    with m.If(write.accept(m, write.fits[_width(reg)])):
                        m.d.sync += stored.eq(write.merge(stored))
            lock = gr("LOCK")
            with m.If(write.word_addr == lock.offset):
                with m.If(write.accept(m, write.fits[_width(lock)])):
                    m.d.sync += glob.lock.eq(glob.lock | write.written[0])

    def _write_agent_registers(self, m, write, agent):
        """One agent's block: its RW registers, EVENTS (RW1C), the CMD and power-refused
        pulses, and the core's updates of EVENTS, BASE and SIZE.

        A write to BASE or SIZE is refused while the agent owns a range. A SLOT_CTRL write
        that would clear ``power_en`` while ``power_protect`` holds keeps it set and pulses
        ``power_refused``; the write still answers OKAY.
        """
        i, port, stored = agent.index, agent.port, agent.stored
        ar = regmap.agent_reg
        slot_ctrl, cmd = ar("SLOT_CTRL"), ar("CMD")
        clear = Signal(_width(ar("EVENTS")), name=f"a{i}_events_clear")
        counted = {name: Signal(32, name=f"a{i}_{name.lower()}_base")
                   for name in ("CE_COUNT", "UE_COUNT")}
        m.d.comb += [counted[name].eq(stored[name]) for name in counted]
        power_refused = Signal(name=f"a{i}_power_refused")
        cmd_valid = Signal(name=f"a{i}_cmd_valid")
        m.d.comb += [port.power_refused.eq(power_refused), port.cmd_valid.eq(cmd_valid)]
        with m.If(write.is_agent & (write.agent == i)):
            with m.Switch(write.offset):
                for name in ("BASE", "SIZE"):
                    with m.Case(ar(name).offset):
                        with m.If(write.accept(m, ~port.range_lock)):
                            m.d.sync += stored[name].eq(write.merge(stored[name]))
                for name in ("SWEEP_START", "SWEEP_COUNT"):
                    with m.Case(ar(name).offset):
                        with m.If(write.accept(m, 1)):
                            m.d.sync += stored[name].eq(write.merge(stored[name]))
                for name in ("THROTTLE", "IRQ_EN", "RAS_CTRL"):
                    with m.Case(ar(name).offset):
                        with m.If(write.accept(m, write.fits[_width(ar(name))])):
                            m.d.sync += stored[name].eq(write.merge(stored[name]))
                for name in counted:
                    with m.Case(ar(name).offset):
                        with m.If(write.accept(m, 1)):
                            m.d.comb += counted[name].eq(write.merge(stored[name]))
                with m.Case(ar("EVENTS").offset):
                    with m.If(write.accept(m, write.fits[_width(ar("EVENTS"))])):
                        m.d.comb += clear.eq(write.written)
                with m.Case(slot_ctrl.offset):
                    new = write.merge(stored["SLOT_CTRL"])
                    with m.If(write.accept(m, write.slot_ok)):
                        refuse = port.power_protect & ~new[slot_ctrl.power_en.lsb]
                        m.d.sync += stored["SLOT_CTRL"].eq(new | (refuse << slot_ctrl.power_en.lsb))
                        m.d.comb += power_refused.eq(refuse)
                with m.Case(cmd.offset):
                    # CMD answers OKAY whatever it holds: the controller checks the command
                    m.d.comb += [
                        write.ok.eq(1),
                        port.cmd_opcode.eq(_field(write.written, cmd.opcode)),
                        port.cmd_peer.eq(_field(write.written, cmd.peer)),
                        cmd_valid.eq(write.perform),
                    ]
        # A count in the cycle firmware writes a counter adds to the written value, so no
        # error goes uncounted; counts saturate.
        for name, inc in (("CE_COUNT", port.ce_inc), ("UE_COUNT", port.ue_inc)):
            total = Signal(34, name=f"a{i}_{name.lower()}_next")
            m.d.comb += total.eq(counted[name] + inc)
            m.d.sync += stored[name].eq(Mux(total[32:].any(), 0xFFFF_FFFF, total[:32]))
        # Hardware sets win over a simultaneous software clear, so no event is lost.
        m.d.sync += stored["EVENTS"].eq((stored["EVENTS"] & ~clear) | port.event_set)
        # The core writes the range only while ``freeze`` holds every software write.
        with m.If(port.range_we):
            m.d.sync += [stored["BASE"].eq(port.range_base),
                         stored["SIZE"].eq(port.range_size)]


class _GlobalRegisters:
    """The stored global registers."""

    def __init__(self):
        gr = regmap.global_reg
        self.debounce = Signal(16, name="g_debounce", init=gr("DEBOUNCE").reset)
        self.blink = Signal(16, name="g_blink", init=gr("BLINK").reset)
        self.lock = Signal(1, name="g_lock", init=gr("LOCK").reset)


class _AgentRegisters:
    """One agent's port and its stored registers, ``stored[name]`` by register name, each
    as wide as its fields reach."""

    STORED = ("BASE", "SIZE", "SWEEP_START", "SWEEP_COUNT", "THROTTLE", "SLOT_CTRL",
              "EVENTS", "IRQ_EN", "CE_COUNT", "UE_COUNT", "RAS_CTRL")

    def __init__(self, index, port):
        self.index, self.port = index, port
        self.stored = {name: Signal(_width(regmap.agent_reg(name)),
                                    name=f"a{index}_{name.lower()}")
                       for name in self.STORED}


class _Write:
    """The write in hand: AW and W as held, what was decoded and checked as they arrived,
    and the decision on it.

    The ``fits`` checks are registered from the byte-enabled bits of W, keyed by register
    width: ``fits[w]`` is true when no written bit at or above ``w`` is set.
    """

    FIT_WIDTHS = (16, 7, 2, 1)   # DEBOUNCE, BLINK, THROTTLE; EVENTS, IRQ_EN; RAS_CTRL; LOCK

    def __init__(self, agents):
        self.aw_full = Signal(name="aw_full")
        self.w_full = Signal(name="w_full")
        self.addr = Signal(regmap.REG_ADDR_WIDTH, name="aw_addr")
        self.data = Signal(32, name="w_data")
        self.strb = Signal(4, name="w_strb")
        self.b_valid = Signal(name="b_valid")
        self.b_resp = Signal(2, name="b_resp")
        # decoded from AW
        self.is_global = Signal(name="aw_global")
        self.is_agent = Signal(name="aw_agent")           # an existing agent's block
        self.agent = Signal(range(max(agents, 2)), name="aw_idx")
        self.offset = Signal(range(regmap.AGENT_STRIDE), name="aw_off")
        self.nonsecure = Signal(name="aw_nonsecure")      # awprot[1]
        self.to_lock = Signal(name="aw_lock")             # the address is LOCK's
        # checked from W
        self.fits = {width: Signal(name=f"w_fits{width}") for width in self.FIT_WIDTHS}
        self.slot_ok = Signal(name="w_slot_ok")           # a valid SLOT_CTRL value
        # the decision
        self.do_write = Signal(name="do_write")           # answered this cycle
        self.refused = Signal(name="refused")             # refused as non-secure
        self.perform = Signal(name="perform")             # answered and not refused
        # The addressed register accepts the value; B answers SLVERR otherwise.
        self.ok = Signal(name="ok")
        self.bytemask = Signal(32, name="bytemask")
        self.word_addr = Signal(regmap.REG_ADDR_WIDTH, name="w_addr")

    @property
    def written(self):
        """The written bytes, the others 0."""
        return self.data & self.bytemask

    def merge(self, old):
        """``old`` with the written bytes replaced."""
        return (old & ~self.bytemask) | self.written

    def accept(self, m, condition):
        """For the addressed register: it accepts the write when ``condition`` holds (this
        drives ``ok``). Returns its write enable.

        Each enable tests its own register's condition rather than ``ok``, the multiplexer
        of all of them, because the enables reach registers all over the chip."""
        m.d.comb += self.ok.eq(condition)
        return self.perform & condition


def _width(reg):
    """Bits stored for ``reg``: up to the top of its highest field."""
    return max(f.lsb + f.width for f in reg.fields)


def _field(value, field):
    """The bits of ``field`` (a :class:`mirrorswap.regmap.Field`) in ``value``."""
    return value[field.lsb:field.lsb + field.width]


def _byte_mask(strb):
    """A 32-bit mask with the bytes enabled by the 4-bit ``strb``."""
    return Cat(*[strb[k].replicate(8) for k in range(4)])


def _word_address(addr):
    """``addr`` with its two byte bits cleared."""
    return Cat(Const(0, 2), addr[2:])


def _decode(m, addr, *, name):
    """Splits the word address ``addr`` into (is_global, agent index, offset within the
    agent's block). The index is not checked against the agent count."""
    is_global = addr < regmap.AGENT_BASE
    rel = Signal(regmap.REG_ADDR_WIDTH, name=f"{name}_rel")
    m.d.comb += rel.eq(addr - regmap.AGENT_BASE)
    idx = rel >> (regmap.AGENT_STRIDE.bit_length() - 1)
    off = rel & (regmap.AGENT_STRIDE - 1)
    return is_global, idx, off


def _pack(m, reg, values, *, name):
    """A 32-bit word of ``reg``'s fields, each from ``values`` by field name."""
    word = Signal(32, name=name)
    for f in reg.fields:
        m.d.comb += _field(word, f).eq(values[f.name])
    return word
