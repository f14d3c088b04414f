"""RAS policy of the BIOS model (SPEC sections 6 and 7), in pure Python: no register access.

The flows (:mod:`firmware.bios`, :mod:`firmware.hotplug`) read the registers and act; this
module holds what they decide with, so that it is tested without hardware:

- :class:`ErrorTotals`: each slot's corrected and uncorrected errors, counted from
  readings of CE_COUNT and UE_COUNT that the firmware never clears.
- :func:`pair_modules`: which modules mirror mode pairs, which one of each pair is the
  master, and how many lines each pair publishes.
- :class:`ErrorEvent` and :func:`format_ras_table`: what the event loop and the command
  line report.
"""

from dataclasses import dataclass
from typing import NamedTuple

from mirrorswap.regmap import Event
from .errors import check_int

__all__ = ["COUNT_MAX", "RAS_EVENTS", "ErrorTotals", "ErrorEvent", "MirrorPair",
           "MirrorPlan", "pair_modules", "format_ras_table"]

#: CE_COUNT and UE_COUNT saturate here.
COUNT_MAX = 0xFFFF_FFFF

#: The events of SPEC section 7 that the RAS part of the event loop handles.
RAS_EVENTS = Event.MEM_ERROR | Event.CORRECTED | Event.FAILOVER


class ErrorTotals:
    """Corrected and uncorrected errors per slot, from successive readings of the slot's
    CE_COUNT and UE_COUNT.

    The firmware does not clear the counters: a count that lands between the read that
    saw the value and the clearing write would be lost (a write replaces the count). It
    keeps the last reading of each counter instead and adds what the counter grew by. A
    reading below the previous one means someone else cleared it (the command line, another
    manager): everything the counter now holds is new. A counter stuck at
    :data:`COUNT_MAX` adds nothing more (it saturated: the total is then a lower bound).

    The totals belong to the module in the slot: :meth:`forget` starts them again at 0 for
    a new module, keeping the readings as the baseline (the hardware counters are not reset
    by power).

    Invariants: totals never decrease except through :meth:`forget`; a sequence of readings
    of a counter that only grows adds up to the last reading minus the first baseline.
    """

    def __init__(self):
        self._seen = {}      # slot -> (CE_COUNT, UE_COUNT) as last read
        self._totals = {}    # slot -> [corrected, uncorrected]

    def update(self, slot, ce, ue):
        """Account a reading of ``slot``'s CE_COUNT ``ce`` and UE_COUNT ``ue``; return the
        slot's ``(corrected, uncorrected)`` totals."""
        check_int("CE_COUNT", ce, minimum=0)
        check_int("UE_COUNT", ue, minimum=0)
        if ce > COUNT_MAX or ue > COUNT_MAX:
            raise ValueError(f"Counts are 32-bit, not {ce:#x} and {ue:#x}")
        seen = self._seen.get(slot, (0, 0))
        totals = self._totals.setdefault(slot, [0, 0])
        for i, (now, before) in enumerate(zip((ce, ue), seen)):
            totals[i] += now - before if now >= before else now
        self._seen[slot] = (ce, ue)
        return tuple(totals)

    def totals(self, slot):
        """``(corrected, uncorrected)`` of ``slot`` so far."""
        return tuple(self._totals.get(slot, (0, 0)))

    def total(self, slot):
        """Corrected plus uncorrected errors of ``slot`` so far."""
        return sum(self.totals(slot))

    def forget(self, slot):
        """A new module (or none) in ``slot``: its totals start at 0 again."""
        self._totals.pop(slot, None)


@dataclass(frozen=True)
class ErrorEvent:
    """One RAS event as the event loop handled it.

    Members
    -------
    slot : int
    events : Event
        The bits of :data:`RAS_EVENTS` that were set.
    ce, ue : int
        CE_COUNT and UE_COUNT as read then.
    err_addr : int
        ERR_ADDR as read then (line offset in the module of the last memory error).
    total : int
        The slot's errors (corrected + uncorrected) counted so far, this event included.
    """

    slot: int
    events: Event
    ce: int
    ue: int
    err_addr: int
    total: int


class MirrorPair(NamedTuple):
    """A mirror pair of mirror mode: ``master`` serves ``size_lines`` (its CAPACITY),
    which fit in ``slave``'s CAPACITY."""

    master: int
    slave: int
    size_lines: int


class MirrorPlan(NamedTuple):
    """:func:`pair_modules`' answer: the pairs, in master slot order (the order their
    consecutive ranges are given), and the modules left as spares, in slot order."""

    pairs: tuple
    spares: tuple

    @property
    def total_lines(self):
        """Lines published: the sum of the masters' ranges."""
        return sum(p.size_lines for p in self.pairs)


def pair_modules(capacities):
    """Pair modules for mirror mode so that the published memory is as large as it can be.

    A pair publishes the smaller module's capacity (the master's range must fit the
    slave: ESTABLISH refuses a peer smaller than SIZE), so the master is the smaller
    module of its pair (on a tie, the lower slot) and its range is its whole CAPACITY.
    Sorting the modules by capacity (largest first, lower slot first on a tie) and pairing
    neighbours maximises the sum of the pairs' smaller capacities; with an odd count the
    smallest module (the last in that order) is left over and stays a spare.

    Parameters
    ----------
    capacities : dict of int to int
        CAPACITY in lines of each present module, by slot.

    Returns
    -------
    MirrorPlan

    Raises
    ------
    ValueError
        A capacity that is not a positive integer.
    """
    for slot, cap in capacities.items():
        check_int(f"Capacity of slot {slot}", cap)
    order = sorted(capacities, key=lambda s: (-capacities[s], s))
    pairs = []
    for a, b in zip(order[0::2], order[1::2]):
        # b is the smaller (or equal, higher-slot) one; a tie goes to the lower slot
        master, slave = (b, a) if capacities[b] < capacities[a] else (min(a, b), max(a, b))
        pairs.append(MirrorPair(master, slave, capacities[master]))
    spares = tuple(sorted(order[2 * len(pairs):]))
    return MirrorPlan(tuple(sorted(pairs)), spares)


_COLUMNS = ("slot", "mode", "ce_count", "ue_count", "failover_en", "poison_en", "err_addr",
            "events")


def _events_text(events):
    names = [e.name.lower() for e in Event if e & events & RAS_EVENTS]
    return ",".join(names) if names else "-"


def format_ras_table(rows):
    """A text table of one row per agent: ``slot``, ``mode`` (a name), and a
    :class:`~firmware.hw.RasStatus` as ``ras``. Columns right-aligned; ``events`` lists
    the RAS events pending in EVENTS (not yet cleared by the firmware), ``-`` for none."""
    cells = []
    for row in rows:
        ras = row["ras"]
        cells.append([str(row["slot"]), row["mode"], str(ras.ce), str(ras.ue),
                      str(int(ras.failover_en)), str(int(ras.poison_en)), str(ras.err_addr),
                      _events_text(ras.events)])
    widths = [max(len(c), *(len(r[i]) for r in cells)) if cells else len(c)
              for i, c in enumerate(_COLUMNS)]

    def line(values):
        return "  ".join(v.rjust(w) for v, w in zip(values, widths))

    return "\n".join([line(_COLUMNS)] + [line(r) for r in cells])
