"""The BIOS flows of SPEC section 6, over the register interface only.

The third layer of the firmware model (see :mod:`mirrorswap.firmware`): :class:`Bios` holds
the flows that run to completion when called (boot, one command, migration, switching a
slot on or off, the memory map and the slot table), each a sequence of register accesses
through :class:`~firmware.hw.Hardware`. It decides nothing about buttons or LEDs of a
failure: the hot-plug layer (:mod:`firmware.hotplug`) decides *when* a flow runs and what
the user is shown, and calls the public methods here for the *how*.
"""

import inspect
import logging

from mirrorswap.regmap import Err, Event, Led, Mode, Op, agent_reg
from .errors import Busy, CommandTimeout, FlowError, NoSpareError, check_int, error_for
from .hw import Hardware
from .memmap import MemoryMap
from .ras import pair_modules
from .regbus import BusError

__all__ = ["Bios", "format_slot_table"]

log = logging.getLogger(__name__)
_CMD = agent_reg("CMD")

#: Modes in which an agent owns its range (BASE, SIZE): it serves the host's accesses to it.
OWNING = (Mode.ACTIVE, Mode.MIRROR_MASTER)


class Bios:
    """The BIOS model: boot, commands, migration, slot power, the memory map and the slot
    table.

    Every step is a register access on ``bus``; the model keeps no state the hardware
    does not also hold, except the memory map it published (:attr:`memory_map`, None
    before :meth:`boot`) and the mirror pairs of mirror mode (:attr:`mirror_pairs`).
    Several flows may run at once on disjoint agents (each :meth:`command` touches only
    its own agent's registers).

    RAS (SPEC section 7): RAS_CTRL is written only by the flows that need a bit, and put
    back to 0 when the agent leaves the role that needed it, so that every other flow runs
    with the reset value, as without RAS: :meth:`mirror` sets ``failover_en`` on the
    master of a pair kept established; :meth:`migrate` with ``poison=True`` sets
    ``poison_en`` on the master for the time of the migration.

    Parameters
    ----------
    bus : firmware.regbus.RegisterBus
        The only way to the hardware (simulation or board alike).
    poll_cycles : int
        Cycles between two STATUS polls while waiting for the hardware.
    timeout_cycles : int
        A command busy longer than this raises :class:`~firmware.errors.CommandTimeout`.
    poison_slots : iterable of int
        Slots whose memory stores poison (writes ``wuser``, returns it on ``ruser``). The
        hardware cannot tell (a memory without poison ties ``ruser`` to 0), so the platform
        says: only a migration to one of these may copy unreadable lines as poison
        (``migrate(poison=True)``). Default: none.

    Members
    -------
    hw : firmware.hw.Hardware
        Typed register access on ``bus``.
    memory_map : firmware.memmap.MemoryMap or None
        What :meth:`boot` published; :meth:`migrate` updates which slot serves a range.
    mirror_mode : bool
        :meth:`boot` ran with ``mirror=True``.
    mirror_pairs : dict of int to int
        Master slot to slave slot of every pair kept established with ``failover_en``
        (mirror mode); a hand-over, an ABORT or a failover removes its pair.
    poison_slots : frozenset of int

    Raises
    ------
    ValueError
        ``poll_cycles`` or ``timeout_cycles`` is not a positive integer, or a poison slot
        is not a non-negative integer.
    """

    def __init__(self, bus, *, poll_cycles=4, timeout_cycles=10_000_000, poison_slots=()):
        check_int("Poll interval", poll_cycles)
        check_int("Command timeout", timeout_cycles)
        poison_slots = frozenset(poison_slots)
        for slot in poison_slots:
            check_int("Poison slot", slot, minimum=0)
        self.hw = Hardware(bus)
        self.bus = bus
        self.poll_cycles = poll_cycles
        self.timeout_cycles = timeout_cycles
        self.poison_slots = poison_slots
        self.memory_map = None
        self.mirror_mode = False
        self.mirror_pairs = {}

    # ---- commands ---------------------------------------------------------------------------
    async def command(self, agent, op, peer=0):
        """Issue ``op`` on ``agent``, wait until it is no longer busy, check its ``err``.

        ``busy`` rises with the CMD write's response, so the first STATUS read after that
        response already belongs to this command (a refused command is never busy: it
        finishes with the write). The cmd_done event is cleared before the write, so that a
        stale one is not mistaken for this command's, and after it, so that it does not
        hold ``irq`` up. Commands to one agent are meant to be issued one at a time: an
        agent found busy raises :class:`~firmware.errors.Busy` without a write.

        Returns
        -------
        AgentStatus
            The agent's status once the command finished with OK.

        Raises
        ------
        CommandError
            The subclass for the command's ``err`` (:func:`~firmware.errors.error_for`).
        Busy
            The agent was running another command (nothing written), or refused this one
            with BUSY.
        CommandTimeout
            Still busy after ``timeout_cycles``.
        """
        await self.hw.check_agent(agent)
        # put() names the field and the bad value for an opcode or peer that does not fit
        value = _CMD.peer.put(_CMD.opcode.put(0, op), peer)
        if (await self.hw.status(agent)).busy:
            # The write would be refused with BUSY (err keeps BUSY once the running command
            # ends, docs/contract.md), and the running command's owner would then read BUSY
            # instead of its own result: write nothing.
            raise Busy(agent, op)
        await self.hw.clear_events(agent, Event.CMD_DONE)
        await self.hw.write_reg(agent, "CMD", value)
        status = await self.hw.status(agent)
        if (status.busy and status.err is Err.BUSY
                and Event.CMD_DONE in await self.hw.events(agent)):
            # Another flow issued a command to this agent since the check above. An
            # accepted command raises cmd_done only when busy falls; a refused one at once.
            await self.hw.clear_events(agent, Event.CMD_DONE)
            raise Busy(agent, op)
        waited = 0
        while status.busy:
            if waited >= self.timeout_cycles:
                op_name = Op(op).name if op in set(Op) else f"opcode {op}"
                raise CommandTimeout(f"agent {agent}: {op_name} still busy after "
                                     f"{waited} cycles")
            await self.bus.pause(self.poll_cycles)
            waited += self.poll_cycles
            status = await self.hw.status(agent)
        await self.hw.clear_events(agent, Event.CMD_DONE)
        if status.err is not Err.OK:
            raise error_for(status.err)(agent, op)
        return status

    # ---- boot -------------------------------------------------------------------------------
    async def boot(self, *, power_good_timeout_cycles=100_000, lock=True, mirror=False,
                   chunk_lines=4096):
        """Power every present slot, make the largest module the spare, ASSIGN the others
        consecutive ranges from line 0, publish the memory map, and set LOCK.

        The spare is the module with the largest CAPACITY (ties: the lowest slot); it stays
        IDLE. The others get ``BASE`` = the lines given so far, ``SIZE`` = their CAPACITY,
        in slot order. With a single module there is no spare: it is assigned.

        **Mirror mode** (``mirror=True``, SPEC section 6): the modules are paired by
        :func:`firmware.ras.pair_modules` (the smaller module of a pair is its master, its
        whole CAPACITY is the range, which fits the slave); each master is ASSIGNed a
        consecutive range, in master slot order, then :meth:`mirror` pairs it with its
        slave (ESTABLISH, a full SWEEP, RAS_CTRL.failover_en). The published map is the
        sum of the masters' ranges; a module left unpaired (an odd count: the smallest)
        stays a spare. A pair that cannot be established or swept is ABORTed and logged:
        its master still serves its published range, without redundancy, and is missing
        from :attr:`mirror_pairs`. A single module is assigned, unmirrored, as above.

        The last step sets LOCK.secure_only (SPEC section 8): from then until reset only
        secure writes, the firmware's, steer the hardware; the OS may still read every
        register. The bus must issue secure accesses for that write and for every flow
        after it.

        Parameters
        ----------
        power_good_timeout_cycles : int
        lock : bool
            Set LOCK at the end (default). False leaves the registers open to non-secure
            writes, for a platform whose only manager is trusted.
        mirror : bool
            Mirror mode.
        chunk_lines : int
            SWEEP chunk of mirror mode's sweeps.

        Returns
        -------
        MemoryMap
            Also kept as :attr:`memory_map`.

        Raises
        ------
        FlowError
            A present slot did not reach power good and IDLE within
            ``power_good_timeout_cycles``, or the LOCK write was refused (the bus's
            accesses are not secure); in the latter case the memory map is published.
        """
        check_int("Power-good timeout", power_good_timeout_cycles)
        check_int("Chunk", chunk_lines)
        config = await self.hw.config()
        present = [a for a in range(config.agents) if (await self.hw.status(a)).present]
        for a in present:
            # power LED blinking: "flow in progress", as on PCIe native hot-plug
            await self.hw.set_slot(a, power_en=1, power_led=Led.BLINK, attn_led=Led.OFF)
        for a in present:
            await self._wait_powered(a, power_good_timeout_cycles)
            await self.hw.set_slot(a, power_led=Led.ON)
        capacity = {a: await self.hw.read_reg(a, "CAPACITY") for a in present}
        self.memory_map = MemoryMap(line_bytes=config.line_bytes)
        self.mirror_mode = mirror
        self.mirror_pairs = {}
        if mirror and len(present) > 1:
            plan = pair_modules(capacity)
            ranges = [(p.master, p.size_lines) for p in plan.pairs]
            spares = plan.spares
        else:
            spares = ()
            if len(present) > 1:
                spares = (max(present, key=lambda a: (capacity[a], -a)),)
            ranges = [(a, capacity[a]) for a in present if a not in spares]
        base = 0
        for a, size in ranges:
            await self.hw.write_reg(a, "BASE", base)
            await self.hw.write_reg(a, "SIZE", size)
            await self.command(a, Op.ASSIGN)
            self.memory_map.add(base, size, a)
            base += size
        if mirror and len(present) > 1:
            for pair in plan.pairs:
                try:
                    await self.mirror(pair.master, pair.slave, chunk_lines=chunk_lines)
                except FlowError as e:
                    log.error("boot: slot %d serves its range without a mirror: %s",
                              pair.master, e)
        if not present:
            log.warning("boot: no module present, nothing published")
        log.info("boot: %d modules, %s, spares %s, %d lines published", len(present),
                 f"mirror pairs {self.mirror_pairs}" if mirror else "no mirror",
                 list(spares), base)
        if lock:
            try:
                await self.hw.lock()
            except BusError as e:
                raise FlowError(f"boot: setting LOCK was refused ({e}): the platform must "
                                f"give the BIOS's register accesses secure protection "
                                f"(AxPROT[1] = 0)") from e
            log.info("boot: LOCK set, non-secure register writes are refused until reset")
        return self.memory_map

    async def _wait_powered(self, agent, timeout_cycles):
        waited = 0
        while True:
            status = await self.hw.status(agent)
            if status.power_good and status.mode == Mode.IDLE:
                return status
            if waited >= timeout_cycles:
                raise FlowError(f"slot {agent} did not reach power good and IDLE in "
                                f"{timeout_cycles} cycles (power_good={int(status.power_good)}, "
                                f"mode {status.mode.name})")
            await self.bus.pause(self.poll_cycles)
            waited += self.poll_cycles

    async def _wait_mode(self, agent, mode, timeout_cycles):
        waited = 0
        while (await self.hw.status(agent)).mode != mode:
            if waited >= timeout_cycles:
                raise FlowError(f"slot {agent} did not reach {mode.name} in "
                                f"{timeout_cycles} cycles")
            await self.bus.pause(self.poll_cycles)
            waited += self.poll_cycles

    # ---- slot power -------------------------------------------------------------------------
    async def power_on(self, slot, *, timeout_cycles=100_000):
        """Switch ``slot`` on: power LED blinking until power is good and the agent IDLE,
        then steady; attention LED off. The module is then a spare with no address.

        Raises
        ------
        FlowError
            No power good and IDLE within ``timeout_cycles``; the slot was switched off
            again (power LED off) before this is raised, so a module that never came up is
            not left half powered.
        """
        await self.hw.check_agent(slot)
        check_int("Power timeout", timeout_cycles)
        await self.hw.set_slot(slot, power_en=1, power_led=Led.BLINK, attn_led=Led.OFF)
        try:
            await self._wait_powered(slot, timeout_cycles)
        except FlowError:
            await self.hw.set_slot(slot, power_en=0, power_led=Led.OFF)
            raise
        await self.hw.set_slot(slot, power_led=Led.ON)

    async def power_off(self, slot, *, timeout_cycles=100_000):
        """Switch ``slot`` off, both LEDs off, and wait until it is OFF.

        The hardware refuses the switch-off of an agent that owns a range or is a mirror
        slave (SPEC section 4: power stays on, err POWER, cmd_done); that is read back at
        once, not waited out, and its cmd_done cleared as :meth:`command` clears a
        command's.

        Raises
        ------
        FlowError
            The hardware refused (power is still on; the LEDs were written off with the same
            write), or the agent did not reach OFF within ``timeout_cycles``.
        """
        await self.hw.check_agent(slot)
        check_int("Power timeout", timeout_cycles)
        await self.hw.set_slot(slot, power_en=0, power_led=Led.OFF, attn_led=Led.OFF)
        if (await self.hw.slot(slot))["power_en"]:
            await self.hw.clear_events(slot, Event.CMD_DONE)
            status = await self.hw.status(slot)
            raise FlowError(f"slot {slot} refused to switch off (err {status.err.name}): it "
                            f"is {status.mode.name}, and an agent that owns a range or is a "
                            f"mirror slave keeps its power")
        await self._wait_mode(slot, Mode.OFF, timeout_cycles)

    # ---- migration --------------------------------------------------------------------------
    async def pick_spare(self, size_lines, exclude=(), prefer=()):
        """The largest IDLE module with CAPACITY >= ``size_lines`` (ties: lowest slot),
        not in ``exclude``; reads registers only. With ``prefer``, a fitting module in
        ``prefer`` is taken before any other (the largest of them).

        Raises
        ------
        NoSpareError
            No such module.
        """
        check_int("Range size", size_lines)
        best = None
        for a in range(await self.hw.agents()):
            if a in exclude:
                continue
            if (await self.hw.status(a)).mode != Mode.IDLE:
                continue
            cap = await self.hw.read_reg(a, "CAPACITY")
            key = (a in prefer, cap)
            # strictly better only: on a tie the lower slot, found first, stays
            if cap >= size_lines and (best is None or key > best[1]):
                best = (a, key)
        if best is None:
            raise NoSpareError(f"no IDLE module holds {size_lines} lines"
                               + (f" (excluding slots {sorted(exclude)})" if exclude else ""))
        return best[0]

    async def migrate(self, slot, *, spare=None, chunk_lines=4096, progress=None,
                      max_sweep_retries=3, poison=False):
        """Move the range of ACTIVE ``slot`` to a spare while the OS runs; return the spare.

        The only registers written are CMD (ESTABLISH with the spare as peer, SWEEP,
        RELEASE, ABORT on failure), SWEEP_START and SWEEP_COUNT of ``slot``, and EVENTS
        (cmd_done). Each SWEEP starts at SWEPT_UPTO and covers up to ``chunk_lines``;
        ``progress(done, total)`` (plain or async) is called after each. A SWEEP stopped
        by a memory error, or a watermark cleared by a failed forwarded write, is retried
        from SWEPT_UPTO, up to ``max_sweep_retries`` times in all.

        With ``poison`` (SPEC section 7), RAS_CTRL.poison_en of ``slot`` is set after
        ESTABLISH and cleared again once the range moved or the pair was ABORTed: a line
        the sweep cannot read is copied as poison instead of stopping the SWEEP (the host
        reads it as an error before and after, as it did), so a module with bad lines
        still moves. Only for a spare in :attr:`poison_slots`.

        Parameters
        ----------
        slot : int
            The ACTIVE agent whose range moves.
        spare : int, optional
            The IDLE agent to move to; default :meth:`pick_spare` (never ``slot``).
        chunk_lines : int
            Lines per SWEEP command.
        progress : callable, optional
        max_sweep_retries : int
        poison : bool
            Copy unreadable lines as poison; the spare must be in :attr:`poison_slots`.

        Raises
        ------
        ValueError
            A bad argument (``poison`` with a spare that stores no poison included);
            nothing was written.
        FlowError
            ``slot`` is not ACTIVE (nothing written), or the flow failed after ESTABLISH:
            it was ABORTed, ``slot`` keeps serving its range, ``__cause__`` says why.
        NoSpareError
            No spare given and none fits; nothing written.
        CommandError
            ESTABLISH itself was refused (nothing changed).
        """
        await self.hw.check_agent(slot)
        check_int("Chunk", chunk_lines)
        check_int("Sweep retries", max_sweep_retries, minimum=0)
        if progress is not None and not callable(progress):
            raise ValueError(f"Progress must be callable, not {progress!r}")
        if spare is not None:
            await self.hw.check_agent(spare, "Spare")
            if spare == slot:
                raise ValueError(f"Spare must be another slot than the one migrating, "
                                 f"not {spare}")
        status = await self.hw.status(slot)
        if status.mode != Mode.ACTIVE:
            raise FlowError(f"slot {slot} is {status.mode.name}, not ACTIVE")
        size = await self.hw.read_reg(slot, "SIZE")
        if spare is None:
            spare = await self.pick_spare(size, exclude=(slot,))
        if poison and spare not in self.poison_slots:
            raise ValueError(f"Slot {spare} stores no poison (poison slots: "
                             f"{sorted(self.poison_slots)}): a migration to it cannot copy "
                             f"lines as poison")
        await self.command(slot, Op.ESTABLISH, spare)
        try:
            if poison:
                await self.hw.set_ras(slot, poison_en=1)
            await self._sweep_and_release(slot, spare, size, chunk_lines, progress,
                                          max_sweep_retries)
        except Exception as e:
            await self._abort(slot, spare, e, ras_to_clear=poison)
        if poison:
            await self.hw.set_ras(slot, poison_en=0)
        if self.memory_map is not None:
            try:
                self.memory_map.rehome(slot, spare)
            except KeyError:
                # a range set up by hand, outside boot(): the hardware moved it all the same
                log.warning("slot %d served no published range; memory map unchanged", slot)
        log.info("slot %d: range moved to slot %d", slot, spare)
        return spare

    async def _sweep_and_release(self, slot, spare, size, chunk_lines, progress,
                                 max_sweep_retries, release=True):
        """SWEEP from SWEPT_UPTO until swept, then RELEASE (unless not ``release``); raise
        on what cannot be retried (the caller ABORTs)."""
        retries = 0
        reached = 0
        while True:
            done = await self.hw.read_reg(slot, "SWEPT_UPTO")
            if done >= size and not release:
                return
            if done >= size:
                try:
                    await self.command(slot, Op.RELEASE)
                    return
                except error_for(Err.NOT_SWEPT):
                    # a forwarded write failed after the last SWEEP and cleared the
                    # watermark: sweep again (counted below as the watermark fell)
                    done = await self.hw.read_reg(slot, "SWEPT_UPTO")
            if done < reached:
                # a forwarded write failed at the spare and cleared the watermark
                retries += 1
                log.warning("slot %d: SWEPT_UPTO fell from %d to %d (write error at slot %d), "
                            "retry %d", slot, reached, done, spare, retries)
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
                result = progress(reached, size)
                if inspect.isawaitable(result):
                    await result

    async def _abort(self, slot, spare, cause, *, ras_to_clear=False, what="migration"):
        """ABORT a failed migration if the mirror is still there, then raise FlowError.
        ``ras_to_clear``: RAS_CTRL of ``slot`` is put back to 0 once the pair is gone."""
        text = f"{what} of slot {slot} to slot {spare} failed"
        try:
            if (await self.hw.status(slot)).mode == Mode.MIRROR_MASTER:
                await self.command(slot, Op.ABORT)
            if ras_to_clear:
                await self.hw.write_reg(slot, "RAS_CTRL", 0)
        except Exception as abort_error:
            # e.g. a SWEEP that timed out is still busy and ABORT answers BUSY
            log.error("slot %d: ABORT after a failed migration failed too: %s", slot,
                      abort_error)
            raise FlowError(f"{text} and could not be aborted ({abort_error}): "
                            f"{cause}") from cause
        log.warning("slot %d: %s, aborted: %s", slot, text, cause)
        raise FlowError(f"{text} and was aborted: {cause}") from cause

    # ---- mirror mode ------------------------------------------------------------------------
    async def mirror(self, master, slave, *, chunk_lines=4096, progress=None,
                     max_sweep_retries=3):
        """Make ACTIVE ``master`` and IDLE ``slave`` a redundant pair: ESTABLISH, SWEEP the
        whole range (in chunks, retried from SWEPT_UPTO as :meth:`migrate` does), then set
        RAS_CTRL.failover_en of the master (SPEC section 7: a read error at the master is
        served by the slave, and if the master dies the slave takes the range over).
        Records the pair in :attr:`mirror_pairs`.

        failover_en is set only once the pair is swept: before that the slave's copy is
        not whole, and the hardware would not fail over anyway.

        Raises
        ------
        ValueError
            A bad argument; nothing was written.
        FlowError
            ``master`` is not ACTIVE (nothing written), or the sweep failed: the pair was
            ABORTed, the master serves its range alone.
        CommandError
            ESTABLISH was refused (nothing changed).
        """
        await self.hw.check_agent(master)
        await self.hw.check_agent(slave, "Slave")
        check_int("Chunk", chunk_lines)
        check_int("Sweep retries", max_sweep_retries, minimum=0)
        if progress is not None and not callable(progress):
            raise ValueError(f"Progress must be callable, not {progress!r}")
        if slave == master:
            raise ValueError(f"Slave must be another slot than the master, not {slave}")
        status = await self.hw.status(master)
        if status.mode != Mode.ACTIVE:
            raise FlowError(f"slot {master} is {status.mode.name}, not ACTIVE")
        size = await self.hw.read_reg(master, "SIZE")
        await self.command(master, Op.ESTABLISH, slave)
        try:
            await self._sweep_and_release(master, slave, size, chunk_lines, progress,
                                          max_sweep_retries, release=False)
            await self.hw.set_ras(master, failover_en=1)
        except Exception as e:
            await self._abort(master, slave, e, ras_to_clear=True, what="mirroring")
        self.mirror_pairs[master] = slave
        log.info("slot %d: mirrored on slot %d, failover enabled", master, slave)

    async def resync(self, master, *, chunk_lines=4096, max_sweep_retries=3):
        """SWEEP a mirror pair again from SWEPT_UPTO to SIZE (a failed forwarded write
        cleared the watermark, SPEC section 5.4), so that it is redundant again.

        Raises
        ------
        FlowError
            ``master`` is not a MIRROR_MASTER (nothing written), or the sweep cannot
            finish; the pair stays established (its master serves the range) and is
            left to the caller.
        """
        await self.hw.check_agent(master)
        check_int("Chunk", chunk_lines)
        status = await self.hw.status(master)
        if status.mode != Mode.MIRROR_MASTER:
            raise FlowError(f"slot {master} is {status.mode.name}, not MIRROR_MASTER")
        size = await self.hw.read_reg(master, "SIZE")
        try:
            await self._sweep_and_release(master, status.peer, size, chunk_lines, None,
                                          max_sweep_retries, release=False)
        except Exception as e:
            raise FlowError(f"slot {master}: the mirror on slot {status.peer} could not be "
                            f"swept again: {e}") from e

    async def hand_over(self, master, *, chunk_lines=4096, max_sweep_retries=3):
        """Move the range of a mirror pair's master to its slave, which holds a copy: SWEEP
        what is not swept (nothing, normally), RELEASE, then RAS_CTRL of the old master
        back to 0. The old master is IDLE afterwards; return the slave, now ACTIVE.

        failover_en stays set until RELEASE, so that the range fails over if the master
        dies meanwhile. The published map is unchanged; :attr:`memory_map` records the new
        owner, :attr:`mirror_pairs` forgets the pair.

        Raises
        ------
        FlowError
            ``master`` is not a MIRROR_MASTER (nothing written), or the sweep or RELEASE
            failed: the pair stays established, the master serves the range.
        """
        await self.hw.check_agent(master)
        check_int("Chunk", chunk_lines)
        status = await self.hw.status(master)
        if status.mode != Mode.MIRROR_MASTER:
            raise FlowError(f"slot {master} is {status.mode.name}, not MIRROR_MASTER")
        slave = status.peer
        size = await self.hw.read_reg(master, "SIZE")
        try:
            await self._sweep_and_release(master, slave, size, chunk_lines, None,
                                          max_sweep_retries)
        except Exception as e:
            raise FlowError(f"hand-over of slot {master} to its mirror on slot {slave} "
                            f"failed, the pair stays: {e}") from e
        await self.hw.write_reg(master, "RAS_CTRL", 0)
        self.mirror_pairs.pop(master, None)
        self._rehome(master, slave)
        log.info("slot %d: range handed over to its mirror on slot %d", master, slave)
        return slave

    async def unmirror(self, master):
        """End a mirror pair without moving the range: ABORT (the master is ACTIVE again,
        the slave IDLE), then RAS_CTRL of the master back to 0; return the former slave.

        Raises
        ------
        FlowError
            ``master`` is not a MIRROR_MASTER; nothing written.
        CommandError
            ABORT was refused (BUSY: a SWEEP runs); nothing changed.
        """
        await self.hw.check_agent(master)
        status = await self.hw.status(master)
        if status.mode != Mode.MIRROR_MASTER:
            raise FlowError(f"slot {master} is {status.mode.name}, not MIRROR_MASTER")
        await self.command(master, Op.ABORT)
        await self.hw.write_reg(master, "RAS_CTRL", 0)
        self.mirror_pairs.pop(master, None)
        log.info("slot %d: mirror on slot %d ended, the slot serves its range alone", master,
                 status.peer)
        return status.peer

    def failed_over(self, master, slave):
        """Record that the hardware moved ``master``'s range to ``slave`` by itself (SPEC
        section 7, master failover): :attr:`memory_map` and :attr:`mirror_pairs` follow.
        No register access."""
        self.mirror_pairs.pop(master, None)
        self._rehome(master, slave)

    def _rehome(self, old, new):
        if self.memory_map is not None:
            try:
                self.memory_map.rehome(old, new)
            except KeyError:
                log.warning("slot %d served no published range; memory map unchanged", old)

    # ---- status -----------------------------------------------------------------------------
    async def read_memory_map(self):
        """The memory map as the hardware serves it now, read from the registers.

        One range per agent that owns one (ACTIVE or MIRROR_MASTER), from its BASE and SIZE,
        served by that agent. A migration moves a range to another agent and never changes
        it, so this is the map :meth:`boot` published, with today's owners, for as long as
        no module serving a range was pulled (its range then has no owner and is missing).
        What a BIOS that did not boot the machine itself (a command-line tool attached to a
        running board) knows of the published map; :attr:`memory_map` is left as it is.
        """
        mm = MemoryMap(line_bytes=(await self.hw.config()).line_bytes)
        for a in range(await self.hw.agents()):
            if (await self.hw.status(a)).mode in OWNING:
                mm.add(await self.hw.read_reg(a, "BASE"), await self.hw.read_reg(a, "SIZE"), a)
        return mm

    async def slot_table(self):
        """One dict per agent with the keys of :func:`format_slot_table`."""
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

    @staticmethod
    def format_slot_table(rows):
        return format_slot_table(rows)


_COLUMNS = ("slot", "present", "power_good", "mode", "base", "size", "capacity", "peer",
            "swept_upto", "err")


def format_slot_table(rows):
    """A text table of :meth:`Bios.slot_table` rows, one line per slot, right-aligned
    columns, booleans as 0/1."""
    cells = [[str(int(r[c]) if isinstance(r[c], bool) else r[c]) for c in _COLUMNS]
             for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(_COLUMNS)]

    def line(values):
        return "  ".join(v.rjust(w) for v, w in zip(values, widths))

    return "\n".join([line(_COLUMNS)] + [line(row) for row in cells])
