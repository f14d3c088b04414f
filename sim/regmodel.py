"""Reference model of the register port (SPEC sections 3, 4 and 8), for benches.

:class:`RegisterModel` answers, for any AXI4-Lite access to ``s_axil``, what the contract
says the hardware answers: the response (OKAY or SLVERR), the value a read returns, and
what a write changes, including the commands written to CMD (their outcome comes from
:func:`sim.model.expected_error`) and the power steps of SLOT_CTRL. Every offset, field,
access type and reset value comes from :mod:`mirrorswap.regmap`; the global register LOCK
and the protection rules of section 8 are modelled when the register map has LOCK.

The model is of the *settled* port: its state after a write is the state once every
effect of that write is visible (a command's ``busy`` has fallen, a power step has reached
STATUS). A bench waits for that before its next checked access, except where it asks the
model to keep a SWEEP running (:meth:`RegisterModel.write`, ``hold_sweep``) to see BUSY.

Choices of docs/contract.md (*Choices where the contract is silent*) the model follows: the two
low address bits are ignored; a write that does not fit its field (bits above its width,
an LED code outside :class:`regmap.Led`, reserved bits) answers SLVERR and changes
nothing, judged on the value the write would leave (old value merged with the strobed
bytes); BASE and SIZE are refused while the agent owns a range, is a mirror slave or is
busy, and ESTABLISH copies the master's BASE/SIZE into the slave's; a CMD write answers
OKAY, its opcode and peer taken from the strobed bytes (the others read as 0); CMD reads
as 0; every command, refused ones included, sets ``cmd_done``; a refused SLOT_CTRL
power-off sets err POWER and ``cmd_done``; ``err`` is the outcome of the last CMD write
or refused power-off, so one refused while a command runs (BUSY, BAD_OPCODE, POWER)
stays in ``err`` after that command ends.
"""

from dataclasses import dataclass

from mirrorswap import regmap
from mirrorswap.geometry import Geometry
from mirrorswap.regmap import Access, Err, Event, Mode, Op

from .model import apply_command, expected_error

__all__ = ["Expected", "WriteEffect", "RegisterModel", "bytemask", "has_lock"]

_STATUS = regmap.agent_reg("STATUS")
_CMD = regmap.agent_reg("CMD")
_SLOT = regmap.agent_reg("SLOT_CTRL")
_EVENTS = regmap.agent_reg("EVENTS")
_WORD = 0xFFFFFFFF
# set-only registers (LOCK), when the register map has the access type
_SET_ONLY = getattr(Access, "RW1S", None)
# modes in which an agent's BASE/SIZE are locked and its power may not be switched off
_PROTECTED = (Mode.ACTIVE, Mode.MIRROR_MASTER, Mode.MIRROR_SLAVE)


def has_lock():
    """Whether the register map has the global LOCK register of SPEC section 8."""
    return "LOCK" in {r.name for r in regmap.GLOBAL_REGS}


def bytemask(strobe):
    """The bits of a 32-bit word that byte ``strobe`` writes."""
    return sum(0xFF << (8 * k) for k in range(4) if strobe >> k & 1)


def _fits(reg, value):
    """``value`` sets no bit outside ``reg``'s fields and no enum field to an unknown code."""
    if value & ~sum(f.mask for f in reg.fields) & _WORD:
        return False
    return all(f.enum is None or ((value & f.mask) >> f.lsb) in {int(e) for e in f.enum}
               for f in reg.fields)


@dataclass(frozen=True)
class Expected:
    """What a read must return: ``ok`` (OKAY, else SLVERR), and ``value`` on the bits of
    ``care`` (the others are not known to the model; 0 for an SLVERR)."""
    ok: bool
    value: int = 0
    care: int = _WORD

    def matches(self, ok, value):
        return ok == self.ok and (not ok or (value ^ self.value) & self.care == 0)


