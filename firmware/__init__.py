"""The mirrorswap BIOS model: the firmware of SPEC section 6, run in simulation or on a board.

Three layers, as in Glasgow's applets, each using only the public API of the one below:

1. **Registers.** :mod:`~mirrorswap.firmware.regbus` is the abstract bus (``read32``,
   ``write32``, ``pause``, ``spawn``, ``wait_irq``) with two backends: a cocotb AXI4-Lite
   master in simulation (:class:`~mirrorswap.firmware.regbus.AxiLiteBus`) and a
   memory-mapped register block on a board
   (:class:`~mirrorswap.firmware.regbus.MemoryMappedBus`). Their accesses must be secure
   (SPEC section 8): boot ends by setting LOCK, and from then on the hardware refuses
   every non-secure register write.
   :mod:`~mirrorswap.firmware.hw` gives typed access on top of it: registers and fields
   by name, every offset and bit position from :mod:`mirrorswap.regmap`, no policy.
2. **Flows.** :mod:`~mirrorswap.firmware.bios` runs the flows to completion (boot, one
   command, migration, slot power, the memory map of :mod:`~mirrorswap.firmware.memmap`,
   the slot table, mirror mode); :mod:`~mirrorswap.firmware.hotplug` decides when to run
   them (slot buttons, interrupts, error counts reaching a threshold, failovers, direct
   calls) and shows the user their outcome on the slot LEDs. The RAS policy they decide
   with (error totals, mirror pairing) is pure Python in :mod:`~mirrorswap.firmware.ras`.
   Their failures are the exceptions of :mod:`~mirrorswap.firmware.errors`.
3. **Command line.** :mod:`~mirrorswap.firmware.cli` parses arguments, opens a board's
   register block, calls one flow and prints what the board shows.

The flows reach the hardware only through the bus, so the same code runs on the RTL in a
cocotb bench and on a board; the tests of layers 1 and 2 against the RTL are
``tests/test_firmware.py`` and ``tests/test_hotplug.py``.
"""
