"""Typed access to the mirrorswap registers over a :class:`~firmware.regbus.RegisterBus`."""

from dataclasses import dataclass

from rtl.regmap import Err, Event, Mode, agent_offset, agent_reg, global_reg

__all__ = ["AgentStatus", "Config", "Hardware"]

_STATUS = agent_reg("STATUS")
_SLOT = agent_reg("SLOT_CTRL")


@dataclass(frozen=True)
class AgentStatus:
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


@dataclass(frozen=True)
class Config:
    agents: int
    line_bytes: int
    max_capacity_log2: int


class Hardware:
    """Registers by name, fields by name; no policy (that is :class:`firmware.bios.Bios`)."""

    def __init__(self, bus):
        self.bus = bus
        self._agents = None

    async def config(self):
        value = await self.bus.read32(global_reg("CONFIG").offset)
        cfg = global_reg("CONFIG")
        config = Config(cfg.agents.get(value), cfg.line_bytes.get(value),
                        cfg.max_capacity_log2.get(value))
        self._agents = config.agents
        return config

    async def agents(self):
        if self._agents is None:
            await self.config()
        return self._agents

    async def check_agent(self, agent):
        n = await self.agents()
        if not isinstance(agent, int) or not 0 <= agent < n:
            raise ValueError(f"Slot must be an integer from 0 to {n - 1}, not {agent!r}")

    async def read_global(self, name):
        return await self.bus.read32(global_reg(name).offset)

    async def write_global(self, name, value):
        await self.bus.write32(global_reg(name).offset, value)

    async def read_reg(self, agent, name):
        return await self.bus.read32(agent_offset(agent, name))

    async def write_reg(self, agent, name, value):
        await self.bus.write32(agent_offset(agent, name), value)

    async def status(self, agent):
        return AgentStatus.decode(await self.read_reg(agent, "STATUS"))

    async def set_slot(self, agent, *, power_en=None, power_led=None, attn_led=None):
        """Read-modify-write SLOT_CTRL; fields left None keep their value."""
        value = await self.read_reg(agent, "SLOT_CTRL")
        for fld, new in ((_SLOT.power_en, power_en), (_SLOT.power_led, power_led),
                         (_SLOT.attn_led, attn_led)):
            if new is not None:
                value = fld.put(value, int(new))
        await self.write_reg(agent, "SLOT_CTRL", value)

    async def slot(self, agent):
        value = await self.read_reg(agent, "SLOT_CTRL")
        return {f.name: f.get(value) for f in _SLOT.fields}

    async def events(self, agent):
        return Event(await self.read_reg(agent, "EVENTS"))

    async def clear_events(self, agent, mask):
        await self.write_reg(agent, "EVENTS", int(mask))
