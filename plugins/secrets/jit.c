/*
 * PCRE2 JIT compilation on first use. A scan runs the precise expression of
 * only the rules whose prefilter fired (on a tree of headers or library
 * code, a few dozen of 194), and the allow-lists only after a match: JIT
 * compiling every expression at load cost more CPU, executable mappings
 * and memory than most scans spend matching. Compiled once per rule set;
 * rule sets are shared between threads (secrets.h), hence the lock, which
 * is taken at most once per slot and never on the scanning path after.
 */
#include <pthread.h>

#include "secrets_int.h"

static pthread_mutex_t jit_mu = PTHREAD_MUTEX_INITIALIZER;

void vg__sec_jit(const vg_sec_rules *rs, size_t slot, unsigned bit, pcre2_code *const *re, size_t n)
{
    if (atomic_load_explicit(&rs->jitted[slot], memory_order_acquire) & bit)
        return;
    pthread_mutex_lock(&jit_mu);
    if (!(atomic_load_explicit(&rs->jitted[slot], memory_order_relaxed) & bit)) {
        /* A failed JIT compile leaves the interpreter, which gives the
         * same answers: nothing to report. */
        for (size_t i = 0; i < n; i++)
            pcre2_jit_compile(re[i], PCRE2_JIT_COMPLETE);
        atomic_fetch_or_explicit(&rs->jitted[slot], (unsigned char)bit, memory_order_release);
    }
    pthread_mutex_unlock(&jit_mu);
}
