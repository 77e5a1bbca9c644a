/* The control protocol: framing, request decoding, blocking client helpers.
 * See ctl_proto.h. */
#include "ctl_proto.h"

#include "mp.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Command names are short words; a longer one is not a command we could have
 * registered, so it is refused before any lookup. */
#define CMD_MAX 63

static uint32_t be32_get(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

int vg_ctl_frame_check(const void *buf, size_t len, size_t max, size_t *payload_len)
{
    if (len < VG_CTL_HDR)
        return 0;
    uint32_t n = be32_get(buf);
    if (n == 0)
        return -EBADMSG;
    if (n > max)
        return -EMSGSIZE;
    if (len - VG_CTL_HDR < n)
        return 0;
    *payload_len = n;
    return 1;
}

void vg_ctl_frame_header(uint8_t hdr[VG_CTL_HDR], uint32_t len)
{
    hdr[0] = (uint8_t)(len >> 24);
    hdr[1] = (uint8_t)(len >> 16);
    hdr[2] = (uint8_t)(len >> 8);
    hdr[3] = (uint8_t)len;
}

/* Reads a big-endian unsigned integer of n bytes at p. */
static uint64_t be_get(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* For the msgpack type byte b: how many length bytes follow it (*lenbytes),
 * a fixed body size (*fixed, used when *lenbytes is 0), and whether the length
 * counts child objects (*container: 1 array, 2 map) rather than body bytes.
 * Returns false for the one byte that is never used (0xc1). */
static bool mp_type(uint8_t b, unsigned *lenbytes, size_t *fixed, unsigned *container)
{
    *lenbytes = 0;
    *fixed = 0;
    *container = 0;
    if (b <= 0x7f || b >= 0xe0 || (b >= 0xc0 && b <= 0xc3))
        return b != 0xc1;
    if (b >= 0x80 && b <= 0x8f) {
        *container = 2;
        *fixed = b & 0x0f;
    } else if (b >= 0x90 && b <= 0x9f) {
        *container = 1;
        *fixed = b & 0x0f;
    } else if (b >= 0xa0 && b <= 0xbf) {
        *fixed = b & 0x1f;
    } else if (b >= 0xc4 && b <= 0xc6) { /* bin 8/16/32 */
        *lenbytes = 1u << (b - 0xc4);
    } else if (b >= 0xc7 && b <= 0xc9) { /* ext 8/16/32: length, then a type byte */
        *lenbytes = 1u << (b - 0xc7);
    } else if (b >= 0xca && b <= 0xd3) { /* float, uint, int */
        static const uint8_t sz[] = {4, 8, 1, 2, 4, 8, 1, 2, 4, 8};
        *fixed = sz[b - 0xca];
    } else if (b >= 0xd4 && b <= 0xd8) { /* fixext 1..16, plus the type byte */
        *fixed = (1u << (b - 0xd4)) + 1;
    } else if (b >= 0xd9 && b <= 0xdb) { /* str 8/16/32 */
        *lenbytes = 1u << (b - 0xd9);
    } else if (b == 0xdc || b == 0xdd) {
        *container = 1;
        *lenbytes = b == 0xdc ? 2 : 4;
    } else { /* 0xde, 0xdf */
        *container = 2;
        *lenbytes = b == 0xde ? 2 : 4;
    }
    return true;
}

/*
 * Checks that buf holds exactly one msgpack object whose announced array and
 * map sizes fit in the bytes that are actually there. msgpack-c allocates a
 * container's element array before reading its elements, so without this a
 * five-byte "map of 4 billion entries" would ask the zone for 128 GiB. Since
 * every element takes at least one byte, the check bounds the zone to a small
 * multiple of the payload.
 */
bool vg_mp_shape_ok(const void *data, size_t len)
{
    const uint8_t *buf = data;
    size_t pos = 0, pending = 1;
    while (pending > 0) {
        if (pos >= len)
            return false;
        uint8_t b = buf[pos++];
        unsigned lenbytes, container;
        size_t n;
        if (!mp_type(b, &lenbytes, &n, &container))
            return false;
        if (lenbytes) {
            if (len - pos < lenbytes)
                return false;
            n = (size_t)be_get(buf + pos, lenbytes);
            pos += lenbytes;
            if (!container && b >= 0xc7 && b <= 0xc9)
                n += 1; /* the ext type byte */
        }
        pending--;
        if (container) {
            /* A map has two objects per entry. */
            if (n > (len - pos) / container || pending + n * container > len - pos)
                return false;
            pending += n * container;
        } else {
            if (n > len - pos)
                return false;
            pos += n;
        }
    }
    return pos == len;
}

int vg_ctl_request_decode(const void *payload, size_t len, msgpack_zone *zone, const char **cmd,
                          msgpack_object *args)
{
    if (!vg_mp_shape_ok(payload, len))
        return -EBADMSG;
    msgpack_object root;
    size_t off = 0;
    /* msgpack-c reports nesting deeper than its parse stack as "no memory";
     * for a request that is as malformed as any other failure. */
    msgpack_unpack_return ur = msgpack_unpack(payload, len, &off, zone, &root);
    if (ur != MSGPACK_UNPACK_SUCCESS || off != len || root.type != MSGPACK_OBJECT_MAP)
        return -EBADMSG;

    const msgpack_object *c = vg_mp_get(&root, "cmd");
    if (!c || c->type != MSGPACK_OBJECT_STR || c->via.str.size == 0 || c->via.str.size > CMD_MAX ||
        memchr(c->via.str.ptr, '\0', c->via.str.size))
        return -EBADMSG;
    const msgpack_object *a = vg_mp_get(&root, "args");
    if (a && a->type != MSGPACK_OBJECT_MAP)
        return -EBADMSG;

    char *name = msgpack_zone_malloc(zone, c->via.str.size + 1);
    if (!name)
        return -ENOMEM;
    memcpy(name, c->via.str.ptr, c->via.str.size);
    name[c->via.str.size] = '\0';
    *cmd = name;
    if (a)
        *args = *a;
    else
        *args = (msgpack_object){.type = MSGPACK_OBJECT_NIL};
    return 0;
}

/* The helpers below are for clients; they block. */

static int write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
        /* MSG_NOSIGNAL: a daemon that went away must be an error to report,
         * not a SIGPIPE that kills vigilctl. */
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -ECONNRESET;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int vg_ctl_send_request(int fd, const char *cmd, const void *args, size_t args_len)
{
    if (!cmd || (args && args_len == 0))
        return -EINVAL;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);

    /* Room for the header first, so that the frame goes out in one buffer. */
    uint8_t hdr[VG_CTL_HDR] = {0};
    int rc = msgpack_sbuffer_write(&sb, (const char *)hdr, sizeof(hdr));
    rc = rc ? rc : msgpack_pack_map(&pk, args ? 2 : 1);
    rc = rc ? rc : vg_mp_pack_kv_str(&pk, "cmd", cmd);
    if (args) {
        rc = rc ? rc : vg_mp_pack_cstr(&pk, "args");
        rc = rc ? rc : msgpack_sbuffer_write(&sb, args, args_len);
    }
    if (rc) {
        msgpack_sbuffer_destroy(&sb);
        return -ENOMEM;
    }
    if (sb.size - VG_CTL_HDR > UINT32_MAX) {
        msgpack_sbuffer_destroy(&sb);
        return -EMSGSIZE;
    }
    vg_ctl_frame_header((uint8_t *)sb.data, (uint32_t)(sb.size - VG_CTL_HDR));
    rc = write_all(fd, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

/* max 0 means VG_CTL_MAX_FRAME. After -EMSGSIZE or -EBADMSG the stream is out
 * of step and the caller must close fd. */
int vg_ctl_read_frame(int fd, size_t max, void **payload, size_t *len)
{
    if (max == 0)
        max = VG_CTL_MAX_FRAME;
    uint8_t hdr[VG_CTL_HDR];
    int rc = read_all(fd, hdr, sizeof(hdr));
    if (rc < 0)
        return rc;
    size_t n = 0;
    rc = vg_ctl_frame_check(hdr, sizeof(hdr), max, &n);
    if (rc < 0)
        return rc;
    n = be32_get(hdr);
    void *p = malloc(n);
    if (!p)
        return -ENOMEM;
    rc = read_all(fd, p, n);
    if (rc < 0) {
        free(p);
        return rc;
    }
    *payload = p;
    *len = n;
    return 0;
}

int vg_ctl_connect(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (!path || !*path)
        return -EINVAL;
    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int rc;
    do
        rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}
