"""
Reference values for experiments/stats tests, computed independently with scipy,
statsmodels and numpy. Not run by the tests (tests never call Python): run it by hand,
`python3 experiments/stats/reference/generate.py`, and compare with the literals in the
*.test.ts files, each of which names the call that produced it.

Versions used: scipy 1.17.1, statsmodels 0.15.0, numpy 2.4.6, gsdesign 0.1.5 (group-sequential
section only: `pip install gsdesign==0.1.5`), Python 3.11.
"""
import itertools
import numpy as np
import scipy
import statsmodels
from scipy import special, stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    power_proportions_2indep,
    proportions_ztest,
    samplesize_proportions_2indep_onetail,
)


def show(label, value):
    print(f"{label} -> {value!r}")


print("scipy", scipy.__version__, "statsmodels", statsmodels.__version__, "numpy", np.__version__)

print("\n# special")
for x in [0.5, 1.0, 3.7, 10.0, 171.5, 1e6]:
    show(f"special.gammaln({x})", float(special.gammaln(x)))
for a, b in [(0.5, 0.5), (3.0, 7.5), (12.0, 40.0), (5e5, 0.5), (2.5e5, 7.5e5)]:
    show(f"special.betaln({a}, {b})", float(special.betaln(a, b)))
for a, b, x in [(2.0, 3.0, 0.4), (0.5, 0.5, 0.1), (10.0, 2.5, 0.9), (50.0, 60.0, 0.3), (8.65, 0.5, 0.05),
                (5e5, 0.5, 0.999999), (2.5e5, 7.5e5, 0.2505), (900.0, 101.0, 0.9)]:
    show(f"special.betainc({a}, {b}, {x})", float(special.betainc(a, b, x)))
    show(f"special.betaincc({a}, {b}, {x})", float(special.betaincc(a, b, x)))
for a, b, p in [(2.0, 3.0, 0.3), (0.5, 0.5, 0.9), (10.0, 2.5, 0.01), (0.5, 8.65, 0.999), (8.65, 0.5, 1e-8)]:
    show(f"special.betaincinv({a}, {b}, {p})", float(special.betaincinv(a, b, p)))
for a, x in [(0.5, 0.2), (1.0, 1.0), (3.5, 2.0), (3.5, 9.0), (50.0, 80.0), (2.0, 60.0)]:
    show(f"special.gammainc({a}, {x})", float(special.gammainc(a, x)))
    show(f"special.gammaincc({a}, {x})", float(special.gammaincc(a, x)))

print("\n# normal")
for x in [-40.0, -38.0, -10.0, -5.5, -1.96, -0.5, 0.0, 0.3, 0.67448975, 1.0, 2.5, 5.0, 8.0]:
    show(f"stats.norm.cdf({x})", float(stats.norm.cdf(x)))
for x in [5.0, 10.0, 30.0]:
    show(f"stats.norm.sf({x})", float(stats.norm.sf(x)))
for p in [1e-300, 1e-20, 1e-10, 0.001, 0.025, 0.05, 0.075, 0.3, 0.5, 0.8, 0.925, 0.975, 0.999, 1 - 1e-12]:
    show(f"stats.norm.ppf({p!r})", float(stats.norm.ppf(p)))

print("\n# student t")
for t, df in [(-2.4376, 17.3), (1.0, 2.5), (-0.2, 0.7), (3.0, 1.0), (-8.0, 4.2), (2.0, 1e6), (-6.0, 30.0), (0.001, 5.5), (-4.0, 5e7)]:
    show(f"stats.t.cdf({t}, {df})", float(stats.t.cdf(t, df)))
for t, df in [(40.0, 3.0), (12.0, 25.5)]:
    show(f"stats.t.sf({t}, {df})", float(stats.t.sf(t, df)))
for p, df in [(0.975, 17.3), (0.975, 2.5), (0.025, 1.0), (0.95, 0.7), (0.999999, 4.2), (0.6, 1e6), (0.5000001, 9.0),
              (1e-12, 12.5), (0.975, 1e9), (0.001, 5e7)]:
    show(f"stats.t.ppf({p!r}, {df})", float(stats.t.ppf(p, df)))
