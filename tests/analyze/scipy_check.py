#!/usr/bin/python3
"""Independent cross-check of analyze's statistics (issue 8) with scipy/numpy.

usage: scipy_check.py STATS_DUMP SHARED_DIR FIXTURES_DIR

STATS_DUMP (tests/analyze/stats_dump.c) prints, as JSON, what the C code
computes: per-run metric values, group and runtime summaries, the
--sequential-ref ratios, the comparisons, the ANOVA tables and the order /
outlier statistics. This script re-derives the per-run values from the data
files themselves (TR115 metrics.json; synthetic parbench traces it writes from
the trace fixture, with solo phases, so the paired log-scale statistics are
exercised too), then recomputes every statistic with its own code on scipy
1.10 / numpy and compares. Exact counts (Mann-Whitney null distribution) use
Python's big integers. Monte Carlo quantities (bootstrap) are compared with
tolerances, the rest to 1e-9 relative (p values 1e-6).

Exit 0 all agree, 1 a mismatch (each printed), 77 scipy missing (skip).
When `analyze --json` exists (issue 9) its output can replace STATS_DUMP's.
"""
import copy
import itertools
import json
import math
import os
import random
import subprocess
import sys
import tempfile

try:
    import numpy as np
    from scipy import stats
except ImportError as e:  # Debian: apt-get install python3-scipy
    print(f"SKIP: scipy/numpy not importable ({e}); install python3-scipy")
    sys.exit(77)

FAIL = []
CHECKED = [0]


def close(what, got, want, rel=1e-9, abs_=1e-12):
    CHECKED[0] += 1
    if want is None or (isinstance(want, float) and not math.isfinite(want)):
        ok = got is None or (isinstance(got, float) and not math.isfinite(got))
    elif got is None:
        ok = False
    else:
        ok = abs(got - want) <= max(abs_, rel * abs(want))
    if not ok:
        FAIL.append(f"{what}: got {got!r}, want {want!r}")


