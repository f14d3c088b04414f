"""The example FPGA top: mirrorswap with block-RAM modules behind one AXI4-Lite port
(:mod:`.board`), the block RAM (:mod:`.bram`) and the bridge (:mod:`.bridge`)."""