show("stats.t.pdf(1.3, 7.7)", float(stats.t.pdf(1.3, 7.7)))

print("\n# chi-square")
for x, k in [(3.84, 1), (0.5, 2), (12.0, 3), (200.0, 3), (7.5, 4.5), (1e-3, 1)]:
    show(f"stats.chi2.cdf({x}, {k})", float(stats.chi2.cdf(x, k)))
    show(f"stats.chi2.sf({x}, {k})", float(stats.chi2.sf(x, k)))

print("\n# binomial")
for k, n, p in [(3, 10, 0.5), (40, 100, 0.5), (85, 100, 0.9), (0, 20, 0.05), (950, 1000, 0.9), (5, 1000, 0.99)]:
    show(f"stats.binom.cdf({k}, {n}, {p})", float(stats.binom.cdf(k, n, p)))
    show(f"stats.binom.sf({k}, {n}, {p})", float(stats.binom.sf(k, n, p)))
for q, n, p in [(0.025, 100, 0.5), (0.025, 100, 0.9), (0.005, 1000, 0.99), (0.025, 20, 0.05)]:
    show(f"stats.binom.ppf({q}, {n}, {p})", float(stats.binom.ppf(q, n, p)))
    show(f"stats.binom.isf({q}, {n}, {p})", float(stats.binom.isf(q, n, p)))

print("\n# means: Welch")
control = [12.1, 9.8, 11.4, 10.9, 13.2, 8.7, 10.1, 12.6, 11.8, 9.5]
treatment = [13.4, 12.9, 10.8, 14.6, 12.2, 13.9, 11.7, 15.1, 12.5, 13.0, 14.2, 11.1]
r = stats.ttest_ind(treatment, control, equal_var=False)
ci = r.confidence_interval(0.95)
show("stats.ttest_ind(treatment, control, equal_var=False) statistic", float(r.statistic))
show("  pvalue", float(r.pvalue))
show("  df", float(r.df))
show("  confidence_interval(0.95)", (float(ci.low), float(ci.high)))
ci90 = r.confidence_interval(0.90)
show("  confidence_interval(0.90)", (float(ci90.low), float(ci90.high)))
mc, mt = np.mean(control), np.mean(treatment)
vc, vt = np.var(control, ddof=1) / len(control), np.var(treatment, ddof=1) / len(treatment)
se_lift = np.sqrt(vt / mc**2 + mt**2 * vc / mc**4)
z = stats.norm.ppf(0.975)
show("delta-method lift (mt/mc - 1, se, lower, upper)", (float(mt / mc - 1), float(se_lift), float(mt / mc - 1 - z * se_lift), float(mt / mc - 1 + z * se_lift)))

# ClickHouse-sized aggregates: play delay in ms.
c = dict(n=48213, mean=1234.5, var=812.3**2)
t = dict(n=48001, mean=1219.8, var=790.1**2)
r = stats.ttest_ind_from_stats(t["mean"], np.sqrt(t["var"]), t["n"], c["mean"], np.sqrt(c["var"]), c["n"], equal_var=False)
vc, vt = c["var"] / c["n"], t["var"] / t["n"]
se = np.sqrt(vc + vt)
df = (vc + vt) ** 2 / (vc**2 / (c["n"] - 1) + vt**2 / (t["n"] - 1))
q = stats.t.ppf(0.975, df)
show("stats.ttest_ind_from_stats(1219.8, 790.1, 48001, 1234.5, 812.3, 48213, equal_var=False)", (float(r.statistic), float(r.pvalue)))
show("  welch df, se, ci via stats.t.ppf(0.975, df)", (float(df), float(se), float(t["mean"] - c["mean"] - q * se), float(t["mean"] - c["mean"] + q * se)))
se_lift = np.sqrt(vt / c["mean"]**2 + t["mean"]**2 * vc / c["mean"]**4)
show("  delta-method lift (est, se, lower, upper)", (float(t["mean"] / c["mean"] - 1), float(se_lift), float(t["mean"] / c["mean"] - 1 - z * se_lift), float(t["mean"] / c["mean"] - 1 + z * se_lift)))

