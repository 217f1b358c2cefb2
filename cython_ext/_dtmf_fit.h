/* The fast form of cython_ext.dtmf's exact energy share: one kept window's two
 * tones with their leakage taken out (their level) and their fitted energy.
 *
 * dtmf.pyx computes the same two numbers in its reference form (_unleak and
 * _fitted_energy), where every Dirichlet kernel and phase term is its own sin/cos
 * call: 76 of them per window, half the receiver's time when every channel dials.
 * Every one of those angles is s * f for a tone's measured frequency f (or a sum or
 * difference of the two tones') and one of eleven multipliers s.  So here
 * e^{j s f} = e^{j s bin} * p^{2 s}, with e^{j s bin} tabled per tone and
 * p = e^{j (f - bin) / 2}: one sincos per tone and a few dozen complex products.
 * The results agree with the reference to about 1e-12; the receiver decides from
 * them only when they are clear of its thresholds and asks the reference otherwise.
 */
#ifndef QBOX_DTMF_FIT_H
#define QBOX_DTMF_FIT_H

#include <complex.h>
#include <math.h>

/* Plain complex products and quotients: no inf/NaN recovery (the operands are
 * finite), so they inline and schedule instead of calling libgcc. */
#pragma GCC push_options
#pragma GCC optimize("cx-limited-range")

#define DTMF_FIT_TONES 8

/* The multipliers s (in comments: for H samples per sub-block, WIN sub-blocks per
 * window, N = WIN * H samples per window) and the power of p each one takes. */
enum {
    FIT_HALF,          /* 1/2 */
    FIT_H_HALF,        /* H/2 */
    FIT_H1_HALF,       /* (H-1)/2 */
    FIT_N_HALF,        /* N/2 */
    FIT_W1H_HALF,      /* (WIN-1)H/2 */
    FIT_N1_HALF,       /* (N-1)/2 */
    FIT_ONE,           /* 1 */
    FIT_H,             /* H */
    FIT_N,             /* N */
    FIT_N1,            /* N-1 */
    FIT_W1H,           /* (WIN-1)H */
    FIT_S
};

typedef struct {
    int H, win;
    double complex base[DTMF_FIT_TONES][FIT_S];       /* e^{j s bin} */
} dtmf_fit_table;

static int dtmf_fit_power(const dtmf_fit_table *tab, int s)
{
    int H = tab->H, N = tab->win * tab->H;
    switch (s) {
    case FIT_HALF: return 1;
    case FIT_H_HALF: return H;
    case FIT_H1_HALF: return H - 1;
    case FIT_N_HALF: return N;
    case FIT_W1H_HALF: return (tab->win - 1) * H;
    case FIT_N1_HALF: return N - 1;
    case FIT_ONE: return 2;
    case FIT_H: return 2 * H;
    case FIT_N: return 2 * N;
    case FIT_N1: return 2 * N - 2;
    default: return 2 * (tab->win - 1) * H;     /* FIT_W1H */
    }
}

static void dtmf_fit_init(dtmf_fit_table *tab, const double *bins, int H, int win)
{
    tab->H = H;
    tab->win = win;
    for (int t = 0; t < DTMF_FIT_TONES; t++) {
        for (int s = 0; s < FIT_S; s++) {
            double angle = bins[t] * dtmf_fit_power(tab, s) / 2.0;
            tab->base[t][s] = cos(angle) + sin(angle) * I;
        }
    }
}

static double complex dtmf_fit_pow(double complex z, int k)
{
    double complex out = 1.0;
    for (;;) {
        if (k & 1)
            out *= z;
        k >>= 1;
        if (!k)
            return out;
        z *= z;
    }
}

/* sum_{i<n} e^{j d i} from e^{j d/2}, e^{j n d/2} and e^{j (n-1) d/2}, as dtmf.pyx's
 * _dirichlet computes it from d. */
