"""Typed access to the mirrorswap registers over a :class:`~firmware.regbus.RegisterBus`:
the top of the firmware model's register layer (see :mod:`mirrorswap.firmware`).

Registers and fields by name, decoded into :class:`AgentStatus` and :class:`Config`; no
policy and no waiting (that is the flow layer, :mod:`firmware.bios`). Offsets and field
positions come only from :mod:`mirrorswap.regmap`, the one register description.
"""

from dataclasses import dataclass

from mirrorswap.regmap import Err, Event, Mode, agent_offset, agent_reg, global_reg

__all__ = ["AgentStatus", "Config", "RasStatus", "Hardware"]

_STATUS = agent_reg("STATUS")
_RAS = agent_reg("RAS_CTRL")
_SLOT = agent_reg("SLOT_CTRL")
_CONFIG = global_reg("CONFIG")
_LOCK = global_reg("LOCK")


@dataclass(frozen=True)
class AgentStatus:
    """One agent's STATUS register, decoded.

    ``mode``, ``busy``, ``swept``, ``peer`` and ``err`` are those of SPEC section 3
    (``err`` is the error of the last finished command; it and the mode change are valid
    once ``busy`` is 0). :meth:`decode` and :meth:`encode` are inverse on every value
    whose unused bits are 0.
    """

    mode: Mode
    busy: bool
    swept: bool
    peer: int
    err: Err
    present: bool
    power_good: bool

    @classmethod
    def decode(cls, value):
        f = {fl.name: fl.get(value) for fl in _STATUS.fields}
        return cls(mode=Mode(f["mode"]), busy=bool(f["busy"]), swept=bool(f["swept"]),
                   peer=f["peer"], err=Err(f["err"]), present=bool(f["present"]),
                   power_good=bool(f["power_good"]))

    def encode(self):
        """The STATUS value this status decodes from (a register model's view)."""
        value = 0
        for name in ("mode", "busy", "swept", "peer", "err", "present", "power_good"):
            value = getattr(_STATUS, name).put(value, int(getattr(self, name)))
        return value


@dataclass(frozen=True)
class Config:
    """The global CONFIG register: elaboration parameters of the hardware."""

    agents: int
    line_bytes: int
    max_capacity_log2: int

    @classmethod
    def decode(cls, value):
        return cls(_CONFIG.agents.get(value), _CONFIG.line_bytes.get(value),
                   _CONFIG.max_capacity_log2.get(value))


@dataclass(frozen=True)
class RasStatus:
    """One agent's error registers (SPEC section 7), read together.

    ``ce`` and ``ue`` are CE_COUNT and UE_COUNT as read (saturating hardware counters that
    firmware may clear), ``failover_en`` and ``poison_en`` the two RAS_CTRL bits,
    ``err_addr`` the line offset of the last memory error, ``events`` the EVENTS bits set
    when read (not cleared by reading).
    """

    ce: int
    ue: int
    failover_en: bool
    poison_en: bool
    err_addr: int
    events: Event