print("\n# proportions")
for (xt, nt, xc, nc) in [(361, 19950, 412, 20000), (45, 150, 30, 140)]:
    zstat, p = proportions_ztest([xt, xc], [nt, nc])
    lo, hi = confint_proportions_2indep(xt, nt, xc, nc, method="wald", compare="diff", alpha=0.05)
    show(f"proportions_ztest([{xt}, {xc}], [{nt}, {nc}])", (float(zstat), float(p)))
    show(f"confint_proportions_2indep({xt}, {nt}, {xc}, {nc}, method='wald', compare='diff')", (float(lo), float(hi)))
    pt, pc = xt / nt, xc / nc
    se_lift = np.sqrt(pt * (1 - pt) / nt / pc**2 + pt**2 * pc * (1 - pc) / nc / pc**4)
    show("  delta-method lift (est, se, lower, upper)", (pt / pc - 1, float(se_lift), float(pt / pc - 1 - z * se_lift), float(pt / pc - 1 + z * se_lift)))

print("\n# quantiles")
rng = np.random.default_rng(20240601)
qa = np.round(rng.lognormal(7.0, 0.6, 60), 1)
qb = np.round(rng.lognormal(6.9, 0.6, 75), 1)
print("A =", list(map(float, qa)))
print("B =", list(map(float, qb)))
for data, name in [(qa, "A"), (qb, "B")]:
    for p in [0.5, 0.9]:
        res = stats.quantile_test(data, q=1000.0, p=p)
        ci = res.confidence_interval(0.95)
        show(f"stats.quantile_test({name}, q=1000, p={p}).confidence_interval(0.95)", (float(ci.low), float(ci.high)))
        show(f"np.quantile({name}, {p}, method='inverted_cdf')", float(np.quantile(data, p, method="inverted_cdf")))


def mj_se(data, p):
    x = np.sort(data)
    n = len(x)
    m = int(np.ceil(n * p - 1e-9))
    j = np.arange(1, n + 1)
    w = stats.beta.cdf(j / n, m, n - m + 1) - stats.beta.cdf((j - 1) / n, m, n - m + 1)
    c1 = np.dot(w, x)
    return float(np.sqrt(np.dot(w, (x - c1) ** 2)))


for data, name in [(qa, "A"), (qb, "B")]:
    for p in [0.5, 0.9]:
        show(f"Maritz-Jarrett se of {name} at {p} (stats.beta.cdf weights)", mj_se(data, p))

small = [3.1, 0.4, 2.2, 5.9, 1.7]
for p in [0.5, 0.9]:
    m = int(np.ceil(len(small) * p))
    values = [sorted(s)[m - 1] for s in itertools.product(small, repeat=5)]
    show(f"exact bootstrap sd by enumerating all 5^5 resamples of {small}, q={p}", float(np.std(values)))

big = np.array([(i * 7919 % 10007) / 10.0 for i in range(1, 200001)])
for p in [0.5, 0.99]:
    show(f"Maritz-Jarrett se of big (n=200000, x_i=(i*7919 mod 10007)/10) at {p}", mj_se(big, p))
det = np.array([(i * 7919 % 10007) / 10.0 for i in range(1, 1001)])
res = stats.quantile_test(det, q=500.0, p=0.99)
ci = res.confidence_interval(0.95)
show("stats.quantile_test(det1000, q=500, p=0.99).confidence_interval(0.95)", (float(ci.low), float(ci.high)))
show("np.quantile(det1000, 0.99, method='inverted_cdf')", float(np.quantile(det, 0.99, method="inverted_cdf")))
for p in [0.5, 0.9]:
    qa_hat = float(np.quantile(qa, p, method="inverted_cdf"))
    qb_hat = float(np.quantile(qb, p, method="inverted_cdf"))
    se = np.hypot(mj_se(qa, p), mj_se(qb, p))
    diff = qb_hat - qa_hat
    show(f"difference B - A at {p}: (diff, se, lower, upper, p)", (diff, float(se), float(diff - z * se), float(diff + z * se), float(2 * stats.norm.sf(abs(diff / se)))))

print("\n# srm")
for obs, w in [([50123, 49877], [1, 1]), ([50900, 49100], [1, 1]), ([34512, 32801, 33187], [3400, 3300, 3300])]:
    w = np.array(w, float)
    exp = np.sum(obs) * w / w.sum()
    r = stats.chisquare(obs, f_exp=exp)
    show(f"stats.chisquare({obs}, f_exp={list(map(float, exp))})", (float(r.statistic), float(r.pvalue)))

