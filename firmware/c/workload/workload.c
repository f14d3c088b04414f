/* The host CPU's workload: a hash table under inserts, lookups and deletes, ending in a
 * checksum, with its data in host memory (mirrorswap's s_axi).
 *
 * The table is open addressing with linear probing and backward-shift deletion (no
 * tombstones, so it never degrades), TABLE_BYTES / 8 buckets of {key, value} words at
 * host address 0: by default 32 KiB, the whole range boot gives slot 1. Every bucket's
 * key is written at the start (memory holds garbage at power-up) and read by the final
 * scan; in between, each operation probes from its key's home bucket and a scrubber ages
 * SCRUB_PER_OP buckets (read the key, and for a used bucket rewrite its value), walking
 * the table in order, so lines all over the module are read and written while the
 * sweep runs. A bucket's value is only read while its key is set. The operations come from a fixed
 * xorshift generator; a shadow bitmap in the CPU's own RAM says which keys must be in
 * the table, and every lookup, insert and delete is checked against it: a line lost or
 * corrupted by a migration shows as a mismatch (HOST_STATE failed) even before the
 * checksum does.
 *
 * The same source builds natively (-DMS_NATIVE) with the table in a static array and
 * prints the checksum the CPU must reach: cbuild.expected_checksum().
 *
 * Build parameters: WORKLOAD_OPS (operations, default 600), SCRUB_PER_OP (default 2),
 * TABLE_BYTES (a power of two from 1024 to 32768, default 32768).
 */
#include <stdint.h>

#include "console.h"

#ifndef WORKLOAD_OPS
#define WORKLOAD_OPS 600
#endif
#ifndef SCRUB_PER_OP
#define SCRUB_PER_OP 2
#endif
#ifndef TABLE_BYTES
#define TABLE_BYTES 32768u
#endif
#if TABLE_BYTES < 1024 || TABLE_BYTES > 32768 || (TABLE_BYTES & (TABLE_BYTES - 1))
#error "TABLE_BYTES must be a power of two from 1024 to 32768"
#endif

#define TABLE_BUCKETS (TABLE_BYTES / 8u)        /* a power of two */
#define KEYSPACE (TABLE_BUCKETS / 2u)           /* at most half full */
#define REPORT_EVERY 64u                        /* HOST_PROGRESS updates */

typedef struct {
    uint32_t key;       /* 0: empty */
    uint32_t value;
} bucket_t;

#ifdef MS_NATIVE
#include <stdio.h>

static bucket_t native_table[TABLE_BUCKETS];
#define TABLE ((volatile bucket_t *)native_table)
#define HOST_STATE_IDLE 0u
#define HOST_STATE_RUNNING 1u
#define HOST_STATE_DONE 2u
#define HOST_STATE_FAILED 3u

void con_putc(char c)
{
    putchar(c);
}

static void io_write(unsigned reg, uint32_t value)
{
    (void)reg;
    (void)value;
}

static uint32_t mem_bytes(void)
{
    return TABLE_BYTES;
}

#define IO_HOST_STATE 0u
#define IO_HOST_RESULT 0u
#define IO_HOST_PROGRESS 0u
#else
#include "soc_map.h"

#define TABLE ((volatile bucket_t *)SOC_HOST_MEM_BASE)
#define HOST_STATE_IDLE SOC_HOST_IDLE
#define HOST_STATE_RUNNING SOC_HOST_RUNNING
#define HOST_STATE_DONE SOC_HOST_DONE
#define HOST_STATE_FAILED SOC_HOST_FAILED
#define IO_HOST_STATE SOC_IO_HOST_STATE
#define IO_HOST_RESULT SOC_IO_HOST_RESULT
#define IO_HOST_PROGRESS SOC_IO_HOST_PROGRESS

void con_putc(char c)
{
    SOC_IO(SOC_IO_CONSOLE) = (uint32_t)(unsigned char)c;
}

static void io_write(unsigned reg, uint32_t value)
{
    SOC_IO(reg) = value;
}

/* Wait for the BIOS to publish the memory map; what it published. */
static uint32_t mem_bytes(void)
{
    while (!SOC_IO(SOC_IO_GO))
        ;
    return SOC_IO(SOC_IO_MEM_BYTES);
}
#endif

int main(void);

static uint32_t rng_state = 0x2545f491u;
static uint32_t shadow[KEYSPACE / 32];         /* bit k: key k is in the table */
static uint32_t mismatches;

static uint32_t xorshift(void)
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

/* Key number k (0..KEYSPACE-1) as a nonzero 32-bit key: an odd multiplier is a bijection. */
static uint32_t key_of(uint32_t k)
{
    return (k + 1u) * 0x9e3779b1u;
}

static uint32_t home_of(uint32_t key)
{
    uint32_t h = key ^ (key >> 15);
    h *= 0x2c1b3c6du;
    h ^= h >> 12;
    return h & (TABLE_BUCKETS - 1u);
}

/* The bucket holding key, or the empty bucket where it would go. */
static uint32_t probe(uint32_t key)
{
    uint32_t i = home_of(key);
    for (;;) {
        uint32_t k = TABLE[i].key;
        if (k == key || k == 0)
            return i;
        i = (i + 1u) & (TABLE_BUCKETS - 1u);
    }
}

static uint32_t mix(uint32_t sum, uint32_t value)
{
    sum ^= value;
    sum *= 0x01000193u;                         /* FNV-1a's prime */
    return sum ^ (sum >> 16);
}