@dataclass(frozen=True)
class WriteEffect:
    """What a write does: ``ok`` (OKAY, else SLVERR; then nothing else happened).

    ``command``: ``(agent, op, peer, err)`` for a CMD write, ``err`` the outcome once busy
    has fallen; ``busy``: the agent stays busy (a SWEEP the bench asked to keep running);
    ``power``: ``(agent, on)`` when the write switched a slot's supply, whose mode follows
    some cycles later; ``locked_out``: refused by LOCK (SPEC section 8).
    """
    ok: bool
    command: tuple = None
    busy: bool = False
    power: tuple = None
    locked_out: bool = False


class RegisterModel:
    """The register port of a ``mirrorswap_top`` with every slot seated.

    Parameters
    ----------
    capacities : sequence of int
        Lines of the module in each slot (CAPACITY; one entry per agent, each a power of
        two). Every slot is taken to hold its module from reset on.
    config : int
        The CONFIG register's value.
    line_addr_width : int
        Host line address bits (ADDR_WIDTH - log2 of the line bytes): ASSIGN's
        address-space check. Default: 32-bit host addresses at CONFIG's line size.

    Attributes
    ----------
    lock_implemented : bool
        The register map has LOCK; otherwise offset 0x14 is unmapped and prot is ignored.
    """

    def __init__(self, capacities, config, line_addr_width=None):
        capacities = tuple(capacities)
        if not 1 <= len(capacities) <= 16:
            raise ValueError(f"A model takes 1 to 16 agents, not {len(capacities)}")
        if any(not isinstance(c, int) or c < 1 or c & (c - 1) for c in capacities):
            raise ValueError(f"Capacities must be powers of two, not {capacities}")
        self.agents = len(capacities)
        self.capacity = capacities
        self.config = config
        self.geometry = Geometry.from_line_bytes(regmap.global_reg("CONFIG").line_bytes.get(config))
        self.line_addr_width = (32 - self.geometry.line_shift if line_addr_width is None
                                else line_addr_width)
        self.lock_implemented = has_lock()
        self.reset()

    # ---- state -------------------------------------------------------------------------
    def reset(self):
        """The state after ``rst``: reset values, every agent OFF, LOCK clear.

        A module seated through reset may raise ``presence_changed`` as reset ends; the
        contract does not say, so that bit is unknown until EVENTS is read
        (:meth:`observe`)."""
        self.globals = {r.name: r.reset for r in regmap.GLOBAL_REGS
                        if r.access in (Access.RW, _SET_ONLY)}
        self.regs = [{r.name: r.reset for r in regmap.AGENT_REGS
                      if r.access in (Access.RW, Access.RW1C)} for _ in range(self.agents)]
        self.mode = [Mode.OFF] * self.agents
        self.peer = [0] * self.agents
        self.err = [Err.OK] * self.agents
        self.swept_upto = [0] * self.agents
        self.power_good = [False] * self.agents
        self.busy = [False] * self.agents
        # a refusal answered while the agent was busy: its err outlives the running command
        self.superseded = [False] * self.agents
        self.unknown_events = [int(Event.PRESENCE_CHANGED)] * self.agents

    @property
    def locked(self):
        """LOCK.secure_only is set (never while the register map has no LOCK)."""
        return (self.lock_implemented and
                bool(regmap.global_reg("LOCK").secure_only.get(self.globals["LOCK"])))

    def decode(self, address):
        """(agent or None for the global block, Register or None if unmapped)."""
        word = address & ((1 << regmap.REG_ADDR_WIDTH) - 4)
        if word < regmap.AGENT_BASE:
            return None, next((r for r in regmap.GLOBAL_REGS if r.offset == word), None)
        agent, offset = divmod(word - regmap.AGENT_BASE, regmap.AGENT_STRIDE)
        if agent >= self.agents:
            return agent, None
        return agent, next((r for r in regmap.AGENT_REGS if r.offset == offset), None)

    # ---- reads -------------------------------------------------------------------------
    def read(self, address, secure=True):
        """What a read of byte ``address`` returns (``secure``: ``arprot[1]`` = 0; reads
        answer the same either way)."""
        agent, reg = self.decode(address)
        if reg is None:
            return Expected(False)
        if agent is None:
            return self._read_global(reg)
        return self._read_agent(agent, reg)

    def _read_global(self, reg):
        if reg.name == "ID":
            return Expected(True, regmap.ID_VALUE)
        if reg.name == "CONFIG":
            return Expected(True, self.config)
        if reg.name == "IRQ_SUMMARY":
            value = care = 0
            for a in range(self.agents):
                enabled = self.regs[a]["IRQ_EN"]
                if self.regs[a]["EVENTS"] & enabled:
                    value |= 1 << a
                elif self.unknown_events[a] & enabled:
                    care |= 1 << a
            return Expected(True, value, _WORD & ~care)
        return Expected(True, self.globals[reg.name])

    def status(self, agent):
        """STATUS of ``agent`` (every field known unless it is busy)."""
        value = 0
        fields = {"mode": self.mode[agent], "busy": int(self.busy[agent]),
                  "swept": int(self.swept_upto[agent] >= self.regs[agent]["SIZE"]),
                  "peer": self.peer[agent], "err": self.err[agent], "present": 1,
                  "power_good": int(self.power_good[agent])}
        for name, v in fields.items():
            value = getattr(_STATUS, name).put(value, v)
        care = _WORD
        if self.busy[agent]:      # a running sweep moves SWEPT_UPTO, and so `swept`
            care &= ~_STATUS.swept.mask
        return Expected(True, value, care)

    def _read_agent(self, agent, reg):
        name = reg.name
        if name == "STATUS":
            return self.status(agent)
        if reg.access is Access.WO:
            return Expected(True, 0)
        if name == "CAPACITY":
            return Expected(True, self.capacity[agent])
        if name == "SWEPT_UPTO":
            return Expected(True, self.swept_upto[agent], 0 if self.busy[agent] else _WORD)
        if name == "ERR_ADDR":
            return Expected(True, 0)     # no memory error in a register bench
        if name == "EVENTS":
            return Expected(True, self.regs[agent]["EVENTS"], _WORD & ~self.unknown_events[agent])
        return Expected(True, self.regs[agent][name])

    def observe(self, address, value):
        """Learn from a read of EVENTS the event bits the model did not know."""
        agent, reg = self.decode(address)
        if agent is not None and reg is not None and reg.name == "EVENTS":
            known = self.unknown_events[agent]
            self.regs[agent]["EVENTS"] = (self.regs[agent]["EVENTS"] & ~known) | (value & known)
            self.unknown_events[agent] = 0

    # ---- writes ------------------------------------------------------------------------
    def write(self, address, data, strobe=0xF, secure=True, hold_sweep=False):
        """Apply a write of ``data`` with byte ``strobe`` to byte ``address``; return its
        :class:`WriteEffect`. ``secure``: ``awprot[1]`` = 0. ``hold_sweep``: an accepted
        SWEEP leaves the agent busy until :meth:`sweep_done`."""
        if self.locked and not secure:
            return WriteEffect(False, locked_out=True)
        agent, reg = self.decode(address)
        if reg is None:
            return WriteEffect(False)
        mask = bytemask(strobe)
        written = data & mask
        if agent is None:
            return self._write_global(reg, written, mask, secure)
        if reg.access is Access.RO:
            return WriteEffect(False)
        if reg.access is Access.WO:
            return self._command(agent, _CMD.opcode.get(written), _CMD.peer.get(written),
                                 hold_sweep)
        if reg.access is Access.RW1C:
            if not _fits(reg, written):
                return WriteEffect(False)
            self.regs[agent][reg.name] &= ~written
            self.unknown_events[agent] &= ~written
            return WriteEffect(True)
        new = (self.regs[agent][reg.name] & ~mask) | written
        if not _fits(reg, new):
            return WriteEffect(False)
        if reg.name in ("BASE", "SIZE") and (self.mode[agent] in _PROTECTED or
                                             self.busy[agent]):
            return WriteEffect(False)
        if reg.name == _SLOT.name:
            return self._slot_ctrl(agent, new)
        self.regs[agent][reg.name] = new
        return WriteEffect(True)

    def _write_global(self, reg, written, mask, secure):
        if reg.access is Access.RO:
            return WriteEffect(False)
        if reg.name == "LOCK" and not secure:
            # a non-secure manager may not lock the firmware out either (SPEC section 8)
            return WriteEffect(False, locked_out=True)
        if reg.access is _SET_ONLY:
            if not _fits(reg, written):
                return WriteEffect(False)
            self.globals[reg.name] |= written
            return WriteEffect(True)
        new = (self.globals[reg.name] & ~mask) | written
        if not _fits(reg, new):
            return WriteEffect(False)
        self.globals[reg.name] = new
        return WriteEffect(True)

    def _slot_ctrl(self, agent, new):
        old_on = _SLOT.power_en.get(self.regs[agent]["SLOT_CTRL"])
        on = _SLOT.power_en.get(new)
        if not on and self.mode[agent] in _PROTECTED:
            # the power-off is refused, the LEDs are applied
            self.regs[agent]["SLOT_CTRL"] = _SLOT.power_en.put(new, 1)
            self.err[agent] = Err.POWER
            self.superseded[agent] |= self.busy[agent]
            self.regs[agent]["EVENTS"] |= Event.CMD_DONE
            return WriteEffect(True)
        self.regs[agent]["SLOT_CTRL"] = new
        if on == old_on:
            return WriteEffect(True)
        self.power_good[agent] = bool(on)
        self.mode[agent] = Mode.IDLE if on else Mode.OFF
        return WriteEffect(True, power=(agent, bool(on)))

    def _command(self, agent, op, peer, hold_sweep):
        err = self.expected_command(agent, op, peer)
        self.regs[agent]["EVENTS"] |= Event.CMD_DONE
        if self.busy[agent]:
            # refused at once; the running command's end leaves this err (README)
            self.err[agent] = err
            self.superseded[agent] = True
            return WriteEffect(True, command=(agent, op, peer, err), busy=True)
        self.err[agent] = err
        if err == Err.OK:
            self._apply(agent, Op(op), peer)
        busy = bool(hold_sweep and err == Err.OK and op == Op.SWEEP)
        self.busy[agent] = busy
        return WriteEffect(True, command=(agent, op, peer, err), busy=busy)

    def sweep_done(self, agent):
        """The held SWEEP of ``agent`` has ended (``busy`` fell): err is OK, unless a
        refusal answered while it ran set it (that err stays)."""
        if not self.busy[agent]:
            raise ValueError(f"Agent {agent} has no SWEEP running")
        self.busy[agent] = False
        if not self.superseded[agent]:
            self.err[agent] = Err.OK
        self.superseded[agent] = False

    def _apply(self, agent, op, peer):
        """The effect of an accepted command (SPEC section 4)."""
        apply_command(agent, op, peer, self.mode, self.peer, self.regs, self.swept_upto)

    # ---- helpers for benches -------------------------------------------------------------
    def address(self, agent, name):
        """Byte address of register ``name`` (of ``agent``, or global when None)."""
        if agent is None:
            return regmap.global_reg(name).offset
        return regmap.agent_offset(agent, name)

    def expected_command(self, agent, op, peer):
        """The err a command would get now, without issuing it."""
        regs = [{k: r[k] for k in ("BASE", "SIZE", "SWEEP_START", "SWEEP_COUNT")}
                for r in self.regs]
        return expected_error(agent, op, peer, self.mode, regs, self.capacity,
                              self.swept_upto[agent], busy=self.busy[agent],
                              line_addr_width=self.line_addr_width,
                              page_lines=self.geometry.page_lines)
