/* The per-sample part of cython_ext.dtmf: one sub-block's eight single-bin DFTs
 * (re, im = 16 sums), its sample sum, energy and count of full-scale samples.
 *
 * Written with GCC vector types so the same source becomes SSE2 on any x86-64 and
 * AVX2+FMA where the CPU has it (chosen once at load time by target_clones), with
 * four independent accumulators so the adds do not wait on each other.
 */
#ifndef QBOX_DTMF_KERNEL_H
#define QBOX_DTMF_KERNEL_H

#include <string.h>

#define DTMF_BINS 16
#define DTMF_CLIP 32000.0f

typedef float dtmf_v8 __attribute__((vector_size(32)));
typedef int dtmf_v8i __attribute__((vector_size(32)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#define DTMF_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define DTMF_CLONES
#endif

static inline dtmf_v8 dtmf_load8(const float *p)
{
    dtmf_v8 v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* x: n samples; basis: n rows of DTMF_BINS (cos, -sin per tone); out: 16 sums,
 * then sum of x, sum of x^2, number of samples at or beyond DTMF_CLIP. */
DTMF_CLONES
static void dtmf_subblock(const float *x, int n, const float *basis, float *out)
{
    dtmf_v8 a0 = {0}, a1 = {0}, b0 = {0}, b1 = {0};
    int i = 0;
    for (; i + 1 < n; i += 2) {
        dtmf_v8 x0 = {0}, x1 = {0};
        x0 += x[i];
        x1 += x[i + 1];
        a0 += x0 * dtmf_load8(basis + i * DTMF_BINS);
        a1 += x0 * dtmf_load8(basis + i * DTMF_BINS + 8);
        b0 += x1 * dtmf_load8(basis + (i + 1) * DTMF_BINS);
        b1 += x1 * dtmf_load8(basis + (i + 1) * DTMF_BINS + 8);
    }
    if (i < n) {
        dtmf_v8 x0 = {0};
        x0 += x[i];
        a0 += x0 * dtmf_load8(basis + i * DTMF_BINS);
        a1 += x0 * dtmf_load8(basis + i * DTMF_BINS + 8);
    }
    a0 += b0;
    a1 += b1;
    memcpy(out, &a0, sizeof a0);
    memcpy(out + 8, &a1, sizeof a1);

    dtmf_v8 s = {0}, ss = {0};
    dtmf_v8i clips = {0};
    const dtmf_v8i magnitude = {0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff,
                                0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff};
    for (i = 0; i + 8 <= n; i += 8) {
        dtmf_v8 v = dtmf_load8(x + i);
        s += v;
        ss += v * v;
        clips -= ((dtmf_v8) ((dtmf_v8i) v & magnitude)) >= DTMF_CLIP;   /* -1 where clipped */
    }
    float sum = 0.0f, energy = 0.0f, clipped = 0.0f;
    for (int k = 0; k < 8; k++) {
        sum += s[k];
        energy += ss[k];
        clipped += (float) clips[k];
    }
    for (; i < n; i++) {
        sum += x[i];
        energy += x[i] * x[i];
        clipped += (x[i] >= DTMF_CLIP || x[i] <= -DTMF_CLIP) ? 1.0f : 0.0f;
    }
    out[DTMF_BINS] = sum;
    out[DTMF_BINS + 1] = energy;
    out[DTMF_BINS + 2] = clipped;
}

#endif
