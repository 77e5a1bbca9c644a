/*
 * Test helpers of plugins/net: a sink that records what the engine reports,
 * a capture-file reader (libpcap) and builders of crafted packets.
 */
#ifndef VIGIL_NET_TEST_UTIL_H
#define VIGIL_NET_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

#define REC_MAX 256

typedef struct rec_flow {
    char app[32];
    uint8_t l4;
    int family;
    char client[64], server[64];
    uint16_t cport, sport;
    uint64_t pkts[2], bytes[2];
    int reason;
    char fields[1024]; /* "key=value\n" lines */
} rec_flow;

typedef struct recorder {
    rec_flow flows[REC_MAX];
    size_t nflows;
    size_t started, named;
    char app_fields[1024]; /* the fields of the last flow_app, "key=value\n" */
    char anomalies[2048];  /* "id\n" lines */
    size_t nanomalies;
    char dns[1024]; /* "name=addr\n" lines */
    size_t npackets;
} recorder;

vg_net_sink recorder_sink(recorder *r);
/* A new engine reporting to r (cleared); fails the test if it cannot. */
vg_net_engine *test_engine(const vg_net_config *cfg, recorder *r);
/* Feeds a capture file; returns its link type or -1. */
int feed_file(vg_net_engine *e, const char *path);
/* Runs one corpus file (relative to NET_CORPUS_DIR) through a fresh engine
 * with default configuration and flushes it. */
void scan_corpus(const char *rel, recorder *r, vg_net_stats *st);
/* The first recorded flow with this application, or NULL. */
const rec_flow *flow_by_app(const recorder *r, const char *app);
size_t count_app(const recorder *r, const char *app);
/* 1 when the flow has the field key=value. */
int has_field(const rec_flow *f, const char *key, const char *value);
int has_anomaly(const recorder *r, const char *id);

/* Crafted packets: raw IP (DLT_RAW) into out; returns the length. */
typedef struct tcp_spec {
    const char *src, *dst; /* IPv4 or IPv6 literal */
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    const void *payload;
    uint32_t len;
} tcp_spec;
uint32_t build_tcp(uint8_t *out, const tcp_spec *s);
uint32_t build_udp(uint8_t *out, const char *src, const char *dst, uint16_t sport, uint16_t dport,
                   const void *payload, uint32_t len);
/* An IP packet (IPv4 or IPv6 by the literal) around an L4 made by the caller. */
uint32_t build_ip(uint8_t *out, const char *src, const char *dst, uint8_t proto, const void *l4,
                  uint32_t l4len);
/* Feeds a raw IP packet. */
int feed_raw(vg_net_engine *e, uint64_t ts_us, const uint8_t *p, uint32_t len);

/* A TCP conversation: handshake, then each message as one segment from the
 * side given (0 client, 1 server), then FIN both ways. */
typedef struct tcp_msg {
    int from;
    const char *data;
    uint32_t len; /* 0: strlen(data) */
} tcp_msg;
void tcp_conversation(vg_net_engine *e, const char *cli, const char *srv, uint16_t cport,
                      uint16_t sport, const tcp_msg *msgs, size_t n);

#endif
