/*
 * The median of a bench's rounds: the figure the bench programs print,
 * since single rounds on a shared machine swing. Sorts v in place.
 */
#ifndef VIGIL_BENCH_MEDIAN_H
#define VIGIL_BENCH_MEDIAN_H

#include <stdlib.h>

static inline int bench_cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static inline double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
    return v[n / 2];
}

#endif