print("\n# cuped")
rng = np.random.default_rng(7)
xc = np.round(rng.normal(100, 20, 30), 2)
yc = np.round(0.8 * xc + rng.normal(20, 8, 30), 2)
xt = np.round(rng.normal(100, 20, 30), 2)
yt = np.round(0.8 * xt + rng.normal(24, 8, 30), 2)
print("xc =", list(map(float, xc)))
print("yc =", list(map(float, yc)))
print("xt =", list(map(float, xt)))
print("yt =", list(map(float, yt)))
xa, ya = np.concatenate([xc, xt]), np.concatenate([yc, yt])
theta = np.cov(xa, ya, ddof=1)[0, 1] / np.var(xa, ddof=1)
show("theta = np.cov(x_all, y_all)[0,1] / np.var(x_all, ddof=1)", float(theta))
show("pooled corr np.corrcoef(x_all, y_all)[0,1]", float(np.corrcoef(xa, ya)[0, 1]))
for x, y, name in [(xc, yc, "control"), (xt, yt, "treatment")]:
    ycv = y - theta * (x - xa.mean())
    show(f"{name}: mean(y_cv), var(y_cv, ddof=1), var(y, ddof=1)", (float(ycv.mean()), float(np.var(ycv, ddof=1)), float(np.var(y, ddof=1))))
r = stats.ttest_ind(yt - theta * (xt - xa.mean()), yc - theta * (xc - xa.mean()), equal_var=False)
show("stats.ttest_ind(y_cv treatment, y_cv control, equal_var=False)", (float(r.statistic), float(r.pvalue)))

print("\n# msprt (formula of Johari et al., evaluated in numpy)")
looks = [((500, 10.0, 4.0), (510, 10.3, 4.4)), ((1000, 10.02, 4.1), (1020, 10.31, 4.3)), ((1500, 10.01, 4.05), (1530, 10.12, 4.2))]
tau2, alpha = 0.01, 0.05
pmin, lo, hi = 1.0, -np.inf, np.inf
for (c, t) in looks:
    V = c[2] / c[0] + t[2] / t[0]
    d = t[1] - c[1]
    lam = np.sqrt(V / (V + tau2)) * np.exp(tau2 * d * d / (2 * V * (V + tau2)))
    pmin = min(pmin, 1 / lam)
    r = np.sqrt(2 * V * (V + tau2) / tau2 * (np.log(1 / alpha) + 0.5 * np.log((V + tau2) / V)))
    lo, hi = max(lo, d - r), min(hi, d + r)
    show(f"look {c},{t}: (V, log Lambda, p_always_valid, radius, ci_lower, ci_upper)", (float(V), float(np.log(lam)), float(min(1, pmin)), float(r), float(lo), float(hi)))
from scipy.optimize import brentq
rho = brentq(lambda r: r - 2 * np.log(20) - np.log1p(r), 1, 100, xtol=1e-15)
show("brentq(r - 2 ln 20 - ln(1+r)) (horizon-optimal tau^2 / V at alpha 0.05)", float(rho))
sigma2, n, tau2, d = 4.0, 800, 0.02, 0.25
lam = np.sqrt(2 * sigma2 / (2 * sigma2 + n * tau2)) * np.exp(n * n * tau2 * d * d / (4 * sigma2 * (2 * sigma2 + n * tau2)))
show("paper's equal-n form sqrt(2s2/(2s2+n tau2)) exp(n^2 tau2 d^2/(4 s2 (2 s2 + n tau2))), s2=4, n=800, tau2=0.02, d=0.25: log", float(np.log(lam)))

print("\n# multiple comparisons")
ps = [0.01, 0.04, 0.03, 0.005, 0.2, 0.04]
show(f"multipletests({ps}, method='holm')[1]", list(map(float, multipletests(ps, method="holm")[1])))
show(f"multipletests({ps}, method='fdr_bh')[1]", list(map(float, multipletests(ps, method="fdr_bh")[1])))

