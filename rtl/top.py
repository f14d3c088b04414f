"""The mirrorswap top level (SPEC section 1)."""

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out, connect

from mirrorswap import regmap
from mirrorswap.geometry import Geometry
from .controller import MirrorController
from .axi_slice import slice_between
from .home_agent import HomeAgent
from .host_read import HostReadEngine
from .host_write import HostWriteEngine
from .registers import ControlRegisters
from .signatures import AXI4Signature, AXI4LiteSignature, SlotSignature, claim_bits
from .slot import SlotController
from .sweep import SweepEngine
from .sweep_router import SweepWriteRouter

__all__ = ["MirrorswapTop", "connect_control", "connect_data_path"]


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
    data_width : int
        Data bits of the host and memory ports, 64, 128, 256 or 512: one line is one beat
        (:class:`mirrorswap.geometry.Geometry`).
    addr_width : int
        Byte address width of the host port and the memory ports, 16 to 32 + log2 of the
        line bytes (line numbers fit the 32-bit registers).
    id_width : int
        AXI ID width of the host port and the memory ports.
    max_capacity_log2 : int
        log2 of the largest module, in lines: 9 to 31, and the module's bytes must fit
        ``addr_width``.
    sweep_burst, sweep_depth : int
        Lines per sweep burst and lines of sweep buffer (see :class:`SweepEngine`).
    hazard_check : bool
        Only for tests: ``False`` builds the deliberately broken variant whose sweep does
        not wait for host writes to the lines it copies.

    Members
    -------
    s_axi : In(AXI4Signature(addr_width=addr_width, data_width=data_width, id_width=id_width))
        The host port.
    s_axil : In(AXI4LiteSignature(addr_width=12))
        The register port.
    m_axi_mem : Out(AXI4Signature(addr_width, data_width, id_width, user=True)).array(agents)
        Memory controller port of each agent (Verilog ``m_axi_mem<i>_*``), module-local
        byte addresses; ``wuser`` / ``ruser`` carry poison (SPEC section 7).
    slot : Out(SlotSignature()).array(agents)
        Pins of each memory slot (Verilog ``slot<i>_*``).
    irq : Out(1)
        Any agent has an enabled event pending.
    """

    def __init__(self, *, agents=4, data_width=64, addr_width=32, id_width=4,
                 max_capacity_log2=16, sweep_burst=32, sweep_depth=128, hazard_check=True):
        if not isinstance(agents, int) or not 1 <= agents <= 16:
            raise ValueError(f"Agent count must be an integer from 1 to 16, not {agents!r}")
        self.geometry = Geometry(data_width)          # checks ``data_width``
        shift = self.geometry.line_shift
        widest = self.geometry.max_addr_width
        if not isinstance(addr_width, int) or not 16 <= addr_width <= widest:
            raise ValueError(f"Address width must be an integer from 16 to {widest} at "
                             f"{data_width}-bit data, not {addr_width!r}")
        if not isinstance(id_width, int) or not 2 <= id_width <= 16:
            raise ValueError(f"ID width must be an integer from 2 to 16, not {id_width!r}")
        largest = min(31, addr_width - shift)
        if (not isinstance(max_capacity_log2, int) or
                not 9 <= max_capacity_log2 <= largest):
            raise ValueError(f"Maximum capacity must be 2^9 to 2^{largest} lines at "
                             f"{addr_width}-bit addresses and {data_width}-bit data, "
                             f"not 2^{max_capacity_log2!r}")
        self.data_width = data_width
        self.agents = agents
        self.addr_width = addr_width
        self.id_width = id_width
        self.max_capacity_log2 = max_capacity_log2
        self._sweep_burst = sweep_burst
        self._sweep_depth = sweep_depth
        self._hazard_check = hazard_check
        members = {
            "s_axi": In(AXI4Signature(addr_width=addr_width, data_width=data_width,
                                      id_width=id_width)),
            "s_axil": In(AXI4LiteSignature(addr_width=regmap.REG_ADDR_WIDTH)),
        }
        members["m_axi_mem"] = Out(AXI4Signature(addr_width=addr_width,
                                                 data_width=data_width, id_width=id_width,
                                                 user=True)).array(agents)
        members["slot"] = Out(SlotSignature()).array(agents)
        members["irq"] = Out(1)
        super().__init__(members)

    @property
    def config_value(self):
        cfg = regmap.global_reg("CONFIG")
        value = cfg.agents.put(0, self.agents)
        value = cfg.line_bytes.put(value, self.geometry.line_bytes)
        return cfg.max_capacity_log2.put(value, self.max_capacity_log2)

    def elaborate(self, platform):
        m = Module()
        n = self.agents
        geometry = self.geometry
        axi = dict(addr_width=self.addr_width, data_width=self.data_width,
                   id_width=self.id_width)

        m.submodules.regs = regs = ControlRegisters(agents=n, config=self.config_value)
        m.submodules.ctrl = ctrl = MirrorController(
            agents=n, max_capacity_log2=self.max_capacity_log2,
            line_addr_width=self.addr_width - geometry.line_shift,
            page_lines=geometry.page_lines)
        cb = claim_bits(self.max_capacity_log2, self._sweep_burst)
        m.submodules.wr = wr = HostWriteEngine(agents=n, **axi,
                                               hazard_check=self._hazard_check,
                                               claim_bits=cb)
        m.submodules.rd = rd = HostReadEngine(agents=n, **axi)
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
            engine = wr.s if name in wr.s.signature.members else rd.s
            if member.flow == In:   # flows as seen from this top: In = driven by the host
                m.d.comb += getattr(engine, name).eq(getattr(self.s_axi, name))
            else:
                m.d.comb += getattr(self.s_axi, name).eq(getattr(engine, name))

        connect_control(m, regs=regs, ctrl=ctrl, bus=wiring.flipped(self.s_axil))
        m.d.comb += [
            self.irq.eq(regs.irq),
            wr.routes.eq(ctrl.routes), rd.routes.eq(ctrl.routes), rd.mirror.eq(ctrl.mirror),
            wr.mirror.eq(ctrl.mirror),
            wr.hold.eq(ctrl.hold), rd.hold.eq(ctrl.hold),
            ctrl.quiet.eq(wr.idle & rd.idle), ctrl.pending.eq(wr.pending | rd.pending),
        ]
        connect(m, wr=wr.fwd_err, ctrl=ctrl.fwd_err)
        connect(m, wr=wr.wr_err, ctrl=ctrl.wr_err)
        connect(m, rd=rd.rd_err, ctrl=ctrl.rd_err)
        connect_data_path(m, wr=wr, rd=rd, agents=has, sweeps=sweeps, routes=ctrl.routes,
                          mems=[wiring.flipped(port) for port in self.m_axi_mem])

        for i in range(n):
            r = regs.agent[i]
            ha = has[i]
            sw = sweeps[i]
            slot = slots[i]
            connect(m, ctrl=ctrl.sweep[i], sweep=sw.ctrl)
            connect(m, slot=slot.pins, pins=wiring.flipped(self.slot[i]))
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
        return m


def connect_control(m, *, regs, ctrl, bus):
    """Wires the register block ``regs`` (:class:`ControlRegisters`) to the command
    sequencer ``ctrl`` (:class:`MirrorController`) and its AXI4-Lite port to ``bus`` (an
    interface of the subordinate's view, e.g. a flipped top-level port): each agent's
    register interface, and ``freeze``. What the two exchange with the rest of the design
    is the caller's: the top level and the refused-command proof (``formal/control.py``)
    both build on this."""
    connect(m, regs=regs.bus, host=bus)
    m.d.comb += regs.freeze.eq(ctrl.freeze)
    for i in range(len(regs.agent)):
        connect(m, regs=regs.agent[i], ctrl=ctrl.regs[i])


def connect_data_path(m, *, wr, rd, agents, sweeps, routes, mems, slices=True):
    """Wires the path of host requests and sweep copies, as the top level has it.

    Home agent ``i`` serves the memory port ``mems[i]`` and takes agent ``i``'s requests
    from the host write engine ``wr`` (its ``mem[i]``), the host read engine ``rd`` (its
    ``mem[i]``) and sweep engine ``i`` (reads), and the writes of the running sweep whose
    peer is agent ``i``, through a :class:`SweepWriteRouter` (submodule ``sweep_router``)
    steered by ``routes[i].peer``. Each sweep engine and the host write engine exchange
    their claims (``sweep_claim[i]`` / ``claim``) so that neither writes lines the other
    is writing.

    With ``slices`` (the top level), every request and response between an agent and its
    sources passes a :class:`RegisterSlice` (submodules ``ha<i>_host_rd``,
    ``ha<i>_host_wr``, ``ha<i>_sweep_rd``, ``ha<i>_sweep_wr``, and ``sweep<i>_wr`` on each
    sweep's writes before the router): agents, engines and the sweep sit far apart on a
    chip, and their handshakes would otherwise chain through several blocks in one cycle.
    The sweep's own write slice makes its W ready come from a flip-flop next to it rather
    than through the router's multiplexer, which fed its write-side state machine
    (timing). Without ``slices`` (the no-lost-write proof, ``formal/core.py``, whose depth
    the slices' latency would cost) the same ports are connected directly.

    Parameters
    ----------
    m : Module
        Where the connections, slices and the router go.
    wr : HostWriteEngine
    rd : HostReadEngine or None
        ``None``: no host reads (the agents' host read ports stay idle).
    agents : list of HomeAgent
        One per agent; their ``alive`` is the caller's.
    sweeps : list of SweepEngine or None
        Agent ``i``'s sweep engine, ``None`` for an agent without one; their ``ctrl`` and
        ``throttle`` are the caller's.
    routes : Value of ArrayLayout(ROUTE_LAYOUT, len(agents))
        The controller's routes (only ``peer`` is used here).
    mems : list of interfaces
        The memory ports, subordinate's view (e.g. flipped top-level ports).
    slices : bool
        Register slices between agents and their sources.
    """
    n = len(agents)
    m.submodules.sweep_router = router = SweepWriteRouter(
        agents=n, **_axi_widths(agents[0].mem.signature))

    def join(name, manager, subordinate):
        if slices:
            slice_between(m, name, manager, subordinate)
        else:
            connect(m, manager=manager, subordinate=subordinate)

    for i, (ha, sw) in enumerate(zip(agents, sweeps)):
        connect(m, ha=ha.mem, pins=mems[i])
        if rd is not None:
            join(f"ha{i}_host_rd", rd.mem[i], ha.host_rd)
        else:
            m.d.comb += ha.host_rd.rready.eq(1)
        join(f"ha{i}_host_wr", wr.mem[i], ha.host_wr)
        if sw is not None:
            join(f"ha{i}_sweep_rd", sw.rd, ha.sweep_rd)
            connect(m, sweep=sw.claim, wr=wr.sweep_claim[i])
            for k, claim in enumerate(wr.claim):
                connect(m, wr=claim, sweep=sw.host[k])
            if slices:
                slice_between(m, f"sweep{i}_wr", sw.wr, router.sweep[i],
                              channels=("aw", "w", "b"))
            else:
                connect(m, sweep=sw.wr, router=router.sweep[i])
            m.d.comb += [router.peer[i].eq(routes[i].peer),
                         router.active[i].eq(sw.claim.active)]
        else:
            m.d.comb += [ha.sweep_rd.rready.eq(1), wr.sweep_claim[i].active.eq(0),
                         router.active[i].eq(0)]
        join(f"ha{i}_sweep_wr", router.agent[i], ha.sweep_wr)
    return router


def _axi_widths(signature):
    return dict(addr_width=signature.addr_width, data_width=signature.data_width,
                id_width=signature.id_width)
