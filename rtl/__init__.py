"""mirrorswap gateware: Amaranth 0.5 components, and nothing else.

The top level is :class:`MirrorswapTop`; the register map it implements is
:mod:`mirrorswap.regmap` (plain Python, shared with the firmware and the tests).
"""

from .top import MirrorswapTop

__all__ = ["MirrorswapTop"]
