/*
 * A Kafka cluster for the tests of the kafka output: librdkafka's own mock
 * cluster (rd_kafka_mock_cluster_new: real brokers speaking the Kafka
 * protocol on loopback, in this process), with a consumer that writes every
 * message it reads from TOPIC as one line "KEY<TAB>VALUE" to OUT.
 *
 *   kafka_mock BOOTSTRAP_FILE OUT TOPIC
 *
 * The brokers' addresses go to BOOTSTRAP_FILE once they listen. Runs until
 * SIGTERM or 60 s.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    stop = 1;
}

static rd_kafka_t *make(rd_kafka_type_t type, const char *const *props)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    for (size_t i = 0; props[i]; i += 2)
        if (rd_kafka_conf_set(conf, props[i], props[i + 1], err, sizeof(err)) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "kafka_mock: %s: %s\n", props[i], err);
            exit(1);
        }
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof(err));
    if (!rk) {
        fprintf(stderr, "kafka_mock: %s\n", err);
        exit(1);
    }
    return rk;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: kafka_mock BOOTSTRAP_FILE OUT TOPIC\n");
        return 2;
    }
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    const char *const host_props[] = {NULL};
    rd_kafka_t *host = make(RD_KAFKA_PRODUCER, host_props);
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(host, 1);
    if (!mc || rd_kafka_mock_topic_create(mc, argv[3], 1, 1) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "kafka_mock: cannot create the mock cluster\n");
        return 1;
    }
    const char *bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
    const char *const consumer_props[] = {"bootstrap.servers", bootstraps,
                                          "group.id", "vigil-test",
                                          "auto.offset.reset", "earliest", NULL};
    rd_kafka_t *c = make(RD_KAFKA_CONSUMER, consumer_props);
    rd_kafka_poll_set_consumer(c);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, argv[3], RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(c, topics);
    rd_kafka_topic_partition_list_destroy(topics);

    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]);
    FILE *bf = fopen(tmp, "w");
    if (!bf || fprintf(bf, "%s\n", bootstraps) < 0 || fclose(bf) != 0 || rename(tmp, argv[1]) != 0)
        return 1;
    FILE *out = fopen(argv[2], "a");
    if (!out)
        return 1;
    time_t end = time(NULL) + 60;
    while (!stop && time(NULL) < end) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 200);
        if (!m)
            continue;
        if (!m->err) {
            fprintf(out, "%.*s\t%.*s\n", (int)m->key_len, (const char *)m->key, (int)m->len,
                    (const char *)m->payload);
            fflush(out);
        }
        rd_kafka_message_destroy(m);
    }
    fclose(out);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(host);
    return 0;
}
