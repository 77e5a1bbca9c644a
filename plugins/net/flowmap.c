/* The flow-id map of conns.c: linear probing, deletion by backward shift
 * (no tombstones), doubled at half load. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "flowmap.h"

static size_t home(const net_flowmap *m, uint64_t id)
{
    return (size_t)((id * 0x9e3779b97f4a7c15ull) >> 17) & (m->cap - 1);
}

void net_flowmap_free(net_flowmap *m)
{
    free(m->slot);
    memset(m, 0, sizeof(*m));
}

net_flowrec *net_flowmap_get(net_flowmap *m, uint64_t id)
{
    if (!m->cap || !id)
        return NULL;
    for (size_t i = home(m, id);; i = (i + 1) & (m->cap - 1)) {
        if (m->slot[i].id == id)
            return &m->slot[i];
        if (!m->slot[i].id)
            return NULL;
    }
}

static int grow(net_flowmap *m)
{
    net_flowmap bigger = {.cap = m->cap ? m->cap * 2 : 256};
    bigger.slot = calloc(bigger.cap, sizeof(*bigger.slot));
    if (!bigger.slot)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slot[i].id)
            continue;
        size_t k = home(&bigger, m->slot[i].id);
        while (bigger.slot[k].id)
            k = (k + 1) & (bigger.cap - 1);
        bigger.slot[k] = m->slot[i];
        bigger.n++;
    }
    free(m->slot);
    *m = bigger;
    return 0;
}

net_flowrec *net_flowmap_put(net_flowmap *m, uint64_t id)
{
    net_flowrec *r = net_flowmap_get(m, id);
    if (r || !id)
        return r;
    if ((m->n + 1) * 2 > m->cap && grow(m) < 0)
        return NULL;
    size_t i = home(m, id);
    while (m->slot[i].id)
        i = (i + 1) & (m->cap - 1);
    memset(&m->slot[i], 0, sizeof(m->slot[i]));
    m->slot[i].id = id;
    m->n++;
    return &m->slot[i];
}

void net_flowmap_del(net_flowmap *m, uint64_t id)
{
    net_flowrec *r = net_flowmap_get(m, id);
    if (!r)
        return;
    size_t i = (size_t)(r - m->slot), mask = m->cap - 1;
    m->slot[i].id = 0;
    m->n--;
    /* Shift back the entries of the run after i that may live at i. */
    for (size_t j = (i + 1) & mask; m->slot[j].id; j = (j + 1) & mask) {
        size_t h = home(m, m->slot[j].id);
        bool movable = i <= j ? (h <= i || h > j) : (h <= i && h > j);
        if (movable) {
            m->slot[i] = m->slot[j];
            m->slot[j].id = 0;
            i = j;
        }
    }
}
