"""mirrorswap gateware (Amaranth 0.5).

``rtl.regmap`` is plain Python with no Amaranth import, so the firmware can use it on a
board without the HDL toolchain.
"""