static inline double complex dtmf_fit_dirichlet(double complex half, double complex whole,
                                                double complex rest, int n)
{
    double gain = fabs(cimag(half)) < 1e-9 ? n : cimag(whole) / cimag(half);
    return gain * rest;
}

/* e^{j s f} for every multiplier s, where f = bin + u; returns D(u, H), the
 * tone's sub-block response to itself. */
static double complex dtmf_fit_phasors(const dtmf_fit_table *tab, int tone, double u, double complex *out)
{
    int H = tab->H, win = tab->win;
    double complex p = cos(u / 2.0) + sin(u / 2.0) * I;
    double complex back = conj(p);                   /* |p| = 1: conj is the inverse */
    double complex pH = dtmf_fit_pow(p, H);
    double complex pN = dtmf_fit_pow(pH, win);
    double complex pW1H = pN * conj(pH);
    double complex pN1 = pN * back;
    double complex power[FIT_S];
    power[FIT_HALF] = p;
    power[FIT_H_HALF] = pH;
    power[FIT_H1_HALF] = pH * back;
    power[FIT_N_HALF] = pN;
    power[FIT_W1H_HALF] = pW1H;
    power[FIT_N1_HALF] = pN1;
    power[FIT_ONE] = p * p;
    power[FIT_H] = pH * pH;
    power[FIT_N] = pN * pN;
    power[FIT_N1] = pN1 * pN1;
    power[FIT_W1H] = pW1H * pW1H;
    for (int s = 0; s < FIT_S; s++)
        out[s] = tab->base[tone][s] * power[s];
    return dtmf_fit_dirichlet(p, pH, power[FIT_H1_HALF], H);
}

/* What tone o (and its image) and t's own image add to t's window sum; ``own`` and
 * ``other`` are the two window sums / WIN, ``ft``/``fo`` their phasors, ``dt``/``dO``
 * the inverse of each tone's sub-block response to itself, ``rt``/``ro`` the phase
 * references. */
static double complex dtmf_fit_leak(const dtmf_fit_table *tab, int t, double complex own,
                                    double complex other, const double complex *ft,
                                    const double complex *fo, double complex dt, double complex dO,
                                    double complex rt, double complex ro)
{
    const double complex *bt = tab->base[t];
    int H = tab->H, win = tab->win;
    /* Tone o at t's bin: D(f_o - bin_t, H) / D(f_o - bin_o, H) * D(-(f_o - f_t) H, WIN). */
    double complex at_t = dtmf_fit_dirichlet(fo[FIT_HALF] * conj(bt[FIT_HALF]),
                                             fo[FIT_H_HALF] * conj(bt[FIT_H_HALF]),
                                             fo[FIT_H1_HALF] * conj(bt[FIT_H1_HALF]), H);
    double complex turn = dtmf_fit_dirichlet(conj(fo[FIT_H_HALF]) * ft[FIT_H_HALF],
                                             conj(fo[FIT_N_HALF]) * ft[FIT_N_HALF],
                                             conj(fo[FIT_W1H_HALF]) * ft[FIT_W1H_HALF], win);
    double complex leak = at_t * dO * turn * (rt * conj(ro)) * other;
    /* o's image: D(-(f_o + bin_t), H) / conj(D(f_o - bin_o, H)) * D((f_o + f_t) H, WIN). */
    double complex image = dtmf_fit_dirichlet(conj(fo[FIT_HALF] * bt[FIT_HALF]),
                                              conj(fo[FIT_H_HALF] * bt[FIT_H_HALF]),
                                              conj(fo[FIT_H1_HALF] * bt[FIT_H1_HALF]), H);
    turn = dtmf_fit_dirichlet(fo[FIT_H_HALF] * ft[FIT_H_HALF], fo[FIT_N_HALF] * ft[FIT_N_HALF],
                              fo[FIT_W1H_HALF] * ft[FIT_W1H_HALF], win);
    leak += image * conj(dO) * turn * ro * rt * conj(other);
    /* t's own image: D(-(f_t + bin_t), H) / conj(D(f_t - bin_t, H)) * D(2 f_t H, WIN). */
    image = dtmf_fit_dirichlet(conj(ft[FIT_HALF] * bt[FIT_HALF]), conj(ft[FIT_H_HALF] * bt[FIT_H_HALF]),
                               conj(ft[FIT_H1_HALF] * bt[FIT_H1_HALF]), H);
    turn = dtmf_fit_dirichlet(ft[FIT_H], ft[FIT_N], ft[FIT_W1H], win);
    leak += image * conj(dt) * turn * rt * rt * conj(own);
    return leak;
}