print("\n# power")
zsum = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
for sd, delta, wc, wt in [(800.0, 25.0, 0.5, 0.5), (1.0, 0.1, 0.34, 0.33)]:
    exact = zsum**2 * (sd**2 / wc + sd**2 / wt) / delta**2
    show(f"means N=(z_.975+z_.8)^2 sd^2 (1/wc+1/wt)/delta^2 sd={sd} delta={delta} w=({wc},{wt})", float(exact))
    nobs1 = NormalIndPower().solve_power(effect_size=delta / sd, alpha=0.05, power=0.8, ratio=wt / wc)
    show(f"  NormalIndPower().solve_power(effect_size={delta / sd}, alpha=0.05, power=0.8, ratio={wt / wc}) (control n)", float(nobs1))
    nc, nt = int(np.ceil(exact * wc)), int(np.ceil(exact * wt))
    show(f"  NormalIndPower().power(effect_size={delta / sd}, nobs1={nc}, alpha=0.05, ratio={nt}/{nc})", float(NormalIndPower().power(effect_size=delta / sd, nobs1=nc, alpha=0.05, ratio=nt / nc)))
show("NormalIndPower().power(effect_size=0.05, nobs1=3000, alpha=0.05, ratio=1.2)", float(NormalIndPower().power(effect_size=0.05, nobs1=3000, alpha=0.05, ratio=1.2)))
for pc, diff, wc, wt in [(0.1, 0.01, 0.5, 0.5), (0.02, -0.002, 0.34, 0.33)]:
    n1 = samplesize_proportions_2indep_onetail(diff, pc, 0.8, ratio=wc / wt, alpha=0.05, alternative="two-sided")
    show(f"samplesize_proportions_2indep_onetail({diff}, {pc}, 0.8, ratio={wc / wt}, alpha=0.05, alternative='two-sided') (treatment n)", float(n1))
    nt, nc = int(np.ceil(n1)), int(np.ceil(n1 * wc / wt - 1e-9))
    pw = power_proportions_2indep(diff, pc, nt, ratio=nc / nt, alpha=0.05)
    show(f"  power_proportions_2indep({diff}, {pc}, {nt}, ratio={nc}/{nt}, alpha=0.05).power", float(pw.power))

print("\n# prng: xoshiro128** 1.1 seeded by SplitMix64, transcribed from Blackman & Vigna's reference C (xoshiro128starstar.c, splitmix64.c);")
print("# the SplitMix64 transcription reproduces the published vector for seed 1234567: 6457827717110365317, 3203168211198807973, ...")
M64, M32 = (1 << 64) - 1, (1 << 32) - 1


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & M32


def xoshiro(seed):
    st, a = splitmix64(seed)
    st, b = splitmix64(st)
    s = [a & M32, a >> 32, b & M32, b >> 32]
    while True:
        result = (rotl((s[1] * 5) & M32, 7) * 9) & M32
        t = (s[1] << 9) & M32
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 11)
        yield result


for seed in [0, 42, 2**53 - 1]:
    g = xoshiro(seed)
    show(f"first 6 outputs, seed {seed}", [next(g) for _ in range(6)])
g = xoshiro(42)
u = []
for _ in range(3):
    hi, lo = next(g) >> 5, next(g) >> 6
    u.append((hi * 67108864 + lo) / 9007199254740992)
show("uniform() x3, seed 42: ((a>>5)*2^26 + (b>>6)) / 2^53", u)
g = xoshiro(7)
def uni():
    hi, lo = next(g) >> 5, next(g) >> 6
    return (hi * 67108864 + lo) / 9007199254740992
u1, u2 = 1 - uni(), uni()
r = np.sqrt(-2 * np.log(u1))
show("Box-Muller pair, seed 7: r cos(2 pi u2), r sin(2 pi u2) with u1 = 1 - uniform()", (float(r * np.cos(2 * np.pi * u2)), float(r * np.sin(2 * np.pi * u2))))

