"""The PicoRV32 SoC on mirrorswap (issue 24)."""
