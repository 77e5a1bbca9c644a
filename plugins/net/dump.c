/*
 * `vigilctl capture`: the packets of one namespace written to a pcap file by
 * the capture thread, bounded in time and size.
 *
 * The file is created by the daemon (root) at the absolute path the client
 * names, and only if nothing is there yet (O_EXCL, O_NOFOLLOW, mode 0600):
 * a capture request can never overwrite or follow a link to an existing
 * file. The optional filter is compiled by libpcap for the file's link type
 * and applied to each packet (pcap_offline_filter); the namespace's own
 * capture filter applies before it. Packets of an interface of another link
 * type than the first interface's are counted, not written (a pcap file has
 * one link type).
 */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

struct net_dump {
    pcap_t *dead;
    pcap_dumper_t *out;
    struct bpf_program prog;
    bool has_prog;
    int dlt;
    uint64_t end_us, max_bytes, written_bytes;
    net_dump_result res;
};

int net_dump_open(net_dump **out, const net_dump_req *rq_in, int dlt, int snaplen)
{
    net_dump_req *rq = (net_dump_req *)rq_in; /* for its error text */
    if (rq->path[0] != '/') {
        snprintf(rq->error, sizeof(rq->error), "the file must be an absolute path");
        return -EINVAL;
    }
    net_dump *d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->dlt = dlt;
    d->dead = pcap_open_dead(dlt, snaplen);
    if (!d->dead) {
        free(d);
        return -ENOMEM;
    }
    if (rq->filter[0]) {
        if (pcap_compile(d->dead, &d->prog, rq->filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
            snprintf(rq->error, sizeof(rq->error), "filter: %s", pcap_geterr(d->dead));
            pcap_close(d->dead);
            free(d);
            return -EINVAL;
        }
        d->has_prog = true;
    }
    int fd = open(rq->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    int err = errno;
    if (f)
        d->out = pcap_dump_fopen(d->dead, f);
    if (!d->out) {
        snprintf(rq->error, sizeof(rq->error), "%.160s: %s", rq->path,
                 fd < 0 ? strerror(err) : pcap_geterr(d->dead));
        if (f)
            fclose(f);
        else if (fd >= 0)
            close(fd);
        if (fd >= 0)
            unlink(rq->path);
        if (d->has_prog)
            pcap_freecode(&d->prog);
        pcap_close(d->dead);
        free(d);
        return fd < 0 ? -err : -EIO;
    }
    d->end_us = net_now_us() + (uint64_t)rq->seconds * 1000000u;
    d->max_bytes = (uint64_t)rq->max_bytes;
    snprintf(d->res.path, sizeof(d->res.path), "%s", rq->path);
    *out = d;
    return 0;
}

bool net_dump_expired(const net_dump *d, uint64_t now_us)
{
    return now_us >= d->end_us;
}

int net_dump_packet(net_dump *d, int dlt, const void *hdr_v, const uint8_t *pkt, uint64_t now_us)
{
    const struct pcap_pkthdr *h = hdr_v;
    if (dlt != d->dlt) {
        d->res.other_linktype++;
        return 0;
    }
    if (d->has_prog && !pcap_offline_filter(&d->prog, h, pkt)) {
        d->res.filtered_out++;
        return 0;
    }
    /* 16 bytes of record header per packet. */
    if (d->written_bytes + h->caplen + 16 > d->max_bytes) {
        d->res.truncated = true;
        return 1;
    }
    pcap_dump((u_char *)d->out, h, pkt);
    d->written_bytes += h->caplen + 16;
    d->res.packets++;
    d->res.bytes += h->caplen;
    return net_dump_expired(d, now_us) ? 1 : 0;
}

void net_dump_close(net_dump *d, net_dump_result *res)
{
    if (pcap_dump_flush(d->out) < 0)
        d->res.error = -EIO;
    pcap_dump_close(d->out);
    if (d->has_prog)
        pcap_freecode(&d->prog);
    pcap_close(d->dead);
    *res = d->res;
    free(d);
}
