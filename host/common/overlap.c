/* overlap.c: whether two strided views of one memory share a byte, exactly. Both APIs
 * refuse an output that partly overlaps an input; with strides, a view's bytes are not
 * one interval, and views that interleave without touching (x on the even elements, y
 * on the odd ones) are legitimate. So the question is a bounded linear Diophantine one:
 * are there i, j in [0, n) with |(a + i * sa) - (b + j * sb)| < es? */
#include "common/common.h"

static int spans_meet(size_t a, size_t sa, size_t b, size_t sb, size_t n, size_t es)
{
    size_t a_end = a + (n - 1) * sa + es, b_end = b + (n - 1) * sb + es;
    return a < b_end && b < a_end;
}

#ifdef __SIZEOF_INT128__
typedef __int128 wide;
typedef unsigned __int128 uwide;

static wide floor_div(wide p, wide q) /* q > 0 */
{
    wide d = p / q;
    return (p % q != 0 && p < 0) ? d - 1 : d;
}

static wide ceil_div(wide p, wide q) /* q > 0 */ { return -floor_div(-p, q); }

/* The inverse of u modulo m (u and m coprime, m >= 1), in [0, m). */
static wide inverse_mod(wide u, wide m)
{
    wide r0 = m, r1 = u % m, t0 = 0, t1 = 1;
    while (r1 != 0) {
        wide q = r0 / r1, r2 = r0 - q * r1, t2 = t0 - q * t1;
        r0 = r1;
        r1 = r2;
        t0 = t1;
        t1 = t2;
    }
    t0 %= m;
    return t0 < 0 ? t0 + m : t0;
}

static wide gcd(wide u, wide v)
{
    while (v != 0) {
        wide r = u % v;
        u = v;
        v = r;
    }
    return u;
}

/* Whether i * sa - j * sb == d for some i, j in [0, n); g = gcd(sa, sb) divides d. */
static int difference_reached(wide sa, wide sb, wide g, wide d, wide n)
{
    wide sa1 = sa / g, sb1 = sb / g, d1 = d / g;
    if (sa1 <= 0 || sb1 <= 0)
        return 1; /* no stride is 0 (callers pass multiples of es >= 1); say "meet" if one were */
    /* i == d1 / sa1 (mod sb1): the smallest such i >= 0 */
    wide dm = d1 % sb1;
    if (dm < 0)
        dm += sb1;
    wide i0 = (wide)(((uwide)dm * (uwide)inverse_mod(sa1, sb1)) % (uwide)sb1);
    if (i0 > n - 1)
        return 0;
    wide j0 = (i0 * sa1 - d1) / sb1; /* exact */
    /* every solution: i = i0 + k * sb1, j = j0 + k * sa1, k >= 0 */
    wide hi = floor_div(n - 1 - i0, sb1);
    wide hi_j = floor_div(n - 1 - j0, sa1);
    wide lo = ceil_div(-j0, sa1);
    if (hi_j < hi)
        hi = hi_j;
    if (lo < 0)
        lo = 0;
    return lo <= hi;
}

int lrelu_views_meet(size_t a, size_t sa, size_t b, size_t sb, size_t n, size_t es)
{
    if (!spans_meet(a, sa, b, sb, n, es))
        return 0;
    if (n == 1)
        return 1;
    /* i * sa - j * sb must fall in (b - a - es, b - a + es) and be a multiple of g;
     * g >= es, so at most two such values */
    wide g = gcd((wide)sa, (wide)sb), diff = (wide)b - (wide)a;
    for (wide d = ceil_div(diff - (wide)es + 1, g) * g; d < diff + (wide)es; d += g)
        if (difference_reached((wide)sa, (wide)sb, g, d, (wide)n))
            return 1;
    return 0;
}
#else
int lrelu_views_meet(size_t a, size_t sa, size_t b, size_t sb, size_t n, size_t es)
{
    return spans_meet(a, sa, b, sb, n, es);
}
#endif
