"""The line and page geometry of a build (SPEC section 1), for gateware, firmware and benches.

A *line* is one beat of the data bus: ``DATA_WIDTH / 8`` bytes (8 by default, 64 at 512
bits, a server's cache line). Ranges (BASE, SIZE) are counted in lines and are multiples
of a 4 KiB page, ``page_lines`` lines; an AXI burst never crosses a page. Everything that
depends on the width derives from one :class:`Geometry`, so that the gateware, the
firmware (which reads the line size from CONFIG) and the benches agree. Plain Python: the
firmware imports it on a board.
"""

from dataclasses import dataclass

__all__ = ["PAGE_BYTES", "DATA_WIDTHS", "Geometry", "DEFAULT"]

#: Bytes of a page: BASE and SIZE are multiples of it, and no AXI burst crosses one.
PAGE_BYTES = 4096
#: The data widths a build may have (SPEC section 1).
DATA_WIDTHS = (64, 128, 256, 512)


@dataclass(frozen=True)
class Geometry:
    """The geometry of one data width.

    Parameters
    ----------
    data_width : int
        Data bits of the host and memory ports, one of :data:`DATA_WIDTHS`.

    Raises
    ------
    ValueError
        ``data_width`` is not one of :data:`DATA_WIDTHS`.
    """

    data_width: int = 64

    def __post_init__(self):
        if self.data_width not in DATA_WIDTHS:
            raise ValueError(f"Data width must be one of "
                             f"{', '.join(map(str, DATA_WIDTHS))} bits, not {self.data_width!r}")

    @classmethod
    def from_line_bytes(cls, line_bytes):
        """The geometry whose line is ``line_bytes`` bytes (CONFIG's field)."""
        return cls(data_width=line_bytes * 8)

    @property
    def line_bytes(self):
        """Bytes per line (one beat)."""
        return self.data_width // 8

    @property
    def line_shift(self):
        """log2 of :attr:`line_bytes`: byte address = line << line_shift; the AXI size of a
        full beat."""
        return self.line_bytes.bit_length() - 1

    @property
    def page_lines(self):
        """Lines per 4 KiB page: BASE and SIZE are multiples of it (*P* in the SPEC)."""
        return PAGE_BYTES // self.line_bytes

    @property
    def page_shift(self):
        """log2 of :attr:`page_lines`."""
        return self.page_lines.bit_length() - 1

    @property
    def max_addr_width(self):
        """The widest byte address: line numbers fit the 32-bit registers."""
        return 32 + self.line_shift

    def lines(self, nbytes):
        """Lines of ``nbytes`` bytes (rounded up)."""
        return -(-nbytes // self.line_bytes)


#: The default build's geometry (64-bit data, 8-byte lines, 512 lines per page).
DEFAULT = Geometry()
