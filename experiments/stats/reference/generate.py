"""
Reference values for experiments/stats tests, computed independently with scipy,
statsmodels and numpy. Not run by the tests (tests never call Python): run it by hand,
`python3 experiments/stats/reference/generate.py`, and compare with the literals in the
*.test.ts files, each of which names the call that produced it.

Versions used: scipy 1.17.1, statsmodels 0.15.0, numpy 2.4.6, Python 3.11.
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
