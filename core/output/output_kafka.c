/*
 * The "kafka" output, as a small module loaded when the first such output
 * is configured (output_kafka.so, built from core/output/kafka/): vigild
 * does not link librdkafka, so a daemon without a Kafka output never maps
 * it, its compression and TLS libraries (about 20 shared objects) or its
 * threads. The module's descriptor is forwarded to as it is; the module
 * stays loaded for the life of the process (librdkafka keeps global state).
 *
 * Where the module is: VIGIL_OUTPUT_DIR in the environment (tests, a build
 * tree), else the directory chosen at build time (/usr/lib/vigil/outputs).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "output_int.h"

#ifndef VIGIL_DEFAULT_OUTPUT_DIR
#define VIGIL_DEFAULT_OUTPUT_DIR "/usr/lib/vigil/outputs"
#endif
#define MODULE "output_kafka.so"

/* Set once on the loop thread, before any output thread can call in. */
static const vg_output_kind *module;

static int load(char *err, size_t errlen)
{
    if (module)
        return 0;
    const char *dir = getenv("VIGIL_OUTPUT_DIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : VIGIL_DEFAULT_OUTPUT_DIR, MODULE);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(err, errlen, "cannot load %s (Debian: install librdkafka1): %s", path,
                 dlerror());
        return -ENOENT;
    }
    const vg_output_kind *(*get)(void) = (const vg_output_kind *(*)(void))dlsym(h, "vigil_output_kafka");
    if (!get || !(module = get())) {
        snprintf(err, errlen, "%s has no vigil_output_kafka", path);
        dlclose(h);
        return -ENOENT;
    }
    return 0;
}

static int kafka_open(const msgpack_object *settings, void **priv, char *err, size_t errlen)
{
    int rc = load(err, errlen);
    return rc < 0 ? rc : module->open(settings, priv, err, errlen);
}

static int kafka_write(void *priv, const msgpack_object *ev, const char *json, size_t len)
{
    return module->write(priv, ev, json, len);
}

static void kafka_tick(void *priv, uint64_t *written, uint64_t *failed)
{
    module->tick(priv, written, failed);
}

static void kafka_close(void *priv)
{
    module->close(priv);
}

const vg_output_kind vg__output_kafka = {
    .name = "kafka",
    .open = kafka_open,
    .write = kafka_write,
    .tick = kafka_tick,
    .close = kafka_close,
};
