/* Loading and reading the BPF programs of kern.bpf.c (see bpfsrc.h). */
#include "bpfsrc.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>

#include "kern.skel.h"
#include "kern_event.h"

struct kb_source {
    struct kern_bpf *skel;
    struct ring_buffer *rb;
    void (*cb)(void *arg, const struct ke_record *r);
    void *arg;
};

/* The calls of interest by this architecture's numbers; -1 for one it
 * does not have (aarch64 has no open, creat, symlink, link, unlink, rename). */
#ifndef SYS_open
#define SYS_open -1
#endif
#ifndef SYS_creat
#define SYS_creat -1
#endif
#ifndef SYS_symlink
#define SYS_symlink -1
#endif
#ifndef SYS_link
#define SYS_link -1
#endif
#ifndef SYS_unlink
#define SYS_unlink -1
#endif
#ifndef SYS_rename
#define SYS_rename -1
#endif
#ifndef SYS_renameat
#define SYS_renameat -1
#endif

static void set_numbers(struct kern_bpf *s)
{
    struct kern_bpf__rodata *ro = s->rodata;
    ro->nr_mount = SYS_mount;
    ro->nr_umount2 = SYS_umount2;
    ro->nr_unshare = SYS_unshare;
    ro->nr_setns = SYS_setns;
    ro->nr_chroot = SYS_chroot;
    ro->nr_pivot_root = SYS_pivot_root;
    ro->nr_init_module = SYS_init_module;
    ro->nr_finit_module = SYS_finit_module;
    ro->nr_delete_module = SYS_delete_module;
    ro->nr_ptrace = SYS_ptrace;
    ro->nr_socket = SYS_socket;
    ro->nr_symlink = SYS_symlink;
    ro->nr_symlinkat = SYS_symlinkat;
    ro->nr_link = SYS_link;
    ro->nr_linkat = SYS_linkat;
    ro->nr_open = SYS_open;
    ro->nr_openat = SYS_openat;
    ro->nr_openat2 = SYS_openat2;
    ro->nr_creat = SYS_creat;
    ro->nr_unlink = SYS_unlink;
    ro->nr_unlinkat = SYS_unlinkat;
    ro->nr_truncate = SYS_truncate;
    ro->nr_rename = SYS_rename;
    ro->nr_renameat = SYS_renameat;
    ro->nr_renameat2 = SYS_renameat2;
}

static int64_t clock_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int on_record(void *ctx, void *data, size_t size)
{
    kb_source *k = ctx;
    if (size >= sizeof(struct ke_record))
        k->cb(k->arg, data);
    return 0;
}

/* libbpf prints to stderr by default; the daemon's log says what failed. */
static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    (void)level;
    (void)fmt;
    (void)ap;
    return 0;
}

int kb_open(pid_t self, kb_source **out, const char **why)
{
    libbpf_set_print(quiet);
    kb_source *k = calloc(1, sizeof(*k));
    if (!k)
        return -ENOMEM;
    int rc;
    *why = "open";
    k->skel = kern_bpf__open();
    if (!k->skel) {
        rc = -errno;
        goto fail;
    }
    set_numbers(k->skel);
    k->skel->rodata->self_tgid = (uint32_t)self;
    k->skel->rodata->boot_to_real_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME);
    *why = "load";
    if ((rc = kern_bpf__load(k->skel)) < 0)
        goto fail;
    *why = "attach";
    if ((rc = kern_bpf__attach(k->skel)) < 0)
        goto fail;
    *why = "ring buffer";
    k->rb = ring_buffer__new(bpf_map__fd(k->skel->maps.events), on_record, k, NULL);
    if (!k->rb) {
        rc = -errno;
        goto fail;
    }
    *out = k;
    return 0;
fail:
    kb_close(k);
    return rc < 0 ? rc : -EINVAL;
}

void kb_close(kb_source *k)
{
    if (!k)
        return;
    ring_buffer__free(k->rb);
    kern_bpf__destroy(k->skel);
    free(k);
}

int kb_fd(const kb_source *k)
{
    return ring_buffer__epoll_fd(k->rb);
}

int kb_consume(kb_source *k, void (*cb)(void *arg, const struct ke_record *r), void *arg)
{
    k->cb = cb;
    k->arg = arg;
    return ring_buffer__consume(k->rb);
}

int kb_attach(kb_source *k, bool on)
{
    if (!on) {
        kern_bpf__detach(k->skel);
        return 0;
    }
    return kern_bpf__attach(k->skel);
}

uint64_t kb_lost(const kb_source *k)
{
    return __atomic_load_n(&k->skel->bss->lost, __ATOMIC_RELAXED);
}