print("\n# group-sequential (Lan-DeMets spending; Jennison & Turnbull 2000)")
# Two independent computations of the same quantities:
# (1) gsdesign 0.1.5 (Nan Xiao's Python port of gsDesign's C grid: gridpts/h1/hupdate, the
#     J&T ch. 19 recursion) with the exit probabilities integrated here and scipy brentq;
# (2) scipy.stats.multivariate_normal.cdf (Genz's quasi-Monte Carlo algorithm, a different
#     method): Z_1..Z_K ~ N(0, C), C_ij = sqrt(t_i/t_j) for t_i <= t_j.
import gsdesign
from gsdesign import h1, hupdate
from scipy.optimize import brentq


def sf_obf(a, t):
    return 0.0 if t <= 0 else a if t >= 1 else float(2 * stats.norm.cdf(-stats.norm.isf(a / 2) / np.sqrt(t)))


def sf_pocock(a, t):
    return 0.0 if t <= 0 else a if t >= 1 else float(a * np.log(1 + (np.e - 1) * t))


def gs_exit(gm, tprev, t, b, drift=0.0):
    """P(reach the look at t, Z >= b) + P(reach it, Z <= -b) from the previous sub-density gm."""
    if gm is None:
        mu = drift * np.sqrt(t)
        return float(stats.norm.sf(b - mu) + stats.norm.cdf(-b - mu))
    z, _, h = gm
    d = t - tprev
    up = stats.norm.sf((b * np.sqrt(t) - z * np.sqrt(tprev) - drift * d) / np.sqrt(d))
    lo = stats.norm.cdf((-b * np.sqrt(t) - z * np.sqrt(tprev) - drift * d) / np.sqrt(d))
    return float(np.sum(h * (up + lo)))


def gs_next(gm, tprev, t, b, drift=0.0):
    if gm is None:
        return h1(18, drift, t, -b, b)
    return hupdate(18, drift, t, -b, b, drift, tprev, gm)


def gs_bounds(cum, ts):
    """Boundaries spending cum[k] (cumulative two-sided) through look k; also the last sub-density."""
    bs, gm, tp, prev = [], None, 0.0, 0.0
    for t, c in zip(ts, cum):
        tgt = c - prev
        b = brentq(lambda b: gs_exit(gm, tp, t, b) - tgt, 1e-6, 40, xtol=1e-14)
        bs.append(b)
        gm, tp, prev = gs_next(gm, tp, t, b), t, c
    return bs


def gs_total_exit(ts, bs, drift=0.0):
    gm, tp, total = None, 0.0, 0.0
    for t, b in zip(ts, bs):
        total += gs_exit(gm, tp, t, b, drift)
        gm, tp = gs_next(gm, tp, t, b, drift), t
    return total


def gs_upper_power(ts, bs, drift):
    gm, tp, total = None, 0.0, 0.0
    for t, b in zip(ts, bs):
        if gm is None:
            total += float(stats.norm.sf(b - drift * np.sqrt(t)))
        else:
            z, _, h = gm
            d = t - tp
            total += float(np.sum(h * stats.norm.sf((b * np.sqrt(t) - z * np.sqrt(tp) - drift * d) / np.sqrt(d))))
        gm, tp = gs_next(gm, tp, t, b, drift), t
    return total


def genz_continue(ts, bs):
    C = np.array([[np.sqrt(min(a, b) / max(a, b)) for b in ts] for a in ts])
    return float(stats.multivariate_normal.cdf(np.array(bs), mean=np.zeros(len(ts)), cov=C, lower_limit=-np.array(bs),
                                               maxpts=500_000 * len(ts), abseps=1e-8, releps=1e-8,
                                               rng=np.random.default_rng(1)))


for t in [0.01, 0.2, 0.5, 0.9]:
    show(f"spending at t={t}: (2*stats.norm.cdf(-stats.norm.isf(0.025)/sqrt(t)), 0.05*log(1+(e-1)t))", (sf_obf(0.05, t), sf_pocock(0.05, t)))
eq = lambda K: [(k + 1) / K for k in range(K)]
for name, sf in [("obf", sf_obf), ("pocock", sf_pocock)]:
    for ts in [eq(5), eq(10), [0.15, 0.4, 0.55, 0.8, 1.0]]:
        bs = gs_bounds([sf(0.05, t) for t in ts], ts)
        show(f"LD {name} spending alpha=0.05 t={ts}: bounds (gsdesign grid + brentq)", bs)
        show("  Genz 1 - P(|Z_k| < b_k all k)", 1 - genz_continue(ts, bs))
