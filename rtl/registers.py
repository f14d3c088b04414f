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
            "irq_en": Out(5), "events": Out(5),
            "cmd_valid": Out(1), "cmd_opcode": Out(4), "cmd_peer": Out(4),
            "power_refused": Out(1),
            # core-reported values
            "mode": In(3), "busy": In(1), "swept": In(1), "peer": In(4), "err": In(4),
            "present": In(1), "power_good": In(1), "capacity": In(32), "swept_upto": In(32),
            "err_addr": In(32), "event_set": In(5),
            # BASE/SIZE are locked while the agent owns a range (a write answers SLVERR) and
            # are written by the core when a mirror slave takes its master's range.
            "range_lock": In(1), "range_we": In(1), "range_base": In(32), "range_size": In(32),
            # SLOT_CTRL.power_en may not go 0 while the agent owns a range or is a slave.
            "power_protect": In(1),
        })


class ControlRegisters(wiring.Component):
    """AXI4-Lite subordinate holding the registers of SPEC section 3.

    One read and one write are handled at a time: a read is answered two cycles after its
    address arrives, a write one cycle after both its address and data. Offsets, fields,
    access types and resets all come from :mod:`mirrorswap.regmap`.

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

    Parameters
    ----------
    agents : int
        Number of home agents.
    config : int
        Value of the CONFIG register.

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
        bus = self.bus
        n = self._agents

        # ---- storage ---------------------------------------------------------------------
        g_debounce = Signal(16, init=regmap.global_reg("DEBOUNCE").reset)
        g_blink = Signal(16, init=regmap.global_reg("BLINK").reset)
        g_lock = Signal(1, init=regmap.global_reg("LOCK").reset)
        m.d.comb += [self.debounce.eq(g_debounce), self.blink.eq(g_blink),
                     self.secure_only.eq(g_lock)]

        store = []  # per agent: dict of stored RW values
        for i in range(n):
            a = self.agent[i]
            s = {
                "BASE": Signal(32, name=f"a{i}_base"), "SIZE": Signal(32, name=f"a{i}_size"),
                "SWEEP_START": Signal(32, name=f"a{i}_sweep_start"),
                "SWEEP_COUNT": Signal(32, name=f"a{i}_sweep_count"),
                "THROTTLE": Signal(16, name=f"a{i}_throttle"),
                "SLOT_CTRL": Signal(6, name=f"a{i}_slot_ctrl"),
                "EVENTS": Signal(5, name=f"a{i}_events"),
                "IRQ_EN": Signal(5, name=f"a{i}_irq_en"),
            }
            store.append(s)
            sc = regmap.agent_reg("SLOT_CTRL")
            m.d.comb += [
                a.base.eq(s["BASE"]), a.size.eq(s["SIZE"]),
                a.sweep_start.eq(s["SWEEP_START"]), a.sweep_count.eq(s["SWEEP_COUNT"]),
                a.throttle.eq(s["THROTTLE"]),
                a.power_en.eq(s["SLOT_CTRL"][sc.power_en.lsb]),
                a.power_led.eq(s["SLOT_CTRL"][sc.power_led.lsb:sc.power_led.lsb + 2]),
                a.attn_led.eq(s["SLOT_CTRL"][sc.attn_led.lsb:sc.attn_led.lsb + 2]),
                a.irq_en.eq(s["IRQ_EN"]), a.events.eq(s["EVENTS"]),
            ]

        # ---- read values -----------------------------------------------------------------
        def pack(reg, values):
            word = Signal(32, name=f"{reg.name.lower()}_value")
            for f in reg.fields:
                m.d.comb += word[f.lsb:f.lsb + f.width].eq(values[f.name])
            return word

        summary = Signal(16)
        for i in range(n):
            a = self.agent[i]
            m.d.comb += summary[i].eq((store[i]["EVENTS"] & store[i]["IRQ_EN"]).any())
        m.d.comb += self.irq.eq(summary.any())

        gr = regmap.global_reg
        global_read = {
            gr("ID").offset: Const(regmap.ID_VALUE, 32),
            gr("CONFIG").offset: Const(self._config, 32),
            gr("DEBOUNCE").offset: g_debounce,
            gr("BLINK").offset: g_blink,
            gr("IRQ_SUMMARY").offset: summary,
            gr("LOCK").offset: g_lock,
        }
        agent_read = []
        for i in range(n):
            a = self.agent[i]
            s = store[i]
            ar = regmap.agent_reg
            # STATUS is read from a register copy, every field of it a cycle old together
            # (timing: `swept` is a 32-bit compare in the controller). A manager sees a
            # CMD write's effect on it all the same: the write's B response leaves a cycle.
            status = Signal(32, name=f"a{i}_status")
            m.d.sync += status.eq(pack(ar("STATUS"), {
                "mode": a.mode, "busy": a.busy, "swept": a.swept, "peer": a.peer,
                "err": a.err, "present": a.present, "power_good": a.power_good}))
            agent_read.append({
                ar("STATUS").offset: status, ar("CMD").offset: Const(0, 32),
                ar("BASE").offset: s["BASE"], ar("SIZE").offset: s["SIZE"],
                ar("CAPACITY").offset: a.capacity,
                ar("SWEEP_START").offset: s["SWEEP_START"],
                ar("SWEEP_COUNT").offset: s["SWEEP_COUNT"],
                ar("SWEPT_UPTO").offset: a.swept_upto,
                ar("THROTTLE").offset: s["THROTTLE"], ar("ERR_ADDR").offset: a.err_addr,
                ar("SLOT_CTRL").offset: s["SLOT_CTRL"], ar("EVENTS").offset: s["EVENTS"],
                ar("IRQ_EN").offset: s["IRQ_EN"],
            })

        def decode(addr):
            """(is_global, agent index, offset within block, agent block valid)."""
            is_global = addr < regmap.AGENT_BASE
            rel = Signal(12)
            m.d.comb += rel.eq(addr - regmap.AGENT_BASE)
            idx = rel >> (regmap.AGENT_STRIDE.bit_length() - 1)
            off = rel & (regmap.AGENT_STRIDE - 1)
            return is_global, idx, off

        # ---- read channel ----------------------------------------------------------------
        # Two stages, so that no path runs from every register of every agent, spread over
        # the chip, through one multiplexer into RDATA. In the AR handshake cycle each agent's block and
        # the global block select their register by the offset, into registers; the next
        # cycle picks the block and raises RVALID. Both stages sample every cycle, so only
        # the RDATA register has an enable.
        r_pick = Signal()          # stage 1 holds the words of the accepted AR
        r_valid = Signal()
        r_data = Signal(32)
        r_resp = Signal(2)
        m.d.comb += [bus.arready.eq(~r_pick & ~r_valid), bus.rvalid.eq(r_valid),
                     bus.rdata.eq(r_data), bus.rresp.eq(r_resp)]
        with m.If(r_valid & bus.rready):
            m.d.sync += r_valid.eq(0)
        m.d.sync += r_pick.eq(bus.arvalid & bus.arready)

        addr = Cat(Const(0, 2), bus.araddr[2:])
        is_global, idx, off = decode(addr)
        # per block: its registers, the address bits that select one, whether it is addressed
        blocks = [(global_read, addr, is_global)]
        blocks += [(agent_read[i], off, ~is_global & (idx == i)) for i in range(n)]
        words = []
        for k, (table, key, addressed) in enumerate(blocks):
            word = Signal(32, name=f"rd_word{k}")
            hit = Signal(name=f"rd_hit{k}")     # this block holds the addressed register
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

        # ---- write channel ---------------------------------------------------------------
        aw_full = Signal()
        w_full = Signal()
        aw_addr = Signal(12)
        w_data = Signal(32)
        w_strb = Signal(4)
        b_valid = Signal()
        b_resp = Signal(2)
        m.d.comb += [
            bus.awready.eq(~aw_full & ~b_valid), bus.wready.eq(~w_full & ~b_valid),
            bus.bvalid.eq(b_valid), bus.bresp.eq(b_resp),
        ]
        # Timing: the address is decoded, and the value's range checked, as they arrive, so
        # that the write itself is a short path. A stored value always fits its field, so
        # whether a merged value fits depends on the written bytes alone.
        aw_global = Signal()
        aw_agent = Signal()      # an existing agent's block
        aw_idx = Signal(range(max(n, 2)))
        aw_off = Signal(range(regmap.AGENT_STRIDE))
        aw_nonsecure = Signal()
        aw_lock = Signal()       # the address is LOCK's
        w_fits16 = Signal()
        w_fits5 = Signal()
        w_fits1 = Signal()
        w_slot_ok = Signal()
        sc = regmap.agent_reg("SLOT_CTRL")
        with m.If(bus.awvalid & bus.awready):
            is_global, idx, off = decode(Cat(Const(0, 2), bus.awaddr[2:]))
            m.d.sync += [aw_full.eq(1), aw_addr.eq(bus.awaddr), aw_global.eq(is_global),
                         aw_agent.eq(~is_global & (idx < n)), aw_idx.eq(idx), aw_off.eq(off),
                         aw_nonsecure.eq(bus.awprot[1]),
                         aw_lock.eq(is_global & (Cat(Const(0, 2), bus.awaddr[2:]) ==
                                                 gr("LOCK").offset))]
        with m.If(bus.wvalid & bus.wready):
            written = bus.wdata & Cat(*[bus.wstrb[k].replicate(8) for k in range(4)])
            leds = [written[f.lsb:f.lsb + 2] for f in (sc.power_led, sc.attn_led)]
            m.d.sync += [w_full.eq(1), w_data.eq(bus.wdata), w_strb.eq(bus.wstrb),
                         w_fits16.eq((written >> 16) == 0), w_fits5.eq((written >> 5) == 0),
                         w_fits1.eq((written >> 1) == 0),
                         w_slot_ok.eq(((written & ~sc.writable_mask) == 0) &
                                      ~(bus.wstrb[0] & ((leds[0] == 3) | (leds[1] == 3))))]
        with m.If(b_valid & bus.bready):
            m.d.sync += b_valid.eq(0)

        do_write = Signal()      # the write is answered this cycle
        m.d.comb += do_write.eq(aw_full & w_full & ~self.freeze)
        # SPEC section 8: a refused non-secure write is answered SLVERR and performs
        # nothing. Every write enable, command pulse and event clear below is qualified by
        # ``perform``, so none of them can fire for it.
        refused = Signal()
        perform = Signal()
        m.d.comb += [refused.eq(aw_nonsecure & (g_lock | aw_lock)),
                     perform.eq(do_write & ~refused)]
        bytemask = Signal(32)
        m.d.comb += bytemask.eq(Cat(*[w_strb[k].replicate(8) for k in range(4)]))

        def merge(old):
            return (old & ~bytemask) | (w_data & bytemask)

        # the addressed register accepts the value (else SLVERR, nothing changes). Each
        # register's enable tests its own condition (``accepted``) rather than ``ok``, the
        # multiplexer of all of them (timing: the enables reach registers all over the chip).
        ok = Signal()
        with m.If(do_write):
            m.d.sync += [aw_full.eq(0), w_full.eq(0), b_valid.eq(1),
                         b_resp.eq(Mux(ok & ~refused, Resp.OKAY, Resp.SLVERR))]

        def accepted(cond):
            """The addressed register's condition: sets ``ok``; its write enable."""
            m.d.comb += ok.eq(cond)
            return perform & cond

        w_addr = Signal(12)
        m.d.comb += w_addr.eq(Cat(Const(0, 2), aw_addr[2:]))
        is_global, w_idx, w_off = aw_global, aw_idx, aw_off

        # global writes
        with m.If(is_global):
            for reg, sig in ((gr("DEBOUNCE"), g_debounce), (gr("BLINK"), g_blink)):
                with m.If(w_addr == reg.offset):
                    new = merge(sig)
                    with m.If(accepted(w_fits16)):
                        m.d.sync += sig.eq(new)
            # RW1S: a 1 sets it, a 0 leaves it; only rst clears it
            with m.If(w_addr == gr("LOCK").offset):
                with m.If(accepted(w_fits1)):
                    m.d.sync += g_lock.eq(g_lock | (w_data & bytemask)[0])

        ar = regmap.agent_reg
        sc = ar("SLOT_CTRL")
        cmd = ar("CMD")
        for i in range(n):
            a = self.agent[i]
            s = store[i]
            sel = aw_agent & (w_idx == i)
            clear = Signal(5, name=f"a{i}_events_clear")
            power_refused = Signal(name=f"a{i}_power_refused")
            cmd_valid = Signal(name=f"a{i}_cmd_valid")
            m.d.comb += [a.power_refused.eq(power_refused), a.cmd_valid.eq(cmd_valid)]
            with m.If(sel):
                with m.Switch(w_off):
                    for name in ("BASE", "SIZE"):
                        with m.Case(ar(name).offset):
                            with m.If(accepted(~a.range_lock)):
                                m.d.sync += s[name].eq(merge(s[name]))
                    for name in ("SWEEP_START", "SWEEP_COUNT"):
                        with m.Case(ar(name).offset):
                            m.d.comb += ok.eq(1)
                            with m.If(perform):
                                m.d.sync += s[name].eq(merge(s[name]))
                    with m.Case(ar("THROTTLE").offset):
                        new = merge(s["THROTTLE"])
                        with m.If(accepted(w_fits16)):
                            m.d.sync += s["THROTTLE"].eq(new)
                    with m.Case(ar("IRQ_EN").offset):
                        new = merge(s["IRQ_EN"])
                        with m.If(accepted(w_fits5)):
                            m.d.sync += s["IRQ_EN"].eq(new)
                    with m.Case(ar("EVENTS").offset):
                        new = w_data & bytemask
                        with m.If(accepted(w_fits5)):
                            m.d.comb += clear.eq(new)
                    with m.Case(sc.offset):
                        new = merge(s["SLOT_CTRL"])
                        with m.If(accepted(w_slot_ok)):
                            refuse = a.power_protect & ~new[sc.power_en.lsb]
                            m.d.sync += s["SLOT_CTRL"].eq(new | refuse)
                            m.d.comb += power_refused.eq(refuse)
                    with m.Case(cmd.offset):
                        new = w_data & bytemask
                        m.d.comb += [
                            ok.eq(1),
                            a.cmd_opcode.eq(new[cmd.opcode.lsb:cmd.opcode.lsb + cmd.opcode.width]),
                            a.cmd_peer.eq(new[cmd.peer.lsb:cmd.peer.lsb + cmd.peer.width]),
                        ]
                        m.d.comb += cmd_valid.eq(perform)
            # events: hardware sets win over a simultaneous software clear
            m.d.sync += s["EVENTS"].eq((s["EVENTS"] & ~clear) | a.event_set)
            with m.If(a.range_we):
                m.d.sync += [s["BASE"].eq(a.range_base), s["SIZE"].eq(a.range_size)]

        return m

