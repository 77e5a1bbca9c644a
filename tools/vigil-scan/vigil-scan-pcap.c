/*
 * `vigil-scan pcap FILE... [--json]`: the network engine (plugins/net, vgnet)
 * on capture files (pcap and pcapng, through libpcap's offline reader),
 * without a daemon. One line per flow when it ends; with --json one JSON
 * object per line:
 *
 *   {"type":"flow","l4":"tcp","client":"10.0.0.1:51234","server":"10.0.0.2:80",
 *    "application":"http","first":"...Z","last":"...Z","client_packets":5,
 *    "server_packets":4,"client_bytes":420,"server_bytes":1300,"end":"closed",
 *    "fields":{"http.method":"GET","http.host":"example.com",...}}
 *
 * A key that repeats (dns.answer) becomes an array. Each file is its own
 * capture source; its flows end (flushed) when the file does. A summary line
 * goes to stderr.
 *
 * Threats (plugins/net/threat/, every one on unless --threats says) print
 * when they are seen:
 *
 *   {"type":"threat","name":"syn-flood","severity":"critical","time":"...Z",
 *    "l4":"tcp","client":"...","server":"...","flow":12,"detail":"...",
 *    "packet":"<base64 of up to 2 KiB of the frame>"}
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "vigil-scan.h"

struct scan {
    int json;
    FILE *out;
    uint64_t flows;
    uint64_t threats;
};

static void help(FILE *out)
{
    fprintf(out,
            "usage: vigil-scan pcap [options] FILE...\n"
            "\n"
            "Reads capture files (pcap, pcapng) and prints every flow with the\n"
            "application named from its bytes (not its port) and the protocol's fields.\n"
            "\n"
            "  --json            one JSON object per line\n"
            "  --max-flows N     session table bound (65536); the oldest is evicted\n"
            "  --quiet           print the summary only\n"
            "  --threats LIST    threats to detect: ids separated by commas, 'all'\n"
            "                    (the default), 'default' (the daemon's set) or 'none'\n"
            "  --extip ADDR      a Service external IP no workload should reach\n"
            "                    (k8s-extip-mitm); repeatable\n"
            "\n"
            "Exit status: 0 no threat, 1 threats seen, 2 error (a file that cannot be read).\n");
}

static const char *end_name(int reason)
{
    static const char *const n[] = {"closed", "timeout", "evicted", "flush"};
    return reason >= 0 && reason < 4 ? n[reason] : "?";
}

static void iso_time(char *buf, size_t len, uint64_t us)
{
    time_t s = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%06" PRIu64 "Z", us % 1000000);
}

static void json_str(FILE *o, const char *s)
{
    fputc('"', o);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(o, "\\%c", ch);
        else if (ch < 0x20 || ch >= 0x7f)
            fprintf(o, "\\u%04x", ch);
        else
            fputc(ch, o);
    }
    fputc('"', o);
}

/* Fields as an object; a key that repeats becomes an array of its values. */
static void json_fields(FILE *o, const vg_net_flow *f)
{
    fputs(",\"fields\":{", o);
    int first = 1;
    for (size_t i = 0; i < f->nfields; i++) {
        int seen = 0, count = 0;
        for (size_t j = 0; j < f->nfields; j++)
            if (!strcmp(f->fields[j].key, f->fields[i].key)) {
                seen |= j < i;
                count++;
            }
        if (seen)
            continue;
        fputs(first ? "" : ",", o);
        first = 0;
        json_str(o, f->fields[i].key);
        fputc(':', o);
        if (count == 1) {
            json_str(o, f->fields[i].value);
            continue;
        }
        fputc('[', o);
        for (size_t j = i, k = 0; j < f->nfields; j++)
            if (!strcmp(f->fields[j].key, f->fields[i].key)) {
                fputs(k++ ? "," : "", o);
                json_str(o, f->fields[j].value);
            }
        fputc(']', o);
    }
    fputc('}', o);
}

