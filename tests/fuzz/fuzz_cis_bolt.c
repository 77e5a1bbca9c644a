/*
 * Fuzzes the bbolt walker (plugins/cis/bolt.c) that reads containerd's
 * metadata store for the CIS image checks: any bytes are walked or refused,
 * never read past their end, never looped on. The seed is a meta.db a
 * real containerd wrote (one imported image, as test_cis_containerd.sh).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bolt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int enter(void *ud, const unsigned char *k, size_t kl)
{
    (void)k;
    *(size_t *)ud += kl;
    return 0;
}

static int leave(void *ud)
{
    (void)ud;
    return 0;
}

static int pair(void *ud, const unsigned char *k, size_t kl, const unsigned char *v, size_t vl)
{
    /* Touch every byte the walker hands out: ASan sees a read past the end. */
    size_t sum = 0;
    for (size_t i = 0; i < kl; i++)
        sum += k[i];
    for (size_t i = 0; i < vl; i++)
        sum += v[i];
    *(size_t *)ud += sum;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly `size` bytes, so that a read past it is caught. */
    unsigned char *db = malloc(size ? size : 1);
    unsigned char *scratch = malloc(cis_bolt_scratch_size(size));
    if (!db || !scratch)
        abort();
    memcpy(db, data, size);
    size_t seen = 0;
    cis_bolt_visitor v = {.enter = enter, .leave = leave, .pair = pair, .ud = &seen};
    char err[160];
    cis_bolt_walk(db, size, scratch, &v, err, sizeof(err));
    free(scratch);
    free(db);
    return 0;
}
