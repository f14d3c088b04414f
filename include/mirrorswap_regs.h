/* mirrorswap register map for C firmware.
 *
 * Generated from regmap/regs.rdl by `make regs` (regmap/generate.py); do not edit.
 *
 * Memory hot-swap: home agents, mirror pairs, sweep and atomic release.
 *
 * Every register is one 32-bit word. The structs are not packed: their members sit at
 * their natural alignment, so the compiler accesses each register with one 32-bit
 * load or store, as CMD and the write-1-to-clear EVENTS need. Read-only registers are
 * `const volatile`.
 *
 * Before including it, define MIRRORSWAP_BASE_ADDR, the address of the register
 * block in the CPU's address map (it has no default: at address 0 the compiler may
 * take MIRRORSWAP for a null pointer and compile its accesses as traps), and
 * MIRRORSWAP_AGENTS when the hardware was built with other than the default agents
 * (CONFIG.agents tells).
 *
 *     MIRRORSWAP->agent[i].CMD =
 *         MIRRORSWAP_PUT(MIRRORSWAP_CMD_OPCODE, MIRRORSWAP_OP_ESTABLISH)
 *         | MIRRORSWAP_PUT(MIRRORSWAP_CMD_PEER, j);
 *     mode = MIRRORSWAP_GET(MIRRORSWAP_STATUS_MODE, MIRRORSWAP->agent[i].STATUS);
 */
#ifndef MIRRORSWAP_REGS_H
#define MIRRORSWAP_REGS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Agents the hardware was built with (the RDL's AGENTS parameter by default). */
#ifndef MIRRORSWAP_AGENTS
#define MIRRORSWAP_AGENTS 4
#endif
#define MIRRORSWAP_MAX_AGENTS 16
#if MIRRORSWAP_AGENTS < 1 || MIRRORSWAP_AGENTS > MIRRORSWAP_MAX_AGENTS
#error "MIRRORSWAP_AGENTS must be 1 to 16"
#endif

