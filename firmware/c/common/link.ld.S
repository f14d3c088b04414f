/* Linker script of both SoC CPUs, run through the C preprocessor (cbuild.py) so that
 * every number comes from soc_map.h, which soc/map.py generates.
 *
 * One RAM from SOC_RAM_BASE: code first (the reset vector at 0, the IRQ entry at
 * PROGADDR_IRQ, both in .text.start), then read-only data, data, .bss; the stack grows
 * down from SOC_STACK_TOP. The image (bios.hex / workload.hex) is the RAM's initial
 * contents up to the end of .data; start.S zeroes .bss.
 */
#include "soc_map.h"

OUTPUT_ARCH(riscv)
ENTRY(_reset)

MEMORY
{
    RAM (rwx) : ORIGIN = SOC_RAM_BASE, LENGTH = SOC_RAM_BYTES
}

/* the stack the linker keeps free below SOC_STACK_TOP */
_stack_bytes = 2048;
_stack_top = SOC_STACK_TOP;

SECTIONS
{
    .text : {
        KEEP(*(.text.start))
        *(.text .text.*)
    } > RAM
    .rodata : ALIGN(4) {
        *(.rodata .rodata.* .srodata .srodata.*)
    } > RAM
    .data : ALIGN(4) {
        *(.data .data.* .sdata .sdata.*)
        . = ALIGN(4);
        _image_end = .;
    } > RAM
    .bss (NOLOAD) : ALIGN(4) {
        _bss_start = .;
        *(.bss .bss.* .sbss .sbss.* COMMON)
        . = ALIGN(4);
        _bss_end = .;
    } > RAM
    /DISCARD/ : { *(.comment) *(.riscv.attributes) *(.note*) *(.eh_frame*) }
    ASSERT(_bss_end + _stack_bytes <= _stack_top, "image, .bss and stack do not fit the RAM")
}
