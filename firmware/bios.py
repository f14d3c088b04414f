"""The BIOS flows of SPEC section 6, over the register interface only."""

import inspect
import logging

from rtl.regmap import Err, Event, Led, Mode, Op, agent_reg
from .errors import CommandTimeout, FlowError, NoSpareError, error_for
from .hw import Hardware
from .memmap import MemoryMap

__all__ = ["Bios", "format_slot_table"]

log = logging.getLogger(__name__)
_CMD = agent_reg("CMD")


class Bios:
    """The BIOS model: boot, migration, and the status of every slot.

    Every step is a register access on ``bus``; the model keeps no state the hardware
    does not also hold, except the memory map it published.

    Parameters
    ----------
    bus : firmware.regbus.RegisterBus
    poll_cycles : int
        Cycles between two STATUS polls while a command is busy.
    timeout_cycles : int
        A command busy longer than this raises :class:`CommandTimeout`.
    """

    def __init__(self, bus, *, poll_cycles=8, timeout_cycles=10_000_000):
        if poll_cycles <= 0:
            raise ValueError(f"Poll interval must be positive, not {poll_cycles}")
        self.hw = Hardware(bus)
        self.bus = bus
        self.poll_cycles = poll_cycles
        self.timeout_cycles = timeout_cycles
        self.memory_map = None

    # ---- commands ---------------------------------------------------------------------------
    async def command(self, agent, op, peer=0):
        """Issue ``op`` on ``agent`` and wait for it; raise the CommandError of its err.

        Returns the agent's status once the command is no longer busy.
        """
        await self.hw.check_agent(agent)
        await self.hw.clear_events(agent, Event.CMD_DONE)
        await self.hw.write_reg(agent, "CMD", _CMD.peer.put(_CMD.opcode.put(0, op), peer))
        waited = 0
        while True:
            status = await self.hw.status(agent)
            if not status.busy:
                break
            if waited >= self.timeout_cycles:
                raise CommandTimeout(f"agent {agent}: {Op(op).name} still busy after "
                                     f"{waited} cycles")
            await self.bus.pause(self.poll_cycles)
            waited += self.poll_cycles
        await self.hw.clear_events(agent, Event.CMD_DONE)
        if status.err is not Err.OK:
            raise error_for(status.err)(agent, op)
        return status

    # ---- boot -------------------------------------------------------------------------------
    async def boot(self, *, power_good_timeout_cycles=100_000):
        """Power every present slot, make the largest module the spare, ASSIGN the others
        consecutive ranges from line 0, and publish the memory map."""
        config = await self.hw.config()
        present = [a for a in range(config.agents) if (await self.hw.status(a)).present]
        for a in present:
            await self.hw.set_slot(a, power_en=1, power_led=Led.BLINK, attn_led=Led.OFF)
        for a in present:
            await self._wait_mode(a, Mode.IDLE, power_good_timeout_cycles)
            await self.hw.set_slot(a, power_led=Led.ON)
        capacity = {a: await self.hw.read_reg(a, "CAPACITY") for a in present}
        spare = None
        if len(present) > 1:
            spare = max(present, key=lambda a: (capacity[a], -a))
        self.memory_map = MemoryMap()
        base = 0
        for a in present:
            if a == spare:
                continue
            await self.hw.write_reg(a, "BASE", base)
            await self.hw.write_reg(a, "SIZE", capacity[a])
            await self.command(a, Op.ASSIGN)
            self.memory_map.add(base, capacity[a], a)
            base += capacity[a]
        log.info("boot: %d modules, spare %s, %d lines published", len(present), spare, base)
        return self.memory_map

    async def _wait_mode(self, agent, mode, timeout_cycles):
        waited = 0
        while (await self.hw.status(agent)).mode != mode:
            if waited >= timeout_cycles:
                raise FlowError(f"slot {agent} did not reach {mode.name} in "
                                f"{timeout_cycles} cycles")
            await self.bus.pause(self.poll_cycles)
            waited += self.poll_cycles

    # ---- migration --------------------------------------------------------------------------
    async def pick_spare(self, size_lines, exclude=()):
        """The largest IDLE module with CAPACITY >= ``size_lines`` (ties: lowest slot)."""
        best = None
        for a in range(await self.hw.agents()):
            if a in exclude:
                continue
            if (await self.hw.status(a)).mode != Mode.IDLE:
                continue
            cap = await self.hw.read_reg(a, "CAPACITY")
            if cap >= size_lines and (best is None or cap > best[1]):
                best = (a, cap)
        if best is None:
            raise NoSpareError(f"no IDLE module holds {size_lines} lines")
        return best[0]

    async def migrate(self, slot, *, spare=None, chunk_lines=4096, progress=None,
                      max_sweep_retries=3):
        """Move the range of ACTIVE ``slot`` to a spare while the OS runs; return the spare.

        ESTABLISH, SWEEP in chunks of ``chunk_lines`` (``progress(done, total)`` after
        each), RELEASE. A SWEEP stopped by a memory error, or a watermark cleared by a
        failed forwarded write, is retried from SWEPT_UPTO, up to ``max_sweep_retries``
        times in all. Any failure after ESTABLISH issues ABORT: the module
        keeps serving its range and :class:`FlowError` is raised with the cause.
        """
        await self.hw.check_agent(slot)
        if not isinstance(chunk_lines, int) or chunk_lines <= 0:
            raise ValueError(f"Chunk must be a positive number of lines, not {chunk_lines!r}")
        status = await self.hw.status(slot)
        if status.mode != Mode.ACTIVE:
            raise FlowError(f"slot {slot} is {status.mode.name}, not ACTIVE")
        size = await self.hw.read_reg(slot, "SIZE")
        if spare is None:
            spare = await self.pick_spare(size, exclude=(slot,))
        else:
            await self.hw.check_agent(spare)
        await self.command(slot, Op.ESTABLISH, spare)
        try:
            retries = 0
            reached = 0
            while True:
                done = await self.hw.read_reg(slot, "SWEPT_UPTO")
                if done >= size:
                    try:
                        await self.command(slot, Op.RELEASE)
                        break
                    except error_for(Err.NOT_SWEPT):
                        # the watermark was cleared after the last SWEEP: sweep again
                        done = await self.hw.read_reg(slot, "SWEPT_UPTO")
                if done < reached:
                    # a forwarded write failed at the spare and cleared the watermark
                    retries += 1
                    log.warning("slot %d: SWEPT_UPTO fell from %d to %d (write error at "
                                "slot %d), retry %d", slot, reached, done, spare, retries)
                    if retries > max_sweep_retries:
                        raise FlowError(f"slot {spare} keeps failing forwarded writes")
                reached = done
                count = min(chunk_lines, size - done)
                await self.hw.write_reg(slot, "SWEEP_START", done)
                await self.hw.write_reg(slot, "SWEEP_COUNT", count)
                try:
                    await self.command(slot, Op.SWEEP)
                except error_for(Err.MEM_ERROR):
                    retries += 1
                    if retries > max_sweep_retries:
                        raise
                    log.warning("slot %d: sweep memory error at line %d, retry %d", slot,
                                await self.hw.read_reg(slot, "ERR_ADDR"), retries)
                    continue
                reached = done + count
                if progress is not None:
                    result = progress(min(done + count, size), size)
                    if inspect.isawaitable(result):
                        await result
        except Exception as e:
            if (await self.hw.status(slot)).mode == Mode.MIRROR_MASTER:
                await self.command(slot, Op.ABORT)
            raise FlowError(f"migration of slot {slot} to slot {spare} failed and was "
                            f"aborted: {e}") from e
        if self.memory_map is not None:
            self.memory_map.rehome(slot, spare)
        log.info("slot %d: range moved to slot %d", slot, spare)
        return spare

    # ---- status -----------------------------------------------------------------------------
    async def slot_table(self):
        rows = []
        for a in range(await self.hw.agents()):
            st = await self.hw.status(a)
            rows.append({
                "slot": a, "present": st.present, "power_good": st.power_good,
                "mode": st.mode.name, "base": await self.hw.read_reg(a, "BASE"),
                "size": await self.hw.read_reg(a, "SIZE"),
                "capacity": await self.hw.read_reg(a, "CAPACITY"), "peer": st.peer,
                "swept_upto": await self.hw.read_reg(a, "SWEPT_UPTO"), "err": st.err.name,
            })
        return rows


def format_slot_table(rows):
    """A text table of :meth:`Bios.slot_table` rows."""
    cols = ["slot", "present", "power_good", "mode", "base", "size", "capacity", "peer",
            "swept_upto", "err"]
    cells = [[str(int(r[c]) if isinstance(r[c], bool) else r[c]) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    line = lambda values: "  ".join(v.rjust(w) for v, w in zip(values, widths))
    return "\n".join([line(cols)] + [line(row) for row in cells])
