"""The mirrorswap BIOS model.

Three layers, as in Glasgow's applets: a register bus (:mod:`firmware.regbus`: cocotb
AXI4-Lite in simulation, an mmap'd device on a board), typed register access
(:mod:`firmware.hw`), and the flows (:mod:`firmware.bios`). The flows reach the hardware
only through the bus, so they run unchanged in simulation and on a board.
"""
