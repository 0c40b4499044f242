"""
Reference values for experiments/analysis/evaluate.test.ts, computed independently with
numpy, scipy and statsmodels on the raw per-unit values the test also holds. Not run by the
tests (tests never call Python): run it by hand,
`python3 experiments/analysis/reference/generate.py`, and compare with the literals in the
test, each of which names the call that produced it.

Versions used: scipy 1.17.1, statsmodels 0.15.0, numpy 2.4.6, Python 3.11.
"""
import numpy as np
from scipy import stats
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportions_ztest,
)

np.set_printoptions(precision=17)


def show(label, value):
    print(f"{label} -> {value!r}")


# Viewer-unit experiment: per-unit rebuffer ratio (primary, y), its pre-period value (x, None
# when the viewer has no pre-period), per-unit mean play delay, per-unit bitrate; cohort day.
rng = np.random.default_rng(20261126)


def units(n, shift, cell):
    out = []
    for i in range(n):
        latent = rng.normal(0.02, 0.008)
        y = round(max(0.0, latent + shift + rng.normal(0, 0.004)), 5)
        x = None if i % 4 == 3 else round(max(0.0, latent + rng.normal(0, 0.004)), 5)
        startup = round(float(rng.lognormal(7.0, 0.3)), 1)
        bitrate = round(float(rng.normal(3000, 300) * (1.0 if cell == "control" else 0.99)), 1)
        out.append((y, x, startup, bitrate, i % 2))
    return out


control = units(12, 0.0, "control")
treatment = units(14, -0.006, "lighter")
print("const CONTROL: Unit[] = [")
for y, x, s, b, d in control:
    print(f"  {{ y: {y}, x: {'null' if x is None else x}, startup: {s}, bitrate: {b}, day: {d} }},")
print("];")
print("const TREATMENT: Unit[] = [")
for y, x, s, b, d in treatment:
    print(f"  {{ y: {y}, x: {'null' if x is None else x}, startup: {s}, bitrate: {b}, day: {d} }},")
print("];")


def col(rows, k):
    return np.array([r[k] for r in rows], dtype=float)


yc, yt = col(control, 0), col(treatment, 0)
r = stats.ttest_ind(yt, yc, equal_var=False)
ci = r.confidence_interval(0.95)
show("rebufferRatio ttest_ind(t, c, equal_var=False) pvalue", float(r.pvalue))
show("rebufferRatio diff", float(yt.mean() - yc.mean()))
show("rebufferRatio ci", (float(ci.low), float(ci.high)))
show("rebufferRatio df", float(r.df))
for name, v in [("control", yc), ("treatment", yt)]:
    lo, hi = stats.t.interval(0.95, len(v) - 1, loc=v.mean(), scale=stats.sem(v))
    show(f"rebufferRatio {name} stats.t.interval(0.95, n-1, mean, sem)", (float(v.mean()), float(lo), float(hi)))
# Delta-method lift (Deng et al. 2018), numpy.
mc, mt = yc.mean(), yt.mean()
vc, vt = yc.var(ddof=1) / len(yc), yt.var(ddof=1) / len(yt)
lift = mt / mc - 1
se = np.sqrt(vt / mc**2 + mt**2 * vc / mc**4)
z = stats.norm.ppf(0.975)
show("rebufferRatio lift, se, ci", (float(lift), float(se), float(lift - z * se), float(lift + z * se)))

sc, st = col(control, 2), col(treatment, 2)
r = stats.ttest_ind(st, sc, equal_var=False)
show("startupMs ttest_ind pvalue", float(r.pvalue))
br_c, br_t = col(control, 3), col(treatment, 3)
r = stats.ttest_ind(br_t, br_c, equal_var=False)
ci = r.confidence_interval(0.95)
show("avgBitrateKbps ttest_ind pvalue, ci", (float(r.pvalue), float(ci.low), float(ci.high)))