/* One kept window: ``sums`` its row and column window sums (re, im), ``u`` their
 * frequency errors in radians per sample (as the table's ``bins``), ``rot`` the
 * row's and column's phase references (re, im) at its newest sub-block.  Out: ``level``, the two tones'
 * power with the leakage taken out, and ``energy``, their fitted energy over the
 * window (see dtmf.pyx's _unleak and _fitted_energy). */
static void dtmf_fit(const dtmf_fit_table *tab, const float *sums, const float *u, int row, int col,
                     const float *rot, double *level, double *energy)
{
    int H = tab->H, win = tab->win, N = win * H;
    double complex f[2][FIT_S], inv_d[2], given[2], s[2], q[2], ref[2], z;
    int tone[2] = {row, col};
    for (int k = 0; k < 2; k++) {
        inv_d[k] = 1.0 / dtmf_fit_phasors(tab, tone[k], u[k], f[k]);
        given[k] = (sums[2 * k] + sums[2 * k + 1] * I) / win;
        ref[k] = rot[2 * k] + rot[2 * k + 1] * I;
    }
    s[0] = sums[0] + sums[1] * I
           - dtmf_fit_leak(tab, row, given[0], given[1], f[0], f[1], inv_d[0], inv_d[1], ref[0], ref[1]);
    s[1] = sums[2] + sums[3] * I
           - dtmf_fit_leak(tab, col, given[1], given[0], f[1], f[0], inv_d[1], inv_d[0], ref[1], ref[0]);
    *level = creal(s[0]) * creal(s[0]) + cimag(s[0]) * cimag(s[0])
             + creal(s[1]) * creal(s[1]) + cimag(s[1]) * cimag(s[1]);
    double total = 0.0;
    for (int k = 0; k < 2; k++) {
        q[k] = s[k] / win * inv_d[k];                       /* half the complex amplitude */
        ref[k] = conj(ref[k]);
        total += 2.0 * N * (creal(q[k]) * creal(q[k]) + cimag(q[k]) * cimag(q[k]));
        /* The tone against its own image. */
        z = q[k] * q[k] * ref[k] * ref[k] * conj(f[k][FIT_W1H] * f[k][FIT_W1H])
            * dtmf_fit_dirichlet(f[k][FIT_ONE], f[k][FIT_N], f[k][FIT_N1], N);
        total += 2.0 * creal(z);
    }
    /* The two tones against each other: difference and sum frequencies. */
    z = q[0] * conj(q[1]) * ref[0] * conj(ref[1]) * conj(f[0][FIT_W1H]) * f[1][FIT_W1H]
        * dtmf_fit_dirichlet(f[0][FIT_HALF] * conj(f[1][FIT_HALF]), f[0][FIT_N_HALF] * conj(f[1][FIT_N_HALF]),
                             f[0][FIT_N1_HALF] * conj(f[1][FIT_N1_HALF]), N);
    total += 4.0 * creal(z);
    z = q[0] * q[1] * ref[0] * ref[1] * conj(f[0][FIT_W1H] * f[1][FIT_W1H])
        * dtmf_fit_dirichlet(f[0][FIT_HALF] * f[1][FIT_HALF], f[0][FIT_N_HALF] * f[1][FIT_N_HALF],
                             f[0][FIT_N1_HALF] * f[1][FIT_N1_HALF], N);
    total += 4.0 * creal(z);
    *energy = total;
}

#pragma GCC pop_options

#endif