z4 = stats.norm.isf(0.05 / 4)
show("gsDesign convention (sfLDOF per side at alpha/2: 4 - 4 Phi(z_{1-a/4}/sqrt t)), K=5",
     gs_bounds([min(0.05, float(4 * stats.norm.cdf(-z4 / np.sqrt(t)))) for t in eq(5)], eq(5)))
for K in [2, 3, 4, 5, 10]:
    cp = brentq(lambda c: gs_total_exit(eq(K), [c] * K) - 0.05, 1.9, 3.5, xtol=1e-13)
    cb = brentq(lambda c: gs_total_exit(eq(K), [c / np.sqrt(t) for t in eq(K)]) - 0.05, 1.9, 3.5, xtol=1e-13)
    show(f"K={K}: Pocock C_P, O'Brien-Fleming C_B (gsdesign grid + brentq)", (cp, cb))
    show(f"  Genz type I error of the Pocock bound {round(cp, 3)} and C_B {round(cb, 3)}",
         (1 - genz_continue(eq(K), [round(cp, 3)] * K), 1 - genz_continue(eq(K), [round(cb, 3) / np.sqrt(t) for t in eq(K)])))
for K in [2, 5, 10, 20]:
    show(f"repeated 5% tests at K={K} equally spaced looks: type I error (gsdesign grid)", gs_total_exit(eq(K), [1.959963984540054] * K))
show("  Genz, K=5", 1 - genz_continue(eq(5), [1.959963984540054] * 5))


def inflation(ts, bs, power, alpha=0.05):
    fixed = stats.norm.isf(alpha / 2) + stats.norm.ppf(power)
    d = brentq(lambda d: gs_upper_power(ts, bs, d) - power, 0.5 * fixed, 2 * fixed, xtol=1e-13)
    return (d / fixed) ** 2


for K, power, kind in [(4, 0.8, "pocock"), (15, 0.9, "pocock"), (5, 0.8, "obf"), (20, 0.9, "obf")]:
    if kind == "pocock":
        c = brentq(lambda c: gs_total_exit(eq(K), [c] * K) - 0.05, 1.9, 3.5, xtol=1e-13)
        bs = [c] * K
    else:
        c = brentq(lambda c: gs_total_exit(eq(K), [c / np.sqrt(t) for t in eq(K)]) - 0.05, 1.9, 3.5, xtol=1e-13)
        bs = [c / np.sqrt(t) for t in eq(K)]
    show(f"inflation factor {kind} constant K={K} power={power} (gsdesign grid, upper-crossing power)", inflation(eq(K), bs, power))
for kind, sf in [("obf", sf_obf), ("pocock", sf_pocock)]:
    bs = gs_bounds([sf(0.05, t) for t in eq(10)], eq(10))
    show(f"inflation factor LD {kind} spending K=10 power=0.8", inflation(eq(10), bs, 0.8))

# Monitoring: cumulative cell summaries; information fraction (1/V)/I_max; a look with t >= 1
# or marked final spends all that is left (J&T 7.2.2). Stagewise p on stopping (J&T 8.4):
# alpha spent before the stopping look + P_H0(reach it, |Z| >= |z|). Repeated p-value (J&T 9.5):
# the smallest u at which the level-u design (same looks) crosses somewhere.