static void print_flow(struct scan *s, const vg_net_flow *f, int reason)
{
    char c[64], sv[64], t0[40], t1[40];
    int ports = f->l4 == 6 || f->l4 == 17;
    vg_net_endpoint(c, sizeof(c), f->family, f->client, ports ? f->client_port : -1);
    vg_net_endpoint(sv, sizeof(sv), f->family, f->server, ports ? f->server_port : -1);
    FILE *o = s->out;
    if (!s->json) {
        fprintf(o, "%-4s %s -> %s %s pkts %" PRIu64 "/%" PRIu64 " bytes %" PRIu64 "/%" PRIu64,
                vg_net_l4_name(f->l4), c, sv, f->app, f->pkts[0], f->pkts[1], f->bytes[0],
                f->bytes[1]);
        for (size_t i = 0; i < f->nfields; i++)
            fprintf(o, " %s=%s", f->fields[i].key, f->fields[i].value);
        fputc('\n', o);
        return;
    }
    iso_time(t0, sizeof(t0), f->first_us);
    iso_time(t1, sizeof(t1), f->last_us);
    fprintf(o, "{\"type\":\"flow\",\"l4\":\"%s\",\"client\":", vg_net_l4_name(f->l4));
    json_str(o, c);
    fputs(",\"server\":", o);
    json_str(o, sv);
    fputs(",\"application\":", o);
    json_str(o, f->app);
    fprintf(o,
            ",\"first\":\"%s\",\"last\":\"%s\",\"client_packets\":%" PRIu64
            ",\"server_packets\":%" PRIu64 ",\"client_bytes\":%" PRIu64 ",\"server_bytes\":%" PRIu64
            ",\"end\":\"%s\"",
            t0, t1, f->pkts[0], f->pkts[1], f->bytes[0], f->bytes[1], end_name(reason));
    json_fields(o, f);
    fputs("}\n", o);
}

static void on_threat(void *arg, const vg_net_threat *t)
{
    struct scan *s = arg;
    s->threats++;
    if (!s->out)
        return;
    char c[64] = "", sv[64] = "", ts[40];
    int ports = t->l4 == 6 || t->l4 == 17;
    if (t->family) {
        vg_net_endpoint(c, sizeof(c), t->family, t->client, ports ? t->client_port : -1);
        vg_net_endpoint(sv, sizeof(sv), t->family, t->server, ports ? t->server_port : -1);
    }
    FILE *o = s->out;
    if (!s->json) {
        fprintf(o, "threat %s %s %s -> %s %s\n", t->name, vg_net_severity_name(t->severity), c, sv,
                t->detail);
        return;
    }
    iso_time(ts, sizeof(ts), t->ts_us);
    fprintf(o,
            "{\"type\":\"threat\",\"name\":\"%s\",\"severity\":\"%s\",\"time\":\"%s\","
            "\"l4\":\"%s\",\"client\":",
            t->name, vg_net_severity_name(t->severity), ts, vg_net_l4_name(t->l4));
    json_str(o, c);
    fputs(",\"server\":", o);
    json_str(o, sv);
    fprintf(o, ",\"flow\":%" PRIu64 ",\"detail\":", t->flow_id);
    json_str(o, t->detail);
    char b64[4 * ((VG_NET_THREAT_PKT_MAX + 2) / 3) + 1];
    vg_net_threat_packet_b64(t, b64, sizeof(b64));
    fprintf(o, ",\"packet\":\"%s\"}\n", b64);
}

/* --threats: ids separated by commas, or all / default / none. */
static int parse_threats(const char *arg, vg_net_threat_conf *c)
{
    vg_net_threat_defaults(c);
    if (!strcmp(arg, "default"))
        return 0;
    if (!strcmp(arg, "all") || !strcmp(arg, "none")) {
        c->enabled = arg[0] == 'a' ? VG_NET_T_ALL : 0;
        return 0;
    }
    c->enabled = 0;
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", arg);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        int id = vg_net_threat_lookup(tok);
        if (id < 0) {
            fprintf(stderr, "vigil-scan pcap: unknown threat '%s'\n", tok);
            return -1;
        }
        c->enabled |= VG_NET_T_BIT(id);
    }
    return 0;
}

static int parse_extip(const char *arg, uint8_t (*addrs)[16], int *fams, size_t *n)
{
    if (*n >= 64) {
        fprintf(stderr, "vigil-scan pcap: at most 64 --extip\n");
        return -1;
    }
    memset(addrs[*n], 0, 16);
    if (inet_pton(AF_INET, arg, addrs[*n]) == 1)
        fams[*n] = AF_INET;
    else if (inet_pton(AF_INET6, arg, addrs[*n]) == 1)
        fams[*n] = AF_INET6;
    else {
        fprintf(stderr, "vigil-scan pcap: --extip wants an address, not '%s'\n", arg);
        return -1;
    }
    (*n)++;
    return 0;
}

