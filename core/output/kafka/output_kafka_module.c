/*
 * The Kafka output's module (output_kafka.so), loaded by core/output's
 * output_kafka.c when a "kafka" output is configured:
 *
 *   { kind = "kafka", brokers = "k1:9092,k2:9092", topic = "vigil",
 *     properties = { ["compression.codec"] = "lz4" } }   -- librdkafka's names
 *
 * Each event is one message: the event as JSON, keyed by its group so that
 * a group's events keep their order within a partition. librdkafka batches,
 * retries and reconnects on threads of its own; produce() only queues.
 * Outcomes come back as delivery reports, read on the output's thread
 * (tick) and counted: a message that librdkafka gives up on
 * (message.timeout.ms, default 300 s; a broker that refuses it) counts as
 * failed, and so does one refused because librdkafka's own queue is full.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "mp.h"
#include "output_int.h"

#define FLUSH_MS 2000

typedef struct kafka_out {
    rd_kafka_t *rk;
    char topic[256];
    uint64_t delivered, failed; /* from delivery reports, on the output's thread */
} kafka_out;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    kafka_out *k = opaque;
    if (m->err)
        k->failed++;
    else
        k->delivered++;
}

static int set(rd_kafka_conf_t *conf, const char *name, const char *val, char *err,
               size_t errlen)
{
    char why[256];
    if (rd_kafka_conf_set(conf, name, val, why, sizeof(why)) == RD_KAFKA_CONF_OK)
        return 0;
    snprintf(err, errlen, "property %s: %s", name, why);
    return -EINVAL;
}

static int apply_properties(rd_kafka_conf_t *conf, const msgpack_object *settings, char *err,
                            size_t errlen)
{
    const msgpack_object *p = vg_mp_get(settings, "properties");
    for (uint32_t i = 0; p && p->type == MSGPACK_OBJECT_MAP && i < p->via.map.size; i++) {
        const msgpack_object_kv *kv = &p->via.map.ptr[i];
        char name[128], val[1024];
        if (kv->key.type != MSGPACK_OBJECT_STR || kv->val.type != MSGPACK_OBJECT_STR)
            continue;
        snprintf(name, sizeof(name), "%.*s", (int)kv->key.via.str.size, kv->key.via.str.ptr);
        snprintf(val, sizeof(val), "%.*s", (int)kv->val.via.str.size, kv->val.via.str.ptr);
        if (set(conf, name, val, err, errlen) < 0)
            return -EINVAL;
    }
    return 0;
}

static int kafka_open(const msgpack_object *settings, void **priv, char *err, size_t errlen)
{
    kafka_out *k = calloc(1, sizeof(*k));
    if (!k)
        return -ENOMEM;
    char brokers[1024];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int rc = vg_mp_get_cstr(settings, "brokers", brokers, sizeof(brokers)) == 0 &&
                     vg_mp_get_cstr(settings, "topic", k->topic, sizeof(k->topic)) == 0
                 ? 0
                 : (snprintf(err, errlen, "brokers and topic are required"), -EINVAL);
    if (rc == 0)
        rc = set(conf, "bootstrap.servers", brokers, err, errlen);
    if (rc == 0)
        rc = set(conf, "client.id", "vigild", err, errlen);
    if (rc == 0)
        rc = apply_properties(conf, settings, err, errlen);
    if (rc < 0) {
        rd_kafka_conf_destroy(conf);
        free(k);
        return rc;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, k);
    char why[512];
    /* rd_kafka_new owns conf from here, also when it fails. */
    if (!(k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why)))) {
        snprintf(err, errlen, "%s", why);
        free(k);
        return -EINVAL;
    }
    *priv = k;
    return 0;
}

static int kafka_write(void *priv, const msgpack_object *ev, const char *json, size_t len)
{
    kafka_out *k = priv;
    const char *group = "";
    size_t gl = 0;
    vg_mp_get_str(ev, "group", &group, &gl);
    rd_kafka_resp_err_t e = rd_kafka_producev(
        k->rk, RD_KAFKA_V_TOPIC(k->topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY((void *)group, gl), RD_KAFKA_V_VALUE((void *)json, len), RD_KAFKA_V_END);
    rd_kafka_poll(k->rk, 0);
    return e == RD_KAFKA_RESP_ERR_NO_ERROR ? 1 : -EIO;
}

static void kafka_tick(void *priv, uint64_t *written, uint64_t *failed)
{
    kafka_out *k = priv;
    rd_kafka_poll(k->rk, 0);
    *written += k->delivered;
    *failed += k->failed;
    k->delivered = k->failed = 0;
}

static void kafka_close(void *priv)
{
    kafka_out *k = priv;
    rd_kafka_flush(k->rk, FLUSH_MS);
    rd_kafka_destroy(k->rk);
    free(k);
}

static const vg_output_kind kind = {
    .name = "kafka",
    .open = kafka_open,
    .write = kafka_write,
    .tick = kafka_tick,
    .close = kafka_close,
};

__attribute__((visibility("default"))) const vg_output_kind *vigil_output_kafka(void)
{
    return &kind;
}