# CUPED (Deng et al. 2013): missing x filled with the pooled mean of the available x; one
# theta from all units pooled; adjusted y = y - theta (x - mean x).
allx = [r[1] for r in control + treatment]
fill = np.mean([v for v in allx if v is not None])
xc = np.array([fill if r[1] is None else r[1] for r in control])
xt = np.array([fill if r[1] is None else r[1] for r in treatment])
X = np.concatenate([xc, xt])
Y = np.concatenate([yc, yt])
theta = np.cov(X, Y, ddof=1)[0, 1] / X.var(ddof=1)
show("cuped fill (mean of available x)", float(fill))
show("cuped theta np.cov(X, Y)[0,1] / X.var(ddof=1)", float(theta))
adj_c = yc - theta * (xc - X.mean())
adj_t = yt - theta * (xt - X.mean())
r = stats.ttest_ind(adj_t, adj_c, equal_var=False)
ci = r.confidence_interval(0.95)
show("cuped adjusted means", (float(adj_c.mean()), float(adj_t.mean())))
show("cuped ttest_ind(adj_t, adj_c, equal_var=False) pvalue, ci", (float(r.pvalue), float(ci.low), float(ci.high)))
show("cuped variance reduction control 1 - var(adj)/var(y)", float(1 - adj_c.var(ddof=1) / yc.var(ddof=1)))

show("srm stats.chisquare([12, 14], [13, 13]) pvalue", float(stats.chisquare([12, 14], [13, 13]).pvalue))

# Session-unit rates: EBVS 60 of 1000 control sessions, 35 of 1000 treatment sessions.
stat, p = proportions_ztest([35, 60], [1000, 1000])
show("ebvs proportions_ztest([35, 60], [1000, 1000])", (float(stat), float(p)))
lo, hi = confint_proportions_2indep(35, 1000, 60, 1000, method="wald", compare="diff", alpha=0.05)
show("ebvs confint_proportions_2indep(wald, diff)", (float(lo), float(hi)))
show("ebvs control proportion_confint(60, 1000, method='wilson')", tuple(float(v) for v in proportion_confint(60, 1000, 0.05, "wilson")))

# Play delay quantiles from a histogram.
delays_c = np.repeat([800, 900, 1000, 1100, 1300, 1600, 2500], [3, 5, 8, 6, 4, 3, 1])
delays_t = np.repeat([700, 800, 900, 1000, 1200, 2000], [4, 6, 8, 6, 4, 2])
for q in [0.5, 0.9]:
    for name, v in [("control", delays_c), ("treatment", delays_t)]:
        est = np.quantile(v, q, method="inverted_cdf")
        ci = stats.quantile_test(v, q=float(est), p=q).confidence_interval(0.95)
        show(f"p{int(q*100)} {name} np.quantile(inverted_cdf), quantile_test CI", (float(est), float(ci.low), float(ci.high)))

    def mj(v, q):
        v = np.sort(v)
        n = len(v)
        m = int(np.ceil(n * q))
        a, b = m, n - m + 1
        j = np.arange(1, n + 1)
        w = stats.beta.cdf(j / n, a, b) - stats.beta.cdf((j - 1) / n, a, b)
        c1 = np.sum(w * v)
        return np.sqrt(np.sum(w * (v - c1) ** 2))

    d = np.quantile(delays_t, q, method="inverted_cdf") - np.quantile(delays_c, q, method="inverted_cdf")
    se = np.sqrt(mj(delays_c, q) ** 2 + mj(delays_t, q) ** 2)
    show(f"p{int(q*100)} difference, Maritz-Jarrett se, two-sided normal p", (float(d), float(se), float(2 * stats.norm.sf(abs(d / se)))))

# Sample-size plan for the primary (rebuffer ratio, MDE 10% of the control mean) on the
# CUPED-adjusted control standard deviation, two cells 50/50: statsmodels NormalIndPower.
from statsmodels.stats.power import NormalIndPower

sd_adj = adj_c.std(ddof=1)
d = 0.1 * yc.mean() / sd_adj
n1 = NormalIndPower().solve_power(effect_size=d, alpha=0.05, power=0.8, ratio=1.0)
show("plan sd_adj (control, ddof=1)", float(sd_adj))
show("plan NormalIndPower().solve_power(d = 0.1 mean_c / sd_adj, 0.05, 0.8, ratio=1) n1", float(n1))
# Session-unit EBVS plan: MDE absolute -0.01 at the control rate 0.06, 50/50.
from statsmodels.stats.proportion import samplesize_proportions_2indep_onetail

show("ebvs samplesize_proportions_2indep_onetail(-0.01, 0.06, 0.8, ratio=1, alpha=0.05, alternative='two-sided')",
     float(samplesize_proportions_2indep_onetail(-0.01, 0.06, 0.8, ratio=1, alpha=0.05, alternative="two-sided")))