def dump(binary, *args):
    out = subprocess.run([binary, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


# ---------- reference implementations (independent of the C code) ----------

def mw_counts(m, n):
    """Exact counts of U = 0..mn, Python big integers (q-binomial)."""
    c = [0] * (m * n + 1)
    # number of ways: DP over items, dp[i][j][u]; use the recursion
    # f(m, n) = f(m-1, n) shifted by n + f(m, n-1)
    table = {}

    def f(a, b):
        if (a, b) in table:
            return table[(a, b)]
        if a == 0 or b == 0:
            r = [1]
        else:
            x, y = f(a - 1, b), f(a, b - 1)
            r = [0] * (a * b + 1)
            for u, v in enumerate(x):
                r[u + b] += v
            for u, v in enumerate(y):
                r[u] += v
        table[(a, b)] = r
        return r

    c = f(m, n)
    return c


def mw_p(x, y):
    x, y = list(x), list(y)
    allv = x + y
    ties = len(set(allv)) < len(allv)
    r = stats.rankdata(allv)
    u = r[:len(x)].sum() - len(x) * (len(x) + 1) / 2
    m, n = len(x), len(y)
    if not ties and m <= 50 and n <= 50:
        c = mw_counts(m, n)
        tot = math.comb(m + n, m)
        lo = int(min(u, m * n - u))
        p = 2 * sum(c[: lo + 1]) / tot
        return u, min(p, 1.0), True
    res = stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic",
                             use_continuity=True)
    return u, res.pvalue, False


def hl(x, y):
    d = np.sort(np.subtract.outer(np.asarray(x), np.asarray(y)).ravel())
    m, n = len(x), len(y)
    shift = float(np.median(d))
    ties = len(set(d.tolist())) < len(d)
    if not ties and m <= 50 and n <= 50:
        c = mw_counts(m, n)
        tot = math.comb(m + n, m)
        k, cum = 0, 0
        while k <= m * n // 2:
            cum += c[k]
            if cum / tot > 0.025:
                break
            k += 1
    else:
        k = math.floor(m * n / 2 - stats.norm.ppf(0.975) * math.sqrt(m * n * (m + n + 1) / 12))
    if k < 1:
        return shift, None, None
    return shift, float(d[k - 1]), float(d[m * n - k])


def holm(ps):
    idx = [i for i, p in enumerate(ps) if p is not None]
    order = sorted(idx, key=lambda i: ps[i])
    out = [None] * len(ps)
    run = 0.0
    for rank, i in enumerate(order):
        v = min(1.0, (len(idx) - rank) * ps[i])
        run = max(run, v)
        out[i] = run
    return out


def van_elteren(xa, sa, xb, sb):
    T = E = V = 0.0
    for s in sorted(set(sa) | set(sb)):
        x = [v for v, t in zip(xa, sa) if t == s]
        y = [v for v, t in zip(xb, sb) if t == s]
        if not x or not y:
            continue
        allv = x + y
        N = len(allv)
        r = stats.rankdata(allv)
        _, tc = np.unique(allv, return_counts=True)
        ts = float(((tc ** 3) - tc).sum())
        w = 1.0 / (N + 1)
        T += w * r[: len(x)].sum()
        E += w * len(x) * (N + 1) / 2
        V += w * w * len(x) * len(y) / 12 * ((N + 1) - (ts / (N * (N - 1)) if N > 1 else 0))
    z = (T - E) / math.sqrt(V)
    return z, 2 * stats.norm.sf(abs(z))


def fieller(num, nst, den, dst):
    a = va = b = vb = 0.0
    parts = []
    for s in sorted(set(nst) & set(dst)):
        x = np.array([v for v, t in zip(num, nst) if t == s])
        y = np.array([v for v, t in zip(den, dst) if t == s])
        if len(x) < 2 or len(y) < 2:
            continue
        a += x.mean(); b += y.mean()
        vx, vy = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
        va += vx; vb += vy
        parts.append((vx, len(x) - 1, vy, len(y) - 1))
    R = a / b
    df = (va + R * R * vb) ** 2 / sum(vx ** 2 / dx + (R * R * vy) ** 2 / dy
                                     for vx, dx, vy, dy in parts)
    q = stats.t.ppf(0.975, df)
    g = q * q * vb / (b * b)
    if g >= 1:
        return R, None, None, df
    h = q / b * math.sqrt(va * (1 - g) + R * R * vb)
    return R, max((R - h) / (1 - g), 0.0), (R + h) / (1 - g), df


def anova2(y, fa, fb):
    """Type II SS from least-squares fits (numpy.linalg.lstsq)."""
    y = np.asarray(y, float)
    la, lb = sorted(set(fa)), sorted(set(fb))

    def dummies(f, levels):
        return [np.array([1.0 if v == l else 0.0 for v in f]) for l in levels[1:]]

    def rss(cols):
        X = np.column_stack([np.ones(len(y))] + cols)
        beta, *_ = np.linalg.lstsq(X, y, rcond=None)
        r = y - X @ beta
        return float(r @ r)

    A, B = dummies(fa, la), dummies(fb, lb)
    cells = sorted(set(zip(fa, fb)))
    sse = 0.0
    for c in cells:
        v = np.array([yy for yy, a_, b_ in zip(y, fa, fb) if (a_, b_) == c])
        sse += float(((v - v.mean()) ** 2).sum())
    dfe = len(y) - len(cells)
    rA, rB, rAB = rss(A), rss(B), rss(A + B)
    rows = {"runtime": (rB - rAB, len(la) - 1), "config": (rA - rAB, len(lb) - 1),
            "interaction": (rAB - sse, len(cells) - len(la) - len(lb) + 1)}
    out = {}
    for k, (ss, df) in rows.items():
        F = ss / df / (sse / dfe)
        out[k] = {"ss": ss, "df": df, "F": F, "p": stats.f.sf(F, df, dfe)}
    out["error"] = {"ss": sse, "df": dfe}
    return out, sse / dfe, dfe


def power(s1, n1, s2, n2, delta):
    df = n1 + n2 - 2
    mdd = (stats.t.ppf(0.975, df) + stats.t.ppf(0.8, df)) * math.sqrt(s1 ** 2 / n1 + s2 ** 2 / n2)
    need = None
    if delta > 0:
        f = lambda n: (stats.t.ppf(0.975, 2 * n - 2) + stats.t.ppf(0.8, 2 * n - 2)) * \
            math.sqrt((s1 ** 2 + s2 ** 2) / n)
        lo, hi = 2, 1000000
        if f(lo) <= delta:
            need = 2
        elif f(hi) > delta:
            need = float("inf")
        else:
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if f(mid) <= delta:
                    hi = mid
                else:
                    lo = mid
            need = hi
    return mdd, need


def spearman_p(x, y):
    """Exact two-sided permutation p for n <= 10, as analyze: every pairing
    of y's mid-ranks (scipy.stats.rankdata) with x's, enumerated by
    itertools, p = 2 min(P(rho >= obs), P(rho <= obs)) capped at 1 (the
    definition of scipy.stats.permutation_test, which scipy 1.10 runs too
    slowly here). The t approximation of scipy.stats.spearmanr above 10."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    n = len(x)
    if n > 10:
        return float(stats.spearmanr(x, y).pvalue)
    rx, ry = stats.rankdata(x), stats.rankdata(y)
    cx = rx - rx.mean()
    perms = np.fromiter(itertools.permutations(ry), dtype=(float, n),
                        count=math.factorial(n))
    s = perms @ cx                     # proportional to rho for every pairing
    obs = float(ry @ cx)
    tol = 1e-9 * (abs(obs) + 1)
    ge = np.count_nonzero(s >= obs - tol) / len(s)
    le = np.count_nonzero(s <= obs + tol) / len(s)
    return min(1.0, 2 * min(ge, le))


def clustered_ci(v, c):
    """Pooled mean with the CR1 cluster-robust 95% interval, t on G - 1 df,
    written out from the sandwich formula."""
    v, c = np.asarray(v, float), np.asarray(c)
    m = v.mean()
    groups = sorted(set(c.tolist()))
    tot = np.array([(v[c == g] - m).sum() for g in groups])
    G, N = len(groups), len(v)
    se = math.sqrt(G / (G - 1) * (tot ** 2).sum()) / N
    h = stats.t.ppf(0.975, G - 1) * se
    return m, m - h, m + h


def check_small_cases(binary):
    """Spearman at small n and the run-clustered interval on random data."""
    rng = random.Random(12)
    lst = lambda v: ",".join(repr(float(a)) for a in v)
    # rho = -1 at n = 5: exact p = 2/120 (the t approximation gave 1e-24).
    out = subprocess.run([binary, "--spearman", "1,2,3,4,5", "5,4,3,2,1"], check=True,
                         capture_output=True, text=True).stdout.split()
    close("spearman rho=-1 n=5 p", float(out[1]), 2 / 120, rel=1e-12)
    # rho = 1 at n = 10: 2/10! (C enumerates all 10! pairings).
    out = subprocess.run([binary, "--spearman", "1,2,3,4,5,6,7,8,9,10", "1,2,3,4,5,6,7,8,9,10"],
                         check=True, capture_output=True, text=True).stdout.split()
    close("spearman rho=1 n=10 p", float(out[1]), 2 / math.factorial(10), rel=1e-9)
    for n in (3, 4, 5, 6, 8, 9, 12):
        for tie in (0, 1):
            x = list(range(1, n + 1))
            y = [round(rng.gauss(0, 1), 1 if tie else 6) for _ in range(n)]
            if tie:
                y[1] = y[0]
            out = subprocess.run([binary, "--spearman", lst(x), lst(y)], check=True,
                                 capture_output=True, text=True).stdout.split()
            close(f"spearman n={n} tie={tie} rho", float(out[0]),
                  float(stats.spearmanr(x, y).statistic), abs_=1e-12)
            close(f"spearman n={n} tie={tie} p", float(out[1]), spearman_p(x, y), rel=1e-9)
    for sizes in ((4, 4, 4, 4, 4), (3, 5, 2, 4), (1, 1, 1)):
        v, c = [], []
        for g, k in enumerate(sizes):
            u = rng.gauss(0, 1)
            for _ in range(k):
                v.append(u + rng.gauss(0, 1))
                c.append(g)
        out = subprocess.run([binary, "--clustered", lst(v), lst(c)], check=True,
                             capture_output=True, text=True).stdout.split()
        m, lo, hi = clustered_ci(v, c)
        close(f"clustered {sizes} mean", float(out[0]), m)
        close(f"clustered {sizes} lo", float(out[1]), lo, rel=1e-9)
        close(f"clustered {sizes} hi", float(out[2]), hi, rel=1e-9)


# ---------- checks on one dump ----------

LOG = {"meas_speedup"}


def check_dump(tag, d, baseline=None, seqref=None):
    runs = d["runs"]
    rts = sorted({r["runtime"] for r in runs})
    cfgs = sorted({r["config"] for r in runs})
    by = lambda rt, key: [r[key] for r in runs if r["runtime"] == rt]

    # Groups: mean, SD, t interval, order statistics, outliers.
    for g in d["groups"]:
        gr = [r for r in runs if r["runtime"] == g["runtime"] and r["config"] == g["config"]]
        e = np.array([r["est_efficiency"] for r in gr], float)
        w = [r["wall_s"] for r in gr]
        name = f"{tag} group {g['runtime']}/{g['config']}"
        close(name + " eff mean", g["eff"]["mean"], float(e.mean()))
        if len(e) >= 2:
            close(name + " eff sd", g["eff"]["sd"], float(e.std(ddof=1)))
            h = stats.t.ppf(0.975, len(e) - 1) * e.std(ddof=1) / math.sqrt(len(e))
            close(name + " eff ci_lo", g["eff"]["ci_lo"], max(0.0, float(e.mean() - h)))
            close(name + " eff ci_hi", g["eff"]["ci_hi"], min(100.0, float(e.mean() + h)))
        if len(w) >= 3:
            rho = stats.spearmanr([r["run_index"] for r in gr], w)
            close(name + " spearman rho", g["rho"], float(rho.statistic), abs_=1e-12)
            close(name + " spearman p", g["rho_p"],
                  spearman_p([r["run_index"] for r in gr], w), rel=1e-6)
            rest = np.array(w[1:])
            close(name + " first diff", g["first_diff"], w[0] - rest.mean())
            if rest.std(ddof=1) > 0:
                t = (w[0] - rest.mean()) / (rest.std(ddof=1) * math.sqrt(1 + 1 / len(rest)))
                close(name + " first p", g["first_p"], 2 * stats.t.sf(abs(t), len(rest) - 1), rel=1e-6)
        q1, q3 = np.percentile(w, [25, 75])
        close(name + " q1", g["q1"], float(q1))
        close(name + " q3", g["q3"], float(q3))
        iqr = q3 - q1
        cls = [4 if v > q3 + 3 * iqr else 3 if v > q3 + 1.5 * iqr else
               1 if v < q1 - 3 * iqr else 2 if v < q1 - 1.5 * iqr else 0 for v in w]
        close(name + " outlier classes", float(sum(c != o["outlier"] for c, o in zip(cls, gr))), 0.0)

    # Runtimes: BCa of the mean efficiency (Monte Carlo: tolerance), the
    # paired geometric mean, the sequential reference.
    for rt in d["runtimes"]:
        name = f"{tag} runtime {rt['runtime']}"
        e = np.array(by(rt["runtime"], "est_efficiency"), float)
        # No BCa interval is printed (below 94% coverage at n = 5, 10, 30 in
        # tests/analyze/test_coverage.c): the field must stay empty.
        close(name + " no BCa printed", float(rt["eff"]["boot_lo"] is None), 1.0)
        # Best config: Bonferroni t interval of the config with the largest
        # mean efficiency, level 1 - 0.05 / k over the runtime's k configs.
        cfgs = {}
        for r in runs:
            if r["runtime"] == rt["runtime"] and r["est_efficiency"] is not None:
                cfgs.setdefault(r["config"], []).append(r["est_efficiency"])
        if cfgs and all(len(v) >= 2 for v in cfgs.values()):
            best = max(cfgs.values(), key=lambda v: np.mean(v))
            k, b = len(cfgs), np.array(best)
            h = stats.t.ppf(1 - 0.025 / k, len(b) - 1) * b.std(ddof=1) / math.sqrt(len(b))
            close(name + " best config lo", rt["best_boot_lo"], float(b.mean() - h), rel=1e-9)
            close(name + " best config hi", rt["best_boot_hi"], float(b.mean() + h), rel=1e-9)
        sp = [v for v in by(rt["runtime"], "meas_speedup") if v is not None and v > 0]
        if sp:
            l = np.log(sp)
            close(name + " geomean", rt["paired_speedup"]["gm"], float(math.exp(l.mean())))
            if len(sp) >= 2:
                h = stats.t.ppf(0.975, len(l) - 1) * l.std(ddof=1) / math.sqrt(len(l))
                close(name + " geomean lo", rt["paired_speedup"]["lo"], math.exp(l.mean() - h))
                close(name + " geomean hi", rt["paired_speedup"]["hi"], math.exp(l.mean() + h))
        if seqref:
            if rt["runtime"] == seqref:
                close(name + " seqref self", rt["seqref"]["est"], 1.0, rel=0, abs_=0)
                continue
            R, lo, hi, df = fieller(by(seqref, "wall_s"), by(seqref, "config"),
                                    by(rt["runtime"], "wall_s"), by(rt["runtime"], "config"))
            close(name + " ratio of means", rt["seqref"]["est"], R)
            close(name + " Fieller lo", rt["seqref"]["lo"], lo, rel=1e-8)
            close(name + " Fieller hi", rt["seqref"]["hi"], hi, rel=1e-8)
            close(name + " Fieller df", rt["seqref"]["df"], df)
            # No bootstrap cross-check (below 94% coverage, test_coverage.c).
            close(name + " no ratio bootstrap", float(rt["seqref"]["boot_lo"] is None), 1.0)
    if seqref:
        for g in d["groups"]:
            if g["runtime"] == seqref:
                continue
            ref = [r for r in runs if r["runtime"] == seqref and r["config"] == g["config"]]
            own = [r for r in runs if r["runtime"] == g["runtime"] and r["config"] == g["config"]]
            R, lo, hi, df = fieller([r["wall_s"] for r in ref], [0] * len(ref),
                                    [r["wall_s"] for r in own], [0] * len(own))
            name = f"{tag} group {g['runtime']}/{g['config']} seqref"
            close(name + " R", g["seqref"]["est"], R)
            close(name + " lo", g["seqref"]["lo"], lo, rel=1e-8)
            close(name + " hi", g["seqref"]["hi"], hi, rel=1e-8)

    # ANOVA per metric (log scale for ratios).
    anovas = {}
    for key, got in d["anova"].items():
        rows = [r for r in runs if r[key] is not None and (key not in LOG or r[key] > 0)]
        y = [math.log(r[key]) if key in LOG else r[key] for r in rows]
        want, mse, dfe = anova2(y, [r["runtime"] for r in rows], [r["config"] for r in rows])
        anovas[key] = (rows, y, mse, dfe)
        for src in ("runtime", "config", "interaction"):
            close(f"{tag} anova {key} {src} F", got[src]["F"], want[src]["F"], rel=1e-7)
            close(f"{tag} anova {key} {src} p", got[src]["p"], want[src]["p"], rel=1e-6, abs_=1e-300)
            close(f"{tag} anova {key} {src} df", got[src]["df"], want[src]["df"])
        close(f"{tag} anova {key} SSE", got["error"]["ss"], want["error"]["ss"], rel=1e-9)

    # Comparisons: every pair, every metric; Holm per metric family.
    fams = {}
    for c in d["comparisons"]:
        key = c["metric"]
        lg = key in LOG
        f = (lambda v: math.log(v)) if lg else (lambda v: v)
        xa = [(f(r[key]), r["config"]) for r in runs if r["runtime"] == c["a"] and r[key] is not None]
        xb = [(f(r[key]), r["config"]) for r in runs if r["runtime"] == c["b"] and r[key] is not None]
        x = np.array([v for v, _ in xa]); y = np.array([v for v, _ in xb])
        name = f"{tag} {key} {c['a']} vs {c['b']}"
        if baseline and baseline in (c["a"], c["b"]):
            close(name + " oriented vs baseline", float(c["b"] == baseline), 1.0)
        t = stats.ttest_ind(x, y, equal_var=False)
        close(name + " Welch t", c["welch_t"], float(t.statistic))
        close(name + " Welch p", c["p"], float(t.pvalue), rel=1e-6, abs_=1e-300)
        q1, q2 = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
        df = (q1 + q2) ** 2 / (q1 ** 2 / (len(x) - 1) + q2 ** 2 / (len(y) - 1))
        h = stats.t.ppf(0.975, df) * math.sqrt(q1 + q2)
        diff = x.mean() - y.mean()
        tr = math.exp if lg else (lambda v: v)
        close(name + " estimate", c["estimate"], tr(diff))
        close(name + " CI lo", c["lo"], tr(diff - h), rel=1e-8)
        close(name + " CI hi", c["hi"], tr(diff + h), rel=1e-8)
        u, p, exact = mw_p(x, y)
        close(name + " MW U", c["mw_u"], float(u))
        close(name + " MW p", c["mw_p"], float(p), rel=1e-6, abs_=1e-300)
        s, lo, hi = hl(x, y)
        # On the estimate's scale: a ratio for log metrics.
        close(name + " HL", c["hl_shift"], tr(s) if s is not None else s)
        close(name + " HL lo", c["hl_lo"], tr(lo) if lo is not None else lo)
        close(name + " HL hi", c["hl_hi"], tr(hi) if hi is not None else hi)
        sp = math.sqrt(((len(x) - 1) * x.var(ddof=1) + (len(y) - 1) * y.var(ddof=1)) / (len(x) + len(y) - 2))
        close(name + " Cohen d", c["cohen_d"], diff / sp, rel=1e-8)
        close(name + " Hedges g", c["hedges_g"], diff / sp * (1 - 3 / (4 * (len(x) + len(y)) - 9)), rel=1e-8)
        close(name + " Glass delta", c["glass_delta"], diff / y.std(ddof=1), rel=1e-8)
        z, vp = van_elteren([v for v, _ in xa], [s_ for _, s_ in xa], [v for v, _ in xb], [s_ for _, s_ in xb])
        close(name + " van Elteren z", c["ve_z"], z, rel=1e-8)
        close(name + " van Elteren p", c["ve_p"], vp, rel=1e-6, abs_=1e-300)
        # Adjusted for config: EMM difference with the ANOVA's error term.
        rows, yy, mse, dfe = anovas[key]
        def emm(rt):
            means = []
            for cf in cfgs:
                v = [yv for r, yv in zip(rows, yy) if r["runtime"] == rt and r["config"] == cf]
                if v:
                    means.append((np.mean(v), len(v)))
            return means
        ea, eb = emm(c["a"]), emm(c["b"])
        if len(ea) == len(eb) == len({r["config"] for r in rows}):
            k = len(ea)
            dd = sum(m for m, _ in ea) / k - sum(m for m, _ in eb) / k
            hh = stats.t.ppf(0.975, dfe) * math.sqrt(mse * sum(1 / n for _, n in ea + eb)) / k
            close(name + " adjusted", c["adj"], tr(dd), rel=1e-8)
            close(name + " adjusted lo", c["adj_lo"], tr(dd - hh), rel=1e-8)
            close(name + " adjusted hi", c["adj_hi"], tr(dd + hh), rel=1e-8)
        target = math.log(1.02) if lg else (1.0 if key == "est_efficiency" else 0.02 * abs(x.mean() + y.mean()) / 2)
        mdd, need = power(x.std(ddof=1), len(x), y.std(ddof=1), len(y), target)
        close(name + " MDD", c["mdd"], tr(mdd), rel=1e-8)
        if need is not None and math.isfinite(need):
            close(name + " runs needed", c["n_needed"], float(need))
        fams.setdefault(c["family"], []).append(c)
    for fam, cs in fams.items():
        for field, hfield in (("p", "p_holm"), ("mw_p", "mw_p_holm"), ("ve_p", "ve_p_holm")):
            want = holm([c[field] for c in cs])
            for c, w in zip(cs, want):
                close(f"{tag} {fam} {c['a']} vs {c['b']} {hfield}", c[hfield], w, rel=1e-6, abs_=1e-300)


# ---------- data: TR115 read independently, synthetic paired traces ----------

def check_tr115_raw(d, shared):
    """The per-run values the dump used, against the metrics.json files."""
    for r in d["runs"]:
        with open(r["path"]) as f:
            m = json.load(f)
        s = m["summary"]
        close(f"tr115 {r['path']} wall", r["wall_s"], float(s["concurrent_wall_time_s"]))
        close(f"tr115 {r['path']} eff", r["est_efficiency"], float(s["efficiency_percent"]))
        ag = [m["collector"], m["insight"]]
        close(f"tr115 {r['path']} duration", r["duration_s"],
              sum(a["execution_time_s"] for a in ag) / 2)
        am = [a["result"]["aggregate_metrics"] for a in ag]
        close(f"tr115 {r['path']} throughput", r["throughput_tok_s"],
              sum(x["total_tokens_generated"] for x in am) / s["concurrent_wall_time_s"])


def write_synthetic(fixture, out):
    """3 runtimes x 2 configs x 6 runs of parbench traces with solo phases:
    the fixture's run scaled in time, its solo requests and agent a's
    concurrent request shortened, so the paired speedup and the original
    efficiency vary from run to run (seeded: reproducible)."""
    with open(fixture) as f:
        base = json.load(f)
    rnd = random.Random(8)
    for ri, rt in enumerate(["rt-a", "rt-b", "rt-c"]):
        for cfg in ["c1", "c2"]:
            for k in range(1, 7):
                d = copy.deepcopy(base)
                d["run"].update(runtime=rt, config=cfg, run_index=k)
                scale = 1 + 0.1 * ri + rnd.uniform(-0.15, 0.15)
                shrink = {"a": rnd.uniform(0.6, 1.0), "b": rnd.uniform(0.6, 1.0)}
                # Agent a ends before b in the concurrent phase: shortening
                # it varies the original efficiency, not the wall.
                conc_a = rnd.uniform(0.5, 1.0)
                for ph in d["phases"]:
                    ph["start_ns"] = int(ph["start_ns"] * scale)
                    ph["end_ns"] = int(ph["end_ns"] * scale)
                    for rq in ph["requests"]:
                        t0 = rq["t_start_ns"] * scale
                        s = shrink[rq["agent"]] if ph["kind"] == "solo" else \
                            conc_a if rq["agent"] == "a" else 1.0
                        f = lambda t: int(t0 + (t * scale - t0) * s)
                        for key in ("t_connected_ns", "t_first_byte_ns", "t_first_token_ns", "t_end_ns"):
                            rq[key] = f(rq[key])
                        rq["chunks"] = [[f(c[0]), c[1]] for c in rq["chunks"]]
                        rq["t_start_ns"] = int(t0)
                path = os.path.join(out, rt, cfg)
                os.makedirs(path, exist_ok=True)
                with open(os.path.join(path, f"run_{k}.json"), "w") as f_:
                    json.dump(d, f_)


def check_synthetic_raw(d):
    for r in d["runs"]:
        with open(r["path"]) as f:
            t = json.load(f)
        solo = sum((q["t_end_ns"] - q["t_start_ns"]) / 1e9 for p in t["phases"]
                   if p["kind"] == "solo" for q in p["requests"])
        conc = [q for p in t["phases"] if p["kind"] == "concurrent" for q in p["requests"]]
        wall = (max(q["t_end_ns"] for q in conc) - min(q["t_start_ns"] for q in conc)) / 1e9
        close(f"synthetic {r['path']} wall", r["wall_s"], wall, rel=1e-9)
        close(f"synthetic {r['path']} paired speedup", r["meas_speedup"], solo / wall, rel=1e-9)
        close(f"synthetic {r['path']} duration", r["duration_s"],
              sum((q["t_end_ns"] - q["t_start_ns"]) / 1e9 for q in conc) / len(conc), rel=1e-9)


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    binary, shared, fixtures = sys.argv[1:]
    # Exact Mann-Whitney tail: fully separated 36 v 36 and 50 v 50.
    for n in (36, 50):
        got = float(subprocess.run([binary, "--mw", str(n), str(n), "0"], check=True,
                                   capture_output=True, text=True).stdout)
        close(f"MW P(U<=0) {n}v{n}", 2 * got, 2 / math.comb(2 * n, n), rel=1e-9)
    check_small_cases(binary)
    tr = os.path.join(shared, "data", "tr115-v1")
    if os.path.isdir(tr):
        d = dump(binary, "--sequential-ref", "async-std", "--baseline", "async-std", tr)
        check_tr115_raw(d, shared)
        check_dump("tr115", d, baseline="async-std", seqref="async-std")
        d = dump(binary, "--drop-first", "1", "--bootstrap", "0", tr)
        close("tr115 --drop-first 1 runs", float(len(d["runs"])), 120.0)
        check_dump("tr115-drop1", d)
    else:
        print(f"note: {tr} absent; TR115 checks skipped (synthetic data still checked)")
    with tempfile.TemporaryDirectory() as tmp:
        write_synthetic(os.path.join(fixtures, "trace", "uv", "cfg_a", "run_1.json"), tmp)
        d = dump(binary, "--baseline", "rt-b", "--sequential-ref", "rt-a", tmp)
        check_synthetic_raw(d)
        check_dump("synthetic", d, baseline="rt-b", seqref="rt-a")
        if not any(c["metric"] == "meas_speedup" for c in d["comparisons"]):
            FAIL.append("synthetic: no paired (log-scale) comparison was made")
    for f in FAIL:
        print("MISMATCH", f)
    print(f"scipy_check: {CHECKED[0]} values checked, {len(FAIL)} mismatches")
    return 1 if FAIL else 0


if __name__ == "__main__":
    sys.exit(main())