def monitor(label, sf, looks, imax, final_last=False):
    ts, times, zs, gm, tp, spent = [], [], [], None, 0.0, 0.0
    lo_run, hi_run, stagewise = -np.inf, np.inf, None
    for i, ((nc, mc, vc), (nt, mt, vt)) in enumerate(looks):
        V = vc / nc + vt / nt
        d = mt - mc
        t = (1 / V) / imax
        final = t >= 1 or (final_last and i == len(looks) - 1)
        cum = sf(0.05, 1.0 if final else t)
        b = brentq(lambda b: gs_exit(gm, tp, t, b) - (cum - spent), 1e-6, 40, xtol=1e-14)
        z = d / np.sqrt(V)
        if stagewise is None and (abs(z) >= b or final):
            stagewise = spent + gs_exit(gm, tp, t, abs(z))
        ts.append(t); times.append(1.0 if final else t); zs.append(abs(z))
        lo_run, hi_run = max(lo_run, d - b * np.sqrt(V)), min(hi_run, d + b * np.sqrt(V))
        gm, tp, spent = gs_next(gm, tp, t, b), t, cum

        def excess(u):
            bu = gs_bounds([sf(u, s) for s in times], ts)
            return max(zz - bb for zz, bb in zip(zs, bu))
        rep = 1.0 if excess(0.999999) < 0 else brentq(excess, float(2 * stats.norm.sf(max(zs))), 0.999999, xtol=1e-12)
        show(f"monitor {label} look {i + 1}: (t, d, V, z, b, rci lower, rci upper, running lower, running upper, repeated p)",
             (t, d, V, float(z), b, d - b * np.sqrt(V), d + b * np.sqrt(V), lo_run, hi_run, rep))
    show(f"monitor {label}: stagewise p on stopping", stagewise)


effect = [((200, 10.0, 1.0), (200, 10.21, 1.1)), ((400, 10.02, 1.03), (400, 10.19, 1.09)),
          ((600, 10.01, 1.01), (600, 10.2, 1.05)), ((800, 10.0, 1.0), (800, 10.16, 1.12))]
monitor("obf, I_max = 800/2.1, last look final", sf_obf, effect, 800 / 2.1, final_last=True)
monitor("pocock, I_max = 800/2.1, last look final", sf_pocock, effect, 800 / 2.1, final_last=True)
null = [((300, 5.0, 2.0), (310, 5.05, 2.1)), ((700, 5.01, 2.05), (690, 5.03, 2.0)), ((1300, 5.0, 2.0), (1310, 5.06, 2.1))]
monitor("pocock, I_max = 1200/4.1, overrun at look 3", sf_pocock, null, 1200 / 4.1)

# Why looks must add >= 2% information (GROUP_SEQUENTIAL_MIN_GROWTH): the alpha actually spent
# by r = 18 boundaries, measured with the same recursion on a much finer grid (r = 120).


def gs_bounds_r(cum, ts, r):
    bs, gm, tp, prev = [], None, 0.0, 0.0
    for t, c in zip(ts, cum):
        b = brentq(lambda b: gs_exit(gm, tp, t, b) - (c - prev), 1e-6, 40, xtol=1e-14)
        bs.append(b)
        gm = h1(r, 0.0, t, -b, b) if gm is None else hupdate(r, 0.0, t, -b, b, 0.0, tp, gm)
        tp, prev = t, c
    return bs


def gs_total_exit_r(ts, bs, r):
    gm, tp, total = None, 0.0, 0.0
    for t, b in zip(ts, bs):
        total += gs_exit(gm, tp, t, b)
        gm = h1(r, 0.0, t, -b, b) if gm is None else hupdate(r, 0.0, t, -b, b, 0.0, tp, gm)
        tp = t
    return total


for g in [0.002, 0.01, 0.02, 0.05]:
    for name, sf, ts in [("obf", sf_obf, [0.3, 0.3 * (1 + g), 0.7, 0.7 * (1 + g), 1.0]),
                         ("pocock", sf_pocock, [0.5, 0.5 * (1 + g), 1.0]),
                         ("obf", sf_obf, [0.1, 0.1 * (1 + g), 0.2, 1.0])]:
        bs = gs_bounds_r([sf(0.05, t) for t in ts], ts, 18)
        show(f"growth {g}, {name} t={[round(t, 4) for t in ts]}: alpha of r=18 boundaries on an r=120 grid - 0.05",
             gs_total_exit_r(ts, bs, 120) - 0.05)
for name, sf in [("obf", sf_obf), ("pocock", sf_pocock)]:
    bs18 = gs_bounds_r([sf(0.05, t) for t in eq(10)], eq(10), 18)
    bs120 = gs_bounds_r([sf(0.05, t) for t in eq(10)], eq(10), 120)
    show(f"grid accuracy, {name} K=10: (alpha of r=18 bounds on r=120 grid - 0.05, max |b_18 - b_120|)",
         (gs_total_exit_r(eq(10), bs18, 120) - 0.05, max(abs(a - b) for a, b in zip(bs18, bs120))))
