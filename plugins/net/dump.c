/*
 * `vigilctl capture`: the packets of one namespace written as a pcap file by
 * the capture thread, bounded in time and size.
 *
 * The daemon writes the file into memory (a memfd, at most capture_max_mb),
 * and vigilctl reads it from there in chunks over the control socket and
 * saves it where the user said, with the user's rights. So the daemon, which
 * runs as root, never writes to a path a client chose, and the service's
 * sandbox (PrivateTmp, ProtectHome, ProtectSystem in vigild.service) does
 * not decide where captures may go. The optional filter is compiled by libpcap for the file's link
 * type and applied to each packet (pcap_offline_filter); the namespace's own capture filter applies
 * before it. Packets of an interface of another link type than the first interface's are counted,
 * not written (a pcap file has one link type).
 */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
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
    int fd = memfd_create("vigil-capture", MFD_CLOEXEC);
    int keep = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1; /* pcap_dump_close closes fd */
    FILE *f = keep >= 0 ? fdopen(fd, "wb") : NULL;
    int err = errno;
    if (f)
        d->out = pcap_dump_fopen(d->dead, f);
    if (!d->out) {
        snprintf(rq->error, sizeof(rq->error), "cannot write the capture: %s",
                 f ? pcap_geterr(d->dead) : strerror(err));
        if (f)
            fclose(f);
        else if (fd >= 0)
            close(fd);
        if (keep >= 0)
            close(keep);
        if (d->has_prog)
            pcap_freecode(&d->prog);
        pcap_close(d->dead);
        free(d);
        return f ? -EIO : -err;
    }
    d->res.fd = keep;
    d->end_us = net_now_us() + (uint64_t)rq->seconds * 1000000u;
    d->max_bytes = (uint64_t)rq->max_bytes;
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
    struct stat st;
    d->res.size = fstat(d->res.fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    if (d->has_prog)
        pcap_freecode(&d->prog);
    pcap_close(d->dead);
    *res = d->res;
    free(d);
}
