"""The mirrorswap top level (SPEC section 1)."""

from amaranth.hdl import Module, Signal, Mux
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out, connect

from mirrorswap import regmap
from .controller import MirrorController
from .axi_slice import slice_between
from .home_agent import HomeAgent
from .host_port import HostReadEngine, HostWriteEngine
from .registers import ControlRegisters
from .signatures import AXI4Signature, AXI4LiteSignature, SlotSignature, claim_bits
from .slot import SlotController
from .sweep import SweepEngine

__all__ = ["MirrorswapTop"]

_W_PORT = ("awaddr", "awlen", "awsize", "awburst", "awlock", "awcache", "awprot", "awqos",
           "awvalid", "wdata", "wstrb", "wlast", "wvalid", "bready")
_W_BACK = ("awready", "wready", "bresp", "bvalid")


class MirrorswapTop(wiring.Component):
    """Memory hot-swap without the OS: home agents, mirror pairs, sweep and release.

    ::

        s_axi ──► HostWriteEngine ──┬─────────► HomeAgent i ──► m_axi_mem<i>
                  HostReadEngine ───┘  (mirror     ▲  ▲
                       ▲               forwarding) │  └── SweepEngine of i's master (writes)
                  AddressDecoder                   └───── SweepEngine i (reads)
        s_axil ─► ControlRegisters ◄──► MirrorController ──► routes, hold, sweep control
        slot<i> ◄► SlotController i (debounce, LEDs, power, events) ──► irq

    Parameters
    ----------
    agents : int
        Home agents (memory slots), 1 to 16.
    addr_width : int
        Host byte address width.
    id_width : int
        AXI ID width of the host port and the memory ports.
    max_capacity_log2 : int
        log2 of the largest module, in lines.
    sweep_burst, sweep_depth : int
        Lines per sweep burst and lines of sweep buffer (see :class:`SweepEngine`).
    hazard_check : bool
        Only for tests: ``False`` builds the deliberately broken variant whose sweep does
        not wait for host writes to the lines it copies.
    """

    def __init__(self, *, agents=4, addr_width=32, id_width=4, max_capacity_log2=16,
                 sweep_burst=32, sweep_depth=128, hazard_check=True):
        if not isinstance(agents, int) or not 1 <= agents <= 16:
            raise ValueError(f"Agent count must be an integer from 1 to 16, not {agents!r}")
        if not isinstance(addr_width, int) or not 16 <= addr_width <= 32:
            raise ValueError(f"Address width must be an integer from 16 to 32, "
                             f"not {addr_width!r}")
        if not isinstance(id_width, int) or not 2 <= id_width <= 16:
            raise ValueError(f"ID width must be an integer from 2 to 16, not {id_width!r}")
        if (not isinstance(max_capacity_log2, int) or
                not 9 <= max_capacity_log2 <= min(28, addr_width - 3)):
            raise ValueError(f"Maximum capacity must be 2^9 to 2^{min(28, addr_width - 3)} "
                             f"lines, not 2^{max_capacity_log2!r}")
        self.agents = agents
        self.addr_width = addr_width
        self.id_width = id_width
        self.max_capacity_log2 = max_capacity_log2
        self._sweep_burst = sweep_burst
        self._sweep_depth = sweep_depth
        self._hazard_check = hazard_check
        members = {
            "s_axi": In(AXI4Signature(addr_width=addr_width, data_width=64,
                                      id_width=id_width)),
            "s_axil": In(AXI4LiteSignature(addr_width=regmap.REG_ADDR_WIDTH)),
        }
        for i in range(agents):
            members[f"m_axi_mem{i}"] = Out(AXI4Signature(addr_width=32, data_width=64,
                                                         id_width=id_width))
        for i in range(agents):
            members[f"slot{i}"] = Out(SlotSignature())
        members["irq"] = Out(1)
        super().__init__(members)

    @property
    def config_value(self):
        cfg = regmap.global_reg("CONFIG")
        value = cfg.agents.put(0, self.agents)
        value = cfg.line_bytes.put(value, regmap.LINE_BYTES)
        return cfg.max_capacity_log2.put(value, self.max_capacity_log2)

    def elaborate(self, platform):
        m = Module()
        n = self.agents
        axi = dict(addr_width=32, data_width=64, id_width=self.id_width)

        m.submodules.regs = regs = ControlRegisters(agents=n, config=self.config_value)
        m.submodules.ctrl = ctrl = MirrorController(
            agents=n, max_capacity_log2=self.max_capacity_log2,
            line_addr_width=self.addr_width - 3)
        cb = claim_bits(self.max_capacity_log2, self._sweep_burst)
        m.submodules.wr = wr = HostWriteEngine(agents=n, addr_width=self.addr_width,
                                               id_width=self.id_width,
                                               hazard_check=self._hazard_check,
                                               claim_bits=cb)
        m.submodules.rd = rd = HostReadEngine(agents=n, addr_width=self.addr_width,
                                              id_width=self.id_width)
        has = [HomeAgent(**axi) for _ in range(n)]
        sweeps = [SweepEngine(agent=i, burst=self._sweep_burst, depth=self._sweep_depth,
                              hazard_check=self._hazard_check, claim_bits=cb, **axi)
                  for i in range(n)]
        slots = [SlotController() for _ in range(n)]
        for i in range(n):
            m.submodules[f"ha{i}"] = has[i]
            m.submodules[f"sweep{i}"] = sweeps[i]
            m.submodules[f"slot{i}"] = slots[i]

        # host port: AXI4 split into its write and read halves
        for name, member in self.s_axi.signature.members.items():
            engine = wr.s if name.startswith(("aw", "w", "b")) else rd.s
            if member.flow == In:   # flows as seen from this top: In = driven by the host
                m.d.comb += getattr(engine, name).eq(getattr(self.s_axi, name))
            else:
                m.d.comb += getattr(self.s_axi, name).eq(getattr(engine, name))

        connect(m, regs=regs.bus, host=wiring.flipped(self.s_axil))
        m.d.comb += [
            self.irq.eq(regs.irq),
            wr.routes.eq(ctrl.routes), rd.routes.eq(ctrl.routes),
            wr.hold.eq(ctrl.hold), rd.hold.eq(ctrl.hold),
            ctrl.quiet.eq(wr.idle & rd.idle),
            regs.freeze.eq(ctrl.freeze),
        ]
        connect(m, wr=wr.fwd_err, ctrl=ctrl.fwd_err)
        connect(m, wr=wr.wr_err, ctrl=ctrl.wr_err)
        connect(m, rd=rd.rd_err, ctrl=ctrl.rd_err)

        for i in range(n):
            r = regs.agent(i)
            ha = has[i]
            sw = sweeps[i]
            slot = slots[i]
            connect(m, regs=r, ctrl=getattr(ctrl, f"regs{i}"))
            connect(m, ctrl=getattr(ctrl, f"sweep{i}"), sweep=sw.ctrl)
            connect(m, ha=ha.mem, pins=wiring.flipped(getattr(self, f"m_axi_mem{i}")))
            # Every request and response between an agent and its sources passes a
            # register slice: agents, engines and the sweep sit far apart on a chip, and
            # their handshakes would otherwise chain through several blocks in one cycle.
            slice_between(m, f"ha{i}_host_rd", getattr(rd, f"mem{i}"), ha.host_rd)
            slice_between(m, f"ha{i}_host_wr", getattr(wr, f"mem{i}"), ha.host_wr)
            slice_between(m, f"ha{i}_sweep_rd", sw.rd, ha.sweep_rd)
            connect(m, sweep=sw.claim, wr=getattr(wr, f"sweep_claim{i}"))
            connect(m, wr=wr.claim, sweep=sw.host)
            connect(m, slot=slot.pins, pins=wiring.flipped(getattr(self, f"slot{i}")))
            m.d.comb += [
                sw.throttle.eq(r.throttle),
                slot.power_en.eq(r.power_en), slot.power_led.eq(r.power_led),
                slot.attn_led.eq(r.attn_led),
                slot.debounce.eq(regs.debounce), slot.blink.eq(regs.blink),
                ctrl.slots[i].present.eq(slot.present),
                ctrl.slots[i].power_good.eq(slot.power_good),
                ctrl.slots[i].capacity_log2.eq(slot.capacity_log2),
                ctrl.ext_events[i].eq(slot.events),
                ha.alive.eq(slot.present & slot.power_good),
            ]

        # A sweep engine writes to its master's peer: home agent j takes the writes of the
        # running sweep whose peer is j (at most one: a slave has one master). The choice
        # is registered (timing); it lags a sweep's start by a cycle, long before the
        # sweep's first write, and a sweep is done only once its writes are answered.
        # Each sweep's write port has a slice of its own too, before the routing: the
        # sweep's W ready then comes from a flip-flop next to it rather than through the
        # routing multiplexer, which fed its write-side state machine (the critical path).
        sweep_wr = [slice_between(m, f"sweep{i}_wr", sweeps[i].wr, None,
                                  channels=("aw", "w", "b")).m for i in range(n)]
        to = [[Signal(name=f"sweep{i}_to_{j}") for j in range(n)] for i in range(n)]
        for j in range(n):
            port = slice_between(m, f"ha{j}_sweep_wr", None, has[j].sweep_wr).s
            # one flag per (sweep, agent) pair, registered: the routing is then an AND-OR of
            # flip-flops (timing: a registered index compared in every multiplexer bit was
            # the critical path); the lowest-numbered sweep wins, as a guard only
            taken = 0
            for i in range(n):
                wants = (ctrl.routes[i].peer == j) & sweeps[i].claim.active
                m.d.sync += to[i][j].eq(wants & ~taken)
                taken = taken | wants
            for name in _W_PORT:
                value = 0
                for i in range(n):
                    value = value | Mux(to[i][j], getattr(sweep_wr[i], name), 0)
                m.d.comb += getattr(port, name).eq(value)
            for i in range(n):
                for name in _W_BACK:
                    with m.If(to[i][j]):
                        m.d.comb += getattr(sweep_wr[i], name).eq(getattr(port, name))
        return m
