"""scipy's two-sample t-test and Student-t distribution, for test/stats.test.ts
(lib/data/stats.ts) and the model_eval invariance tests that use them.

Needs numpy and scipy only (Debian python3-scipy). Run it alone:

    python3 test/parity/gen_stats.py        # writes test/fixtures/stats.json

or with the other generators (`npm run fixtures stats`), which calls generate().
The samples are stored in the fixture, so the TypeScript side reads the same numbers.
"""
import json
import os

import numpy as np
import scipy
from scipy import stats


def sample(seed, n, loc, scale):
    return [float(v) for v in np.random.RandomState(seed).normal(loc, scale, n)]


def generate():
    cases = []
    pairs = [
        ("equal sizes, small shift", sample(1, 10, 1.0, 0.5), sample(2, 10, 1.3, 0.5)),
        ("unequal sizes and spreads", sample(3, 7, 2.0, 0.2), sample(4, 15, 2.5, 1.5)),
        ("large shift (tiny p)", sample(5, 12, 0.0, 0.1), sample(6, 9, 3.0, 0.1)),
        ("first mean larger", sample(7, 20, 5.0, 1.0), sample(8, 25, 4.0, 2.0)),
        ("identical means", [1.0, 2.0, 3.0], [3.0, 2.0, 1.0]),
        ("two values each", [0.5, 0.7], [0.9, 1.4]),
        ("loss-like, skewed", [float(v) for v in np.random.RandomState(9).exponential(0.02, 10)], [float(v) for v in np.random.RandomState(10).exponential(0.5, 10)]),
    ]
    for name, a, b in pairs:
        for equal_var in (True, False):
            for alternative in ("two-sided", "less", "greater"):
                r = stats.ttest_ind(a, b, equal_var=equal_var, alternative=alternative)
                df = float(r.df) if hasattr(r, "df") else None
                cases.append(
                    {
                        "name": name,
                        "a": a,
                        "b": b,
                        "equal_var": equal_var,
                        "alternative": alternative,
                        "statistic": float(r.statistic),
                        "pvalue": float(r.pvalue),
                        "df": df,
                    }
                )
    cdf = []
    for df in (1, 2, 3.5, 7, 18, 30, 123.4, 1000):
        for t in (-40.0, -6.0, -2.1, -0.3, 0.0, 0.7, 1.96, 4.5, 25.0):
            cdf.append({"t": t, "df": df, "cdf": float(stats.t.cdf(t, df)), "sf": float(stats.t.sf(t, df))})
    return {"scipy": scipy.__version__, "ttest_ind": cases, "t_dist": cdf}


if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "stats.json")
    with open(out, "w") as f:
        json.dump({"generator": "test/parity/gen_stats.py", **generate()}, f)
    print(f"wrote {os.path.relpath(out)}")