/* Agent i's registers are at MIRRORSWAP_AGENT_BASE + MIRRORSWAP_AGENT_STRIDE * i. */
#define MIRRORSWAP_AGENT_BASE 0x100u
#define MIRRORSWAP_AGENT_STRIDE 0x40u
#define MIRRORSWAP_AGENT_OFFSET(i, reg) \
    (MIRRORSWAP_AGENT_BASE + MIRRORSWAP_AGENT_STRIDE * (uint32_t)(i) \
     + MIRRORSWAP_##reg##_OFFSET)

/* Field F of a register value, and a value with field F set to x (other bits 0). */
#define MIRRORSWAP_GET(F, value) (((uint32_t)(value) & F##_MASK) >> F##_SHIFT)
#define MIRRORSWAP_PUT(F, x) (((uint32_t)(x) << F##_SHIFT) & F##_MASK)

/* Global registers: offsets, reset values and fields. */
/* ID (global 0x00, RO): Identification. */
#define MIRRORSWAP_ID_OFFSET 0x00u
#define MIRRORSWAP_ID_RESET 0x48535750u
#define MIRRORSWAP_ID_ID_SHIFT 0
#define MIRRORSWAP_ID_ID_WIDTH 32
#define MIRRORSWAP_ID_ID_MASK 0xffffffffu  /* [31:0] Always 0x48535750 (HSWP). */

/* CONFIG (global 0x04, RO): Elaboration parameters. */
#define MIRRORSWAP_CONFIG_OFFSET 0x04u
#define MIRRORSWAP_CONFIG_RESET 0x00000000u
#define MIRRORSWAP_CONFIG_AGENTS_SHIFT 0
#define MIRRORSWAP_CONFIG_AGENTS_WIDTH 8
#define MIRRORSWAP_CONFIG_AGENTS_MASK 0x000000ffu  /* [7:0] Number of agents. */
#define MIRRORSWAP_CONFIG_LINE_BYTES_SHIFT 8
#define MIRRORSWAP_CONFIG_LINE_BYTES_WIDTH 8
#define MIRRORSWAP_CONFIG_LINE_BYTES_MASK 0x0000ff00u  /* [15:8] Bytes per line. */
#define MIRRORSWAP_CONFIG_MAX_CAPACITY_LOG2_SHIFT 16
#define MIRRORSWAP_CONFIG_MAX_CAPACITY_LOG2_WIDTH 8
#define MIRRORSWAP_CONFIG_MAX_CAPACITY_LOG2_MASK 0x00ff0000u  /* [23:16] log2 of the largest module in lines. */

/* DEBOUNCE (global 0x08, RW): Cycles a button level must be stable to count. */
#define MIRRORSWAP_DEBOUNCE_OFFSET 0x08u
#define MIRRORSWAP_DEBOUNCE_RESET 0x00000010u
#define MIRRORSWAP_DEBOUNCE_CYCLES_SHIFT 0
#define MIRRORSWAP_DEBOUNCE_CYCLES_WIDTH 16
#define MIRRORSWAP_DEBOUNCE_CYCLES_MASK 0x0000ffffu  /* [15:0] Debounce time in cycles. */

/* BLINK (global 0x0c, RW): Cycles per half period of a blinking LED. */
#define MIRRORSWAP_BLINK_OFFSET 0x0cu
#define MIRRORSWAP_BLINK_RESET 0x00000040u
#define MIRRORSWAP_BLINK_CYCLES_SHIFT 0
#define MIRRORSWAP_BLINK_CYCLES_WIDTH 16
#define MIRRORSWAP_BLINK_CYCLES_MASK 0x0000ffffu  /* [15:0] Half period in cycles. */

/* IRQ_SUMMARY (global 0x10, RO): Bit i: agent i has an event that is enabled. */
#define MIRRORSWAP_IRQ_SUMMARY_OFFSET 0x10u
#define MIRRORSWAP_IRQ_SUMMARY_RESET 0x00000000u
#define MIRRORSWAP_IRQ_SUMMARY_AGENTS_SHIFT 0
#define MIRRORSWAP_IRQ_SUMMARY_AGENTS_WIDTH 16
#define MIRRORSWAP_IRQ_SUMMARY_AGENTS_MASK 0x0000ffffu  /* [15:0] One bit per agent. */

/* LOCK (global 0x14, RW1S): Security lock (SPEC section 8); only a secure write (AWPROT[1] = 0) reaches it, a non-secure one answers SLVERR even while it is clear. */
#define MIRRORSWAP_LOCK_OFFSET 0x14u
#define MIRRORSWAP_LOCK_RESET 0x00000000u
#define MIRRORSWAP_LOCK_SECURE_ONLY_SHIFT 0
#define MIRRORSWAP_LOCK_SECURE_ONLY_WIDTH 1
#define MIRRORSWAP_LOCK_SECURE_ONLY_MASK 0x00000001u  /* [0] Set by a secure write of 1, cleared only by reset; while set, every non-secure write answers SLVERR and changes nothing. */

/* Agent registers: offsets within an agent's block, reset values and fields. */
/* STATUS (agent 0x00, RO): Agent state. */
#define MIRRORSWAP_STATUS_OFFSET 0x00u
#define MIRRORSWAP_STATUS_RESET 0x00000000u
#define MIRRORSWAP_STATUS_MODE_SHIFT 0
#define MIRRORSWAP_STATUS_MODE_WIDTH 3
#define MIRRORSWAP_STATUS_MODE_MASK 0x00000007u  /* [2:0] Agent mode. */
#define MIRRORSWAP_STATUS_BUSY_SHIFT 4
#define MIRRORSWAP_STATUS_BUSY_WIDTH 1
#define MIRRORSWAP_STATUS_BUSY_MASK 0x00000010u  /* [4] A command is executing. */
#define MIRRORSWAP_STATUS_SWEPT_SHIFT 5
#define MIRRORSWAP_STATUS_SWEPT_WIDTH 1
#define MIRRORSWAP_STATUS_SWEPT_MASK 0x00000020u  /* [5] SWEPT_UPTO >= SIZE. */
#define MIRRORSWAP_STATUS_PEER_SHIFT 8
#define MIRRORSWAP_STATUS_PEER_WIDTH 4
#define MIRRORSWAP_STATUS_PEER_MASK 0x00000f00u  /* [11:8] Mirror peer (master: its slave; slave: its master). */
#define MIRRORSWAP_STATUS_ERR_SHIFT 16
#define MIRRORSWAP_STATUS_ERR_WIDTH 4
#define MIRRORSWAP_STATUS_ERR_MASK 0x000f0000u  /* [19:16] Error of the last command. */
#define MIRRORSWAP_STATUS_PRESENT_SHIFT 24
#define MIRRORSWAP_STATUS_PRESENT_WIDTH 1
#define MIRRORSWAP_STATUS_PRESENT_MASK 0x01000000u  /* [24] A module is seated. */
#define MIRRORSWAP_STATUS_POWER_GOOD_SHIFT 25
#define MIRRORSWAP_STATUS_POWER_GOOD_WIDTH 1
#define MIRRORSWAP_STATUS_POWER_GOOD_MASK 0x02000000u  /* [25] The slot's supply is up. */

/* CMD (agent 0x04, WO): Command; a write while busy is refused with err BUSY. */
#define MIRRORSWAP_CMD_OFFSET 0x04u
#define MIRRORSWAP_CMD_RESET 0x00000000u
#define MIRRORSWAP_CMD_OPCODE_SHIFT 0
#define MIRRORSWAP_CMD_OPCODE_WIDTH 4
#define MIRRORSWAP_CMD_OPCODE_MASK 0x0000000fu  /* [3:0] Command opcode. */
#define MIRRORSWAP_CMD_PEER_SHIFT 8
#define MIRRORSWAP_CMD_PEER_WIDTH 4
#define MIRRORSWAP_CMD_PEER_MASK 0x00000f00u  /* [11:8] Peer agent argument. */

/* BASE (agent 0x08, RW): First line of the range (multiple of 512). */
#define MIRRORSWAP_BASE_OFFSET 0x08u
#define MIRRORSWAP_BASE_RESET 0x00000000u
#define MIRRORSWAP_BASE_LINE_SHIFT 0
#define MIRRORSWAP_BASE_LINE_WIDTH 32
#define MIRRORSWAP_BASE_LINE_MASK 0xffffffffu  /* [31:0] First line. */

/* SIZE (agent 0x0c, RW): Lines in the range (multiple of 512). */
#define MIRRORSWAP_SIZE_OFFSET 0x0cu
#define MIRRORSWAP_SIZE_RESET 0x00000000u
#define MIRRORSWAP_SIZE_LINES_SHIFT 0
#define MIRRORSWAP_SIZE_LINES_WIDTH 32
#define MIRRORSWAP_SIZE_LINES_MASK 0xffffffffu  /* [31:0] Lines in range. */

/* CAPACITY (agent 0x10, RO): Lines in the seated module, 0 when none. */
#define MIRRORSWAP_CAPACITY_OFFSET 0x10u
#define MIRRORSWAP_CAPACITY_RESET 0x00000000u
#define MIRRORSWAP_CAPACITY_LINES_SHIFT 0
#define MIRRORSWAP_CAPACITY_LINES_WIDTH 32
#define MIRRORSWAP_CAPACITY_LINES_MASK 0xffffffffu  /* [31:0] Module capacity in lines. */

/* SWEEP_START (agent 0x14, RW): First line offset of the next SWEEP. */
#define MIRRORSWAP_SWEEP_START_OFFSET 0x14u
#define MIRRORSWAP_SWEEP_START_RESET 0x00000000u
#define MIRRORSWAP_SWEEP_START_LINE_SHIFT 0
#define MIRRORSWAP_SWEEP_START_LINE_WIDTH 32
#define MIRRORSWAP_SWEEP_START_LINE_MASK 0xffffffffu  /* [31:0] First line offset. */

/* SWEEP_COUNT (agent 0x18, RW): Lines the next SWEEP copies. */
#define MIRRORSWAP_SWEEP_COUNT_OFFSET 0x18u
#define MIRRORSWAP_SWEEP_COUNT_RESET 0x00000000u
#define MIRRORSWAP_SWEEP_COUNT_LINES_SHIFT 0
#define MIRRORSWAP_SWEEP_COUNT_LINES_WIDTH 32
#define MIRRORSWAP_SWEEP_COUNT_LINES_MASK 0xffffffffu  /* [31:0] Line count. */

/* SWEPT_UPTO (agent 0x1c, RO): Lines [0, SWEPT_UPTO) are known equal on master and slave. */
#define MIRRORSWAP_SWEPT_UPTO_OFFSET 0x1cu
#define MIRRORSWAP_SWEPT_UPTO_RESET 0x00000000u
#define MIRRORSWAP_SWEPT_UPTO_LINES_SHIFT 0
#define MIRRORSWAP_SWEPT_UPTO_LINES_WIDTH 32
#define MIRRORSWAP_SWEPT_UPTO_LINES_MASK 0xffffffffu  /* [31:0] Swept watermark. */

/* THROTTLE (agent 0x20, RW): At least this many cycles between two sweep line copies. */
#define MIRRORSWAP_THROTTLE_OFFSET 0x20u
#define MIRRORSWAP_THROTTLE_RESET 0x00000000u
#define MIRRORSWAP_THROTTLE_CYCLES_SHIFT 0
#define MIRRORSWAP_THROTTLE_CYCLES_WIDTH 16
#define MIRRORSWAP_THROTTLE_CYCLES_MASK 0x0000ffffu  /* [15:0] Throttle cycles (0: back to back). */

/* ERR_ADDR (agent 0x24, RO): Line offset of the last memory error. */
#define MIRRORSWAP_ERR_ADDR_OFFSET 0x24u
#define MIRRORSWAP_ERR_ADDR_RESET 0x00000000u
#define MIRRORSWAP_ERR_ADDR_LINE_SHIFT 0
#define MIRRORSWAP_ERR_ADDR_LINE_WIDTH 32
#define MIRRORSWAP_ERR_ADDR_LINE_MASK 0xffffffffu  /* [31:0] Failing line offset. */

/* SLOT_CTRL (agent 0x28, RW): Slot power and LEDs. */
#define MIRRORSWAP_SLOT_CTRL_OFFSET 0x28u
#define MIRRORSWAP_SLOT_CTRL_RESET 0x00000000u
#define MIRRORSWAP_SLOT_CTRL_POWER_EN_SHIFT 0
#define MIRRORSWAP_SLOT_CTRL_POWER_EN_WIDTH 1
#define MIRRORSWAP_SLOT_CTRL_POWER_EN_MASK 0x00000001u  /* [0] Switch the slot's supply on. */
#define MIRRORSWAP_SLOT_CTRL_POWER_LED_SHIFT 2
#define MIRRORSWAP_SLOT_CTRL_POWER_LED_WIDTH 2
#define MIRRORSWAP_SLOT_CTRL_POWER_LED_MASK 0x0000000cu  /* [3:2] Power LED. */
#define MIRRORSWAP_SLOT_CTRL_ATTN_LED_SHIFT 4
#define MIRRORSWAP_SLOT_CTRL_ATTN_LED_WIDTH 2
#define MIRRORSWAP_SLOT_CTRL_ATTN_LED_MASK 0x00000030u  /* [5:4] Attention LED. */

/* EVENTS (agent 0x2c, RW1C): Events; write 1 to clear. */
#define MIRRORSWAP_EVENTS_OFFSET 0x2cu
#define MIRRORSWAP_EVENTS_RESET 0x00000000u
#define MIRRORSWAP_EVENTS_CMD_DONE_SHIFT 0
#define MIRRORSWAP_EVENTS_CMD_DONE_WIDTH 1
#define MIRRORSWAP_EVENTS_CMD_DONE_MASK 0x00000001u  /* [0] A command finished. */
#define MIRRORSWAP_EVENTS_BUTTON_SHIFT 1
#define MIRRORSWAP_EVENTS_BUTTON_WIDTH 1
#define MIRRORSWAP_EVENTS_BUTTON_MASK 0x00000002u  /* [1] Debounced button press. */
#define MIRRORSWAP_EVENTS_PRESENCE_CHANGED_SHIFT 2
#define MIRRORSWAP_EVENTS_PRESENCE_CHANGED_WIDTH 1
#define MIRRORSWAP_EVENTS_PRESENCE_CHANGED_MASK 0x00000004u  /* [2] A module was seated or removed. */
#define MIRRORSWAP_EVENTS_MEM_ERROR_SHIFT 3
#define MIRRORSWAP_EVENTS_MEM_ERROR_WIDTH 1
#define MIRRORSWAP_EVENTS_MEM_ERROR_MASK 0x00000008u  /* [3] A memory error was seen. */
#define MIRRORSWAP_EVENTS_POWER_FAULT_SHIFT 4
#define MIRRORSWAP_EVENTS_POWER_FAULT_WIDTH 1
#define MIRRORSWAP_EVENTS_POWER_FAULT_MASK 0x00000010u  /* [4] power_good fell while power_en was on. */
#define MIRRORSWAP_EVENTS_FAILOVER_SHIFT 5
#define MIRRORSWAP_EVENTS_FAILOVER_WIDTH 1
#define MIRRORSWAP_EVENTS_FAILOVER_MASK 0x00000020u  /* [5] The module failed and its swept mirror slave took the range over. */
#define MIRRORSWAP_EVENTS_CORRECTED_SHIFT 6
#define MIRRORSWAP_EVENTS_CORRECTED_WIDTH 1
#define MIRRORSWAP_EVENTS_CORRECTED_MASK 0x00000040u  /* [6] A host read was served by the mirror after an error at the master. */

/* IRQ_EN (agent 0x30, RW): Events that raise irq. */
#define MIRRORSWAP_IRQ_EN_OFFSET 0x30u
#define MIRRORSWAP_IRQ_EN_RESET 0x00000000u
#define MIRRORSWAP_IRQ_EN_CMD_DONE_SHIFT 0
#define MIRRORSWAP_IRQ_EN_CMD_DONE_WIDTH 1
#define MIRRORSWAP_IRQ_EN_CMD_DONE_MASK 0x00000001u  /* [0] Enable cmd_done. */
#define MIRRORSWAP_IRQ_EN_BUTTON_SHIFT 1
#define MIRRORSWAP_IRQ_EN_BUTTON_WIDTH 1
#define MIRRORSWAP_IRQ_EN_BUTTON_MASK 0x00000002u  /* [1] Enable button. */
#define MIRRORSWAP_IRQ_EN_PRESENCE_CHANGED_SHIFT 2
#define MIRRORSWAP_IRQ_EN_PRESENCE_CHANGED_WIDTH 1
#define MIRRORSWAP_IRQ_EN_PRESENCE_CHANGED_MASK 0x00000004u  /* [2] Enable presence_changed. */
#define MIRRORSWAP_IRQ_EN_MEM_ERROR_SHIFT 3
#define MIRRORSWAP_IRQ_EN_MEM_ERROR_WIDTH 1
#define MIRRORSWAP_IRQ_EN_MEM_ERROR_MASK 0x00000008u  /* [3] Enable mem_error. */
#define MIRRORSWAP_IRQ_EN_POWER_FAULT_SHIFT 4
#define MIRRORSWAP_IRQ_EN_POWER_FAULT_WIDTH 1
#define MIRRORSWAP_IRQ_EN_POWER_FAULT_MASK 0x00000010u  /* [4] Enable power_fault. */
#define MIRRORSWAP_IRQ_EN_FAILOVER_SHIFT 5
#define MIRRORSWAP_IRQ_EN_FAILOVER_WIDTH 1
#define MIRRORSWAP_IRQ_EN_FAILOVER_MASK 0x00000020u  /* [5] Enable failover. */
#define MIRRORSWAP_IRQ_EN_CORRECTED_SHIFT 6
#define MIRRORSWAP_IRQ_EN_CORRECTED_WIDTH 1
#define MIRRORSWAP_IRQ_EN_CORRECTED_MASK 0x00000040u  /* [6] Enable corrected. */

/* CE_COUNT (agent 0x34, RW): Corrected errors: host read beats served by the mirror after an error at the master; saturates; write 0 to clear. */
#define MIRRORSWAP_CE_COUNT_OFFSET 0x34u
#define MIRRORSWAP_CE_COUNT_RESET 0x00000000u
#define MIRRORSWAP_CE_COUNT_COUNT_SHIFT 0
#define MIRRORSWAP_CE_COUNT_COUNT_WIDTH 32
#define MIRRORSWAP_CE_COUNT_COUNT_MASK 0xffffffffu  /* [31:0] Corrected error count. */

/* UE_COUNT (agent 0x38, RW): Uncorrected errors: host read beats answered SLVERR for a memory error or poison, and lines a sweep copied as poison; saturates; write 0 to clear. */
#define MIRRORSWAP_UE_COUNT_OFFSET 0x38u
#define MIRRORSWAP_UE_COUNT_RESET 0x00000000u
#define MIRRORSWAP_UE_COUNT_COUNT_SHIFT 0
#define MIRRORSWAP_UE_COUNT_COUNT_WIDTH 32
#define MIRRORSWAP_UE_COUNT_COUNT_MASK 0xffffffffu  /* [31:0] Uncorrected error count. */

/* RAS_CTRL (agent 0x3c, RW): RAS behaviours of this agent while it is a mirror master (SPEC section 7). */
#define MIRRORSWAP_RAS_CTRL_OFFSET 0x3cu
#define MIRRORSWAP_RAS_CTRL_RESET 0x00000000u
#define MIRRORSWAP_RAS_CTRL_FAILOVER_EN_SHIFT 0
#define MIRRORSWAP_RAS_CTRL_FAILOVER_EN_WIDTH 1
#define MIRRORSWAP_RAS_CTRL_FAILOVER_EN_MASK 0x00000001u  /* [0] Read failover and master failover to the swept slave. */
#define MIRRORSWAP_RAS_CTRL_POISON_EN_SHIFT 1
#define MIRRORSWAP_RAS_CTRL_POISON_EN_WIDTH 1
#define MIRRORSWAP_RAS_CTRL_POISON_EN_MASK 0x00000002u  /* [1] A sweep copies an unreadable line as poison and goes on. */

/* Values of STATUS.mode. */
enum mirrorswap_mode {
    MIRRORSWAP_MODE_OFF = 0,              /* Unpowered or absent; never routed to. */
    MIRRORSWAP_MODE_IDLE = 1,             /* Powered, initialized, no address: a spare. */
    MIRRORSWAP_MODE_ACTIVE = 2,           /* Owns a range and serves it. */
    MIRRORSWAP_MODE_MIRROR_MASTER = 3,    /* Owns a range; every write is also forwarded to the peer. */
    MIRRORSWAP_MODE_MIRROR_SLAVE = 4,     /* Receives forwarded writes and sweep copies of its master's range. */
};

/* Values of STATUS.err. */
enum mirrorswap_err {
    MIRRORSWAP_ERR_OK = 0,                /* Success. */
    MIRRORSWAP_ERR_BAD_STATE = 1,         /* The agent is not in a mode that allows the command. */
    MIRRORSWAP_ERR_BAD_PEER = 2,          /* Peer is self, out of range or not IDLE. */
    MIRRORSWAP_ERR_CAPACITY = 3,          /* The peer's module is smaller than the range. */
    MIRRORSWAP_ERR_NOT_SWEPT = 4,         /* RELEASE before the range was fully swept. */
    MIRRORSWAP_ERR_MEM_ERROR = 5,         /* A memory error stopped the sweep. */
    MIRRORSWAP_ERR_OVERLAP = 6,           /* The range overlaps a range another agent owns. */
    MIRRORSWAP_ERR_BAD_RANGE = 7,         /* BASE, SIZE or the sweep range is invalid. */
    MIRRORSWAP_ERR_POWER = 8,             /* Power-off refused: the agent owns a range or is a mirror slave. */
    MIRRORSWAP_ERR_BAD_OPCODE = 9,        /* Opcode not 1 to 6. */
    MIRRORSWAP_ERR_BUSY = 10,             /* A command is still executing. */
};

/* Values of CMD.opcode. */
enum mirrorswap_op {
    MIRRORSWAP_OP_ASSIGN = 1,             /* IDLE agent takes [BASE, BASE+SIZE). */
    MIRRORSWAP_OP_ESTABLISH = 2,          /* Pair with an IDLE peer as a mirror. */
    MIRRORSWAP_OP_SWEEP = 3,              /* Copy [SWEEP_START, SWEEP_START+SWEEP_COUNT) to the peer. */
    MIRRORSWAP_OP_RELEASE = 4,            /* Atomically hand the range to the peer. */
    MIRRORSWAP_OP_ABORT = 5,              /* Undo ESTABLISH; no data moves. */
    MIRRORSWAP_OP_UNASSIGN = 6,           /* Give up the range. */
};

/* Values of SLOT_CTRL.power_led, SLOT_CTRL.attn_led. */
enum mirrorswap_led {
    MIRRORSWAP_LED_OFF = 0,               /* Off. */
    MIRRORSWAP_LED_ON = 1,                /* On. */
    MIRRORSWAP_LED_BLINK = 2,             /* Blinking with the BLINK half period. */
};

/* Bits of EVENTS (write 1 to clear) and of IRQ_EN. */
#define MIRRORSWAP_EVENT_CMD_DONE           0x01u  /* A command finished. */
#define MIRRORSWAP_EVENT_BUTTON             0x02u  /* Debounced button press. */
#define MIRRORSWAP_EVENT_PRESENCE_CHANGED   0x04u  /* A module was seated or removed. */
#define MIRRORSWAP_EVENT_MEM_ERROR          0x08u  /* A memory error was seen. */
#define MIRRORSWAP_EVENT_POWER_FAULT        0x10u  /* power_good fell while power_en was on. */
#define MIRRORSWAP_EVENT_FAILOVER           0x20u  /* The module failed and its swept mirror slave took the range over. */
#define MIRRORSWAP_EVENT_CORRECTED          0x40u  /* A host read was served by the mirror after an error at the master. */

/* The registers of one agent. */
typedef struct {
    const volatile uint32_t STATUS;       /* 0x000 RO */
    volatile uint32_t CMD;                /* 0x004 WO */
    volatile uint32_t BASE;               /* 0x008 RW */
    volatile uint32_t SIZE;               /* 0x00c RW */
    const volatile uint32_t CAPACITY;     /* 0x010 RO */
    volatile uint32_t SWEEP_START;        /* 0x014 RW */
    volatile uint32_t SWEEP_COUNT;        /* 0x018 RW */
    const volatile uint32_t SWEPT_UPTO;   /* 0x01c RO */
    volatile uint32_t THROTTLE;           /* 0x020 RW */
    const volatile uint32_t ERR_ADDR;     /* 0x024 RO */
    volatile uint32_t SLOT_CTRL;          /* 0x028 RW */
    volatile uint32_t EVENTS;             /* 0x02c RW1C */
    volatile uint32_t IRQ_EN;             /* 0x030 RW */
    volatile uint32_t CE_COUNT;           /* 0x034 RW */
    volatile uint32_t UE_COUNT;           /* 0x038 RW */
    volatile uint32_t RAS_CTRL;           /* 0x03c RW */
} mirrorswap_agent_t;

/* The register block: global registers, then one block per agent. */
typedef struct {
    const volatile uint32_t ID;           /* 0x000 RO */
    const volatile uint32_t CONFIG;       /* 0x004 RO */
    volatile uint32_t DEBOUNCE;           /* 0x008 RW */
    volatile uint32_t BLINK;              /* 0x00c RW */
    const volatile uint32_t IRQ_SUMMARY;  /* 0x010 RO */
    volatile uint32_t LOCK;               /* 0x014 RW1S */
    const volatile uint32_t reserved_018[58];  /* 0x018 to 0x0ff */
    mirrorswap_agent_t agent[MIRRORSWAP_AGENTS];  /* 0x100 */
} mirrorswap_t;

/* The register block at address addr, and at MIRRORSWAP_BASE_ADDR. */
#define MIRRORSWAP_AT(addr) ((mirrorswap_t *)(addr))
#ifdef MIRRORSWAP_BASE_ADDR
#define MIRRORSWAP MIRRORSWAP_AT(MIRRORSWAP_BASE_ADDR)
#endif

/* The layout, checked by the compiler where it can (C11, C++11). */
#if defined(__cplusplus) && __cplusplus >= 201103L
#define MIRRORSWAP_STATIC_ASSERT(c, m) static_assert(c, m)
#elif !defined(__cplusplus) && defined(__STDC_VERSION__) \
    && __STDC_VERSION__ >= 201112L
#define MIRRORSWAP_STATIC_ASSERT(c, m) _Static_assert(c, m)
#endif
#ifdef MIRRORSWAP_STATIC_ASSERT
MIRRORSWAP_STATIC_ASSERT(offsetof(mirrorswap_t, ID) == MIRRORSWAP_ID_OFFSET, "ID");
MIRRORSWAP_STATIC_ASSERT(offsetof(mirrorswap_t, CONFIG) == MIRRORSWAP_CONFIG_OFFSET, "CONFIG");
MIRRORSWAP_STATIC_ASSERT(offsetof(mirrorswap_t, DEBOUNCE) == MIRRORSWAP_DEBOUNCE_OFFSET, "DEBOUNCE");
MIRRORSWAP_STATIC_ASSERT(offsetof(mirrorswap_t, BLINK) == MIRRORSWAP_BLINK_OFFSET, "BLINK");
MIRRORSWAP_STATIC_ASSERT(offsetof(mirrorswap_t, IRQ_SUMMARY) == MIRRORSWAP_IRQ_SUMMARY_OFFSET, "IRQ_SUMMARY");
MIRRORSWAP_STATIC_ASSERT(offsetof(mirrorswap_t, LOCK) == MIRRORSWAP_LOCK_OFFSET, "LOCK");
MIRRORSWAP_STATIC_ASSERT(offsetof(mirrorswap_agent_t, STATUS) == MIRRORSWAP_STATUS_OFFSET, "STATUS");
MIRRORSWAP_STATIC_ASSERT(offsetof(mirrorswap_agent_t, CMD) == MIRRORSWAP_CMD_OFFSET, "CMD");
MIRRORSWAP_STATIC_ASSERT(offsetof(mirrorswap_agent_t, BASE) == MIRRORSWAP_BASE_OFFSET, "BASE");
MIRRORSWAP_STATIC_ASSERT(offsetof(mirrorswap_agent_t, SIZE) == MIRRORSWAP_SIZE_OFFSET, "SIZE");
MIRRORSWAP_STATIC_ASSERT(offsetof(mirrorswap_agent_t, CAPACITY) == MIRRORSWAP_CAPACITY_OFFSET, "CAPACITY");
MIRRORSWAP_STATIC_ASSERT(offsetof(mirrorswap_agent_t, SWEEP_START) == MIRRORSWAP_SWEEP_START_OFFSET, "SWEEP_START");
MIRRORSWAP_STATIC_ASSERT(offsetof(mirrorswap_agent_t, SWEEP_COUNT) == MIRRORSWAP_SWEEP_COUNT_OFFSET, "SWEEP_COUNT");
MIRRORSWAP_STATIC_ASSERT(offsetof(mirrorswap_agent_t, SWEPT_UPTO) == MIRRORSWAP_SWEPT_UPTO_OFFSET, "SWEPT_UPTO");
MIRRORSWAP_STATIC_ASSERT(offsetof(mirrorswap_agent_t, THROTTLE) == MIRRORSWAP_THROTTLE_OFFSET, "THROTTLE");
MIRRORSWAP_STATIC_ASSERT(offsetof(mirrorswap_agent_t, ERR_ADDR) == MIRRORSWAP_ERR_ADDR_OFFSET, "ERR_ADDR");
MIRRORSWAP_STATIC_ASSERT(offsetof(mirrorswap_agent_t, SLOT_CTRL) == MIRRORSWAP_SLOT_CTRL_OFFSET, "SLOT_CTRL");
MIRRORSWAP_STATIC_ASSERT(offsetof(mirrorswap_agent_t, EVENTS) == MIRRORSWAP_EVENTS_OFFSET, "EVENTS");
MIRRORSWAP_STATIC_ASSERT(offsetof(mirrorswap_agent_t, IRQ_EN) == MIRRORSWAP_IRQ_EN_OFFSET, "IRQ_EN");
MIRRORSWAP_STATIC_ASSERT(offsetof(mirrorswap_agent_t, CE_COUNT) == MIRRORSWAP_CE_COUNT_OFFSET, "CE_COUNT");
MIRRORSWAP_STATIC_ASSERT(offsetof(mirrorswap_agent_t, UE_COUNT) == MIRRORSWAP_UE_COUNT_OFFSET, "UE_COUNT");
MIRRORSWAP_STATIC_ASSERT(offsetof(mirrorswap_agent_t, RAS_CTRL) == MIRRORSWAP_RAS_CTRL_OFFSET, "RAS_CTRL");
MIRRORSWAP_STATIC_ASSERT(sizeof(mirrorswap_agent_t) == MIRRORSWAP_AGENT_STRIDE, "agent stride");
MIRRORSWAP_STATIC_ASSERT(offsetof(mirrorswap_t, agent) == MIRRORSWAP_AGENT_BASE, "agent base");
MIRRORSWAP_STATIC_ASSERT(sizeof(mirrorswap_t) == MIRRORSWAP_AGENT_BASE + MIRRORSWAP_AGENT_STRIDE * MIRRORSWAP_AGENTS, "size");
#undef MIRRORSWAP_STATIC_ASSERT
#endif

#ifdef __cplusplus
}
#endif

#endif /* MIRRORSWAP_REGS_H */