static void on_end(void *arg, const vg_net_flow *f, int reason)
{
    struct scan *s = arg;
    s->flows++;
    if (s->out)
        print_flow(s, f, reason);
}

/* Feeds one file; 0, or -1 after an error message. */
static int scan_file(vg_net_engine *e, const char *path, uint32_t source)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, err);
    if (!p) {
        fprintf(stderr, "vigil-scan pcap: %s\n", err);
        return -1;
    }
    int dlt = pcap_datalink(p);
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc;
    while ((rc = pcap_next_ex(p, &h, &data)) == 1)
        vg_net_feed(e, dlt, (uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec, data,
                    h->caplen, h->len, source);
    if (rc == PCAP_ERROR)
        fprintf(stderr, "vigil-scan pcap: %s: %s (read so far is reported)\n", path,
                pcap_geterr(p));
    pcap_close(p);
    vg_net_flush(e);
    return rc == PCAP_ERROR ? -1 : 0;
}

int vg_scan_pcap(int argc, char **argv)
{
    static const struct option lo[] = {
        {"json", no_argument, NULL, 'j'},
        {"max-flows", required_argument, NULL, 'm'},
        {"quiet", no_argument, NULL, 'q'},
        {"threats", required_argument, NULL, 't'},
        {"extip", required_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    struct scan s = {.out = stdout};
    vg_net_config cfg = {0};
    vg_net_threat_conf tc;
    vg_net_threat_defaults(&tc);
    tc.enabled = VG_NET_T_ALL;
    uint8_t extip[64][16];
    int extfam[64];
    size_t nextip = 0;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (ch) {
        case 'j':
            s.json = 1;
            break;
        case 'q':
            s.out = NULL;
            break;
        case 't':
            if (parse_threats(optarg, &tc) < 0)
                return VG_SCAN_ERROR;
            break;
        case 'x':
            if (parse_extip(optarg, extip, extfam, &nextip) < 0)
                return VG_SCAN_ERROR;
            break;
        case 'm': {
            char *end;
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end || !v || v > (1ul << 28)) {
                fprintf(stderr, "vigil-scan pcap: --max-flows wants 1..%lu\n", 1ul << 28);
                return VG_SCAN_ERROR;
            }
            cfg.max_flows = (uint32_t)v;
            break;
        }
        case 'h':
            help(stdout);
            return 0;
        default:
            help(stderr);
            return VG_SCAN_ERROR;
        }
    }
    if (optind >= argc) {
        help(stderr);
        return VG_SCAN_ERROR;
    }
    vg_net_sink sink = {.arg = &s, .flow_end = on_end, .threat = on_threat};
    vg_net_engine *e = vg_net_engine_new(&cfg, &sink);
    if (!e || vg_net_threat_set(e, VG_NET_SOURCE_DEFAULT, &tc) < 0 ||
        vg_net_threat_extips(e, (const uint8_t(*)[16])extip, extfam, nextip) < 0) {
        fprintf(stderr, "vigil-scan pcap: %s\n", strerror(e ? ENOMEM : errno));
        vg_net_engine_free(e);
        return VG_SCAN_ERROR;
    }
    int failed = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = optind; i < argc; i++)
        failed |= scan_file(e, argv[i], (uint32_t)(i - optind)) < 0;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    vg_net_stats st;
    vg_net_stats_get(e, &st);
    fprintf(stderr,
            "vigil-scan pcap: %d file(s), %" PRIu64 " packets, %" PRIu64 " flows (%" PRIu64
            " identified, %" PRIu64 " unknown), %" PRIu64 " malformed, %" PRIu64
            " unsupported, %" PRIu64 " fragments (%" PRIu64 " reassembled, %" PRIu64
            " dropped), %" PRIu64 " evicted, %" PRIu64 " not inspected (pool full), %" PRIu64
            " threats, %.3f s (%.0f packets/s)\n",
            argc - optind, st.packets, st.flows_total, st.identified, st.unknown, st.malformed,
            st.unsupported, st.fragments, st.reassembled, st.frag_dropped, st.evicted,
            st.inspect_full, s.threats, secs, secs > 0 ? (double)st.packets / secs : 0.0);
    vg_net_engine_free(e);
    return failed ? VG_SCAN_ERROR : s.threats ? VG_SCAN_FOUND : VG_SCAN_CLEAN;
}