static void check(int expected_present, int found, uint32_t op)
{
    if (expected_present != found) {
        if (mismatches < 4)
            con_printf("workload: op %u: key %s, expected %s\n", (unsigned)op,
                       found ? "found" : "missing", expected_present ? "present" : "absent");
        mismatches++;
    }
}

/* Backward-shift deletion: move later entries of the probe run into the hole so that
 * every remaining key is still reachable from its home bucket. */
static void erase(uint32_t hole)
{
    uint32_t i = hole;
    for (;;) {
        i = (i + 1u) & (TABLE_BUCKETS - 1u);
        uint32_t key = TABLE[i].key;
        if (key == 0)
            break;
        uint32_t home = home_of(key);
        /* key may fill the hole when its home is not cyclically in (hole, i] */
        if (((i - home) & (TABLE_BUCKETS - 1u)) >= ((i - hole) & (TABLE_BUCKETS - 1u))) {
            TABLE[hole].key = key;
            TABLE[hole].value = TABLE[i].value;
            hole = i;
        }
    }
    TABLE[hole].key = 0;
}

int main(void)
{
    uint32_t sum = 0x811c9dc5u, scrub = 0, op;
    uint32_t inserts = 0, lookups = 0, hits = 0, deletes = 0;

    io_write(IO_HOST_STATE, HOST_STATE_IDLE);
    con_printf("workload: waiting for the memory map\n");
    uint32_t bytes = mem_bytes();
    if (bytes < TABLE_BYTES) {
        con_printf("workload: %u bytes of host memory, need %u\n", (unsigned)bytes,
                   (unsigned)TABLE_BYTES);
        io_write(IO_HOST_STATE, HOST_STATE_FAILED);
        return 1;
    }
    io_write(IO_HOST_STATE, HOST_STATE_RUNNING);
    con_printf("workload: %u bytes of host memory; hash table of %u buckets, %u operations\n",
               (unsigned)bytes, (unsigned)TABLE_BUCKETS, (unsigned)WORKLOAD_OPS);
    for (uint32_t i = 0; i < TABLE_BUCKETS; i++)     /* memory holds garbage at power-up */
        TABLE[i].key = 0;
    for (op = 0; op < WORKLOAD_OPS; op++) {
        uint32_t r = xorshift();
        uint32_t k = r % KEYSPACE;
        uint32_t key = key_of(k);
        uint32_t kind = (r >> 24) % 10u;
        int present = (int)(shadow[k / 32] >> (k % 32) & 1u);
        uint32_t i = probe(key);
        int found = TABLE[i].key == key;
        check(present, found, op);
        if (kind < 5) {                          /* insert or update */
            TABLE[i].value = found ? TABLE[i].value * 31u + op : op ^ key;
            TABLE[i].key = key;
            shadow[k / 32] |= 1u << (k % 32);
            inserts++;
        } else if (kind < 8) {                   /* lookup */
            lookups++;
            if (found) {
                hits++;
                sum = mix(sum, TABLE[i].value);
            }
        } else if (found) {                      /* delete */
            sum = mix(sum, TABLE[i].value);
            erase(i);
            shadow[k / 32] &= ~(1u << (k % 32));
            deletes++;
        }
        for (uint32_t s = 0; s < SCRUB_PER_OP; s++) {   /* age entries, table-wide */
            uint32_t key_s = TABLE[scrub].key;
            if (key_s)
                TABLE[scrub].value = TABLE[scrub].value + (key_s >> 28) + 1u;
            scrub = (scrub + 1u) & (TABLE_BUCKETS - 1u);
        }
        sum = mix(sum, op);
        if ((op + 1u) % REPORT_EVERY == 0)
            io_write(IO_HOST_PROGRESS, op + 1u);
        if ((op + 1u) % (WORKLOAD_OPS / 4u ? WORKLOAD_OPS / 4u : 1u) == 0)
            con_printf("workload: %u/%u operations\n", (unsigned)(op + 1u),
                       (unsigned)WORKLOAD_OPS);
    }
    io_write(IO_HOST_PROGRESS, op);
    uint32_t entries = 0;
    for (uint32_t i = 0; i < TABLE_BUCKETS; i++) {   /* the final state, bucket by bucket */
        uint32_t key = TABLE[i].key;
        sum = mix(sum, key);
        if (key) {
            sum = mix(sum, TABLE[i].value);
            entries++;
        }
    }
    uint32_t expected = 0;
    for (uint32_t w = 0; w < KEYSPACE / 32; w++)
        for (uint32_t b = shadow[w]; b; b &= b - 1u)
            expected++;
    if (entries != expected) {
        con_printf("workload: %u entries in the table, expected %u\n", (unsigned)entries,
                   (unsigned)expected);
        mismatches++;
    }
    io_write(IO_HOST_RESULT, sum);
    con_printf("workload: %u inserts, %u lookups (%u hits), %u deletes, %u entries\n",
               (unsigned)inserts, (unsigned)lookups, (unsigned)hits, (unsigned)deletes,
               (unsigned)entries);
    con_printf("workload: checksum 0x%08x, %u mismatches\n", (unsigned)sum,
               (unsigned)mismatches);
    io_write(IO_HOST_STATE, mismatches ? HOST_STATE_FAILED : HOST_STATE_DONE);
    return mismatches ? 1 : 0;
}
