/*
 * The control protocol, shared by vigild (core/ctl/ctl.c) and vigilctl.
 *
 * A frame is a 4-byte big-endian length N (1 <= N <= max) followed by N bytes
 * of msgpack. A request is a map {"cmd": "status", "args": {...}} ("args"
 * optional). A reply is {"ok": true, "result": <any>} or
 * {"ok": false, "error": "<message>", "errno": <positive errno>}. A streaming
 * command (events --follow) replies ok and then sends one frame per event,
 * {"event": {...}}, until either side closes.
 */
#ifndef VG_CTL_PROTO_H
#define VG_CTL_PROTO_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#define VG_CTL_HDR 4
#define VG_CTL_MAX_FRAME (1u << 20) /* 1 MiB */

/* Looks at buffered bytes. Returns 1 when a whole frame is there (*payload_len
 * set; the frame is VG_CTL_HDR + *payload_len bytes), 0 when more bytes are
 * needed, -EMSGSIZE when the announced length exceeds max, -EBADMSG for a
 * zero length. */
int vg_ctl_frame_check(const void *buf, size_t len, size_t max, size_t *payload_len);

/* Writes the 4-byte header for a payload of len bytes. */
void vg_ctl_frame_header(uint8_t hdr[VG_CTL_HDR], uint32_t len);

/* Decodes a request payload into `zone`. *cmd points to a NUL-terminated
 * copy in the zone; *args is the args map or a nil object. 0 or -EBADMSG
 * (not one msgpack map, trailing bytes, no "cmd" string, args not a map). */
int vg_ctl_request_decode(const void *payload, size_t len, msgpack_zone *zone, const char **cmd,
                          msgpack_object *args);

/* Blocking helpers for clients (vigilctl, tests). fd is a connected socket.
 * send_request packs {"cmd","args"} where args is a msgpack map in bytes
 * (NULL for none). read_frame reads one whole frame into a malloc()ed
 * buffer. Both return 0 or a negative errno (-ECONNRESET on EOF). */
int vg_ctl_send_request(int fd, const char *cmd, const void *args, size_t args_len);
int vg_ctl_read_frame(int fd, size_t max, void **payload, size_t *len);
/* Connects to the unix socket at path: fd >= 0 or a negative errno. */
int vg_ctl_connect(const char *path);

#endif
