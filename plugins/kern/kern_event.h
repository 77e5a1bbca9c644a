/*
 * The records the BPF programs of kern.bpf.c hand to the plugin through
 * their ring buffer: one layout, shared by both sides (the BPF side includes
 * vmlinux.h, the user side <stdint.h>, hence the plain integer types).
 */
#ifndef VG_KERN_EVENT_H
#define VG_KERN_EVENT_H

#define KE_PATH_MAX 256
#define KE_COMM_MAX 16

/* What a record is about. */
enum ke_kind {
    KE_MOUNT = 1,  /* mount(2): path = target, target = source, fstype */
    KE_UMOUNT,     /* umount2(2): path */
    KE_UNSHARE,    /* unshare(2): flags = CLONE_NEW* */
    KE_SETNS,      /* setns(2): flags = nstype */
    KE_CHROOT,     /* chroot(2): path */
    KE_PIVOT_ROOT, /* pivot_root(2): path = new_root, target = put_old */
    KE_MODULE,     /* init_module, finit_module, delete_module */
    KE_PTRACE,     /* ptrace(2) attach or poke: flags = request, arg = pid */
    KE_RAW_SOCKET, /* socket(2) raw or packet: arg = family, flags = type */
    KE_SYMLINK,    /* symlink(at)(2): path = the new link, target = what it names */
    KE_LINK,       /* link(at)(2): path = the new name, target = the old one */
    KE_OPEN_WRITE, /* open for writing below a watched prefix: path, flags */
    KE_UNLINK,     /* unlink(at)(2) below /var/log or of a shell history: path */
    KE_TRUNCATE,   /* truncate(2) below /var/log: path */
    KE_RENAME, /* rename(at)(2) of a shell history or below /var/log: path = old, target = new */
    KE_EXEC_DRIFT, /* a container process executed a file changed after the
                      container started: path = the file, ctime, started */
    KE_EXEC_TTY,   /* a container process executed with a terminal: path */
};

struct ke_record {
    uint32_t kind;
    uint32_t pid;  /* thread group id */
    uint32_t ppid; /* the real parent's thread group id */
    uint32_t uid;  /* effective uid */
    int64_t flags;
    int64_t arg;
    uint64_t ctime_ns;   /* KE_EXEC_DRIFT: the file's ctime (realtime) */
    uint64_t started_ns; /* KE_EXEC_DRIFT: the container's init start (realtime) */
    char comm[KE_COMM_MAX];
    char parent_comm[KE_COMM_MAX];
    char path[KE_PATH_MAX];
    char target[KE_PATH_MAX];
    char fstype[KE_COMM_MAX];
};

#endif
