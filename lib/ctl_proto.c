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
