/* Welch's t-test for compare_runs (compare.h).
 *
 * The p-value needs the Student t distribution's tail, which is a
 * regularized incomplete beta function.  That is one function, evaluated on
 * at most a few hundred metrics per comparison: not worth a dependency on
 * a numerics library (the usual one, GSL, is GPL besides), so it is
 * computed here from its continued fraction (Abramowitz & Stegun 26.5.8),
 * evaluated with the modified Lentz method.  Accuracy ~1e-12, far beyond
 * what a 0.05 cut needs. */
#include "compare.h"

#include <math.h>

#define CF_MAX_TERMS 300
#define CF_EPS 1e-14
#define CF_TINY 1e-300

/* One modified-Lentz step: fold the partial numerator num into the
 * running c and d (kept away from zero) and return the factor by which
 * the fraction's value changes. */
static double lentz_step(double num, double *c, double *d)
{
	*d = 1.0 + num * *d;
	*c = 1.0 + num / *c;
	if (fabs(*d) < CF_TINY)
		*d = CF_TINY;
	if (fabs(*c) < CF_TINY)
		*c = CF_TINY;
	*d = 1.0 / *d;
	return *d * *c;
}

/* The continued fraction for I_x(a, b), converging fast for
 * x < (a + 1) / (a + b + 2). */
static double beta_cf(double a, double b, double x)
{
	double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0), h, num, step;
	int m;

	if (fabs(d) < CF_TINY)
		d = CF_TINY;
	d = 1.0 / d;
	h = d;
	for (m = 1; m <= CF_MAX_TERMS; m++) {
		/* Even term d_{2m}, then odd term d_{2m+1}. */
		num = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
		h *= lentz_step(num, &c, &d);
		num = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
		step = lentz_step(num, &c, &d);
		h *= step;
		if (fabs(step - 1.0) < CF_EPS)
			break;
	}
	return h;
}

/* Regularized incomplete beta I_x(a, b), a, b > 0, 0 <= x <= 1. */
static double incomplete_beta(double a, double b, double x)
{
	double front;

	if (x <= 0.0)
		return 0.0;
	if (x >= 1.0)
		return 1.0;
	front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
	/* Use the side where the fraction converges; the other follows from
	 * I_x(a, b) = 1 - I_{1-x}(b, a). */
	if (x < (a + 1.0) / (a + b + 2.0))
		return front * beta_cf(a, b, x) / a;
	return 1.0 - front * beta_cf(b, a, 1.0 - x) / b;
}

void sample_mean_var(const double *x, size_t n, double *mean, double *var)
{
	double m = 0, s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		m += x[i];
	m /= (double)n;
	for (i = 0; i < n; i++)
		s += (x[i] - m) * (x[i] - m);
	*mean = m;
	*var = s / (double)(n - 1);
}

double welch_p_value(const double *a, size_t na, const double *b, size_t nb)
{
	double ma, va, mb, vb, sa, sb, se2, t, df, p;

	if (na < 2 || nb < 2)
		return NAN;
	sample_mean_var(a, na, &ma, &va);
	sample_mean_var(b, nb, &mb, &vb);
	sa = va / (double)na;
	sb = vb / (double)nb;
	se2 = sa + sb;
	if (se2 == 0)
		return ma == mb ? NAN : 0.0;
	t = (ma - mb) / sqrt(se2);
	/* Welch-Satterthwaite degrees of freedom. */
	df = se2 * se2 / (sa * sa / (double)(na - 1) + sb * sb / (double)(nb - 1));
	/* Two-sided: P(|T| > |t|) = I_{df/(df+t^2)}(df/2, 1/2). */
	p = incomplete_beta(df / 2.0, 0.5, df / (df + t * t));
	return p < 0 ? 0 : p > 1 ? 1 : p;
}