class Hardware:
    """Registers by name, fields by name; no policy (that is :class:`firmware.bios.Bios`).

    Caches the agent count from the first CONFIG read (an elaboration parameter, so it
    cannot change while the design runs); every other value is read from the hardware
    each time.

    Parameters
    ----------
    bus : firmware.regbus.RegisterBus
    """

    def __init__(self, bus):
        self.bus = bus
        self._agents = None

    async def config(self):
        config = Config.decode(await self.bus.read32(_CONFIG.offset))
        self._agents = config.agents
        return config

    async def agents(self):
        if self._agents is None:
            await self.config()
        return self._agents

    async def check_agent(self, agent, what="Slot"):
        """:class:`ValueError` unless ``agent`` is an agent index of this hardware."""
        n = await self.agents()
        if not isinstance(agent, int) or isinstance(agent, bool) or not 0 <= agent < n:
            raise ValueError(f"{what} must be an integer from 0 to {n - 1}, not {agent!r}")

    async def read_global(self, name):
        return await self.bus.read32(global_reg(name).offset)

    async def write_global(self, name, value):
        await self.bus.write32(global_reg(name).offset, value)

    async def read_reg(self, agent, name):
        return await self.bus.read32(agent_offset(agent, name))

    async def write_reg(self, agent, name, value):
        await self.bus.write32(agent_offset(agent, name), int(value))

    async def status(self, agent):
        return AgentStatus.decode(await self.read_reg(agent, "STATUS"))

    async def set_slot(self, agent, *, power_en=None, power_led=None, attn_led=None):
        """Read-modify-write SLOT_CTRL; fields left None keep their value.

        Switching power off on an agent that owns a range or is a mirror slave is refused
        by the hardware (err POWER, SPEC section 4); this method does not check for it.
        """
        value = await self.read_reg(agent, "SLOT_CTRL")
        for fld, new in ((_SLOT.power_en, power_en), (_SLOT.power_led, power_led),
                         (_SLOT.attn_led, attn_led)):
            if new is not None:
                value = fld.put(value, int(new))
        await self.write_reg(agent, "SLOT_CTRL", value)

    async def slot(self, agent):
        """SLOT_CTRL as a dict of field name to value."""
        value = await self.read_reg(agent, "SLOT_CTRL")
        return {f.name: f.get(value) for f in _SLOT.fields}

    async def lock(self):
        """Set LOCK.secure_only (SPEC section 8): from now until reset the hardware refuses
        every non-secure register write. Needs a secure write (a non-secure one answers
        SLVERR, :class:`~firmware.regbus.BusError` on the simulation bus); setting it
        again is harmless."""
        await self.write_global("LOCK", _LOCK.secure_only.put(0, 1))

    async def locked(self):
        """LOCK.secure_only as the hardware holds it now: True while non-secure writes
        are refused."""
        return bool(_LOCK.secure_only.get(await self.read_global("LOCK")))

    async def ras(self, agent):
        """CE_COUNT, UE_COUNT, RAS_CTRL, ERR_ADDR and EVENTS of ``agent``, as a
        :class:`RasStatus`; reads only."""
        ctrl = await self.read_reg(agent, "RAS_CTRL")
        return RasStatus(ce=await self.read_reg(agent, "CE_COUNT"),
                         ue=await self.read_reg(agent, "UE_COUNT"),
                         failover_en=bool(_RAS.failover_en.get(ctrl)),
                         poison_en=bool(_RAS.poison_en.get(ctrl)),
                         err_addr=await self.read_reg(agent, "ERR_ADDR"),
                         events=await self.events(agent))

    async def set_ras(self, agent, *, failover_en=None, poison_en=None):
        """Read-modify-write RAS_CTRL; fields left None keep their value. A field value
        other than 0/1 (or a bool) raises :class:`ValueError` before anything is written."""
        fields = ((_RAS.failover_en, failover_en), (_RAS.poison_en, poison_en))
        for fld, new in fields:
            if new is not None and new not in (0, 1):
                raise ValueError(f"{fld.name} must be 0 or 1, not {new!r}")
        value = await self.read_reg(agent, "RAS_CTRL")
        for fld, new in fields:
            if new is not None:
                value = fld.put(value, int(new))
        await self.write_reg(agent, "RAS_CTRL", value)

    async def clear_counts(self, agent):
        """Write 0 to CE_COUNT and UE_COUNT. An error counted in the cycle of a write adds to
        the 0 (SPEC section 3); what a reader saw before the write is gone, which is why the
        event loop never clears them (:class:`firmware.ras.ErrorTotals`)."""
        await self.write_reg(agent, "CE_COUNT", 0)
        await self.write_reg(agent, "UE_COUNT", 0)

    async def events(self, agent):
        return Event(await self.read_reg(agent, "EVENTS"))

    async def clear_events(self, agent, mask):
        """EVENTS is write-1-to-clear: only the bits set in ``mask`` are cleared."""
        await self.write_reg(agent, "EVENTS", int(mask))
