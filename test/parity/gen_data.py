"""Data pipeline: StandardScaler numbers and split sizes from scikit-learn, and an
HDF5 file written by h5py: `npm run fixtures data`.

Needs Debian python3-sklearn and python3-h5py (numpy comes with them). Writes
test/fixtures/data.json and test/fixtures/data_h5py.h5 (S=4 cubes in the seed
layout, gzip on the Newton cubes, plus float64 / int64 row datasets).
"""
import os

import h5py
import numpy as np
import sklearn
from sklearn.model_selection import KFold, RepeatedKFold, train_test_split
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
H5_PATH = os.path.join(HERE, "..", "fixtures", "data_h5py.h5")


def flat(a):
    return [None if np.isnan(v) else float(v) for v in np.asarray(a, dtype=np.float64).reshape(-1)]


def scaler_case(x_train, x_test):
    s = StandardScaler().fit(x_train)
    return {
        "x_train": {"shape": list(x_train.shape), "data": flat(x_train)},
        "x_test": {"shape": list(x_test.shape), "data": flat(x_test)},
        "mean": flat(s.mean_),
        "var": flat(s.var_),
        "scale": flat(s.scale_),
        "n_samples_seen": int(np.max(s.n_samples_seen_)),
        "train_t": flat(s.transform(x_train)),
        "test_t": flat(s.transform(x_test)),
        "test_inv": flat(s.inverse_transform(x_test)),
    }


def generate():
    rng = np.random.RandomState(0)
    n = 40
    x = np.stack(
        [
            rng.randn(n),  # standard normal
            5 + 10 * rng.randn(n),  # shifted and wide
            np.full(n, 3.0),  # constant: scale 1
            1000 + 1e-3 * rng.rand(n),  # large mean, tiny spread (float32 rounding)
            np.full(n, 0.1),  # constant that float32 cannot hold exactly
            rng.rand(n) * 1e-4,  # tiny values
        ],
        axis=1,
    ).astype(np.float32)
    x_test = (rng.randn(7, 6) * 3 + 1).astype(np.float32)
    x_nan = rng.randn(9, 3).astype(np.float32)
    x_nan[2, 0] = np.nan
    x_nan[5, 2] = np.nan

    sizes = {}
    for n_ in [1, 2, 3, 5, 7, 10, 11, 33, 99, 100, 101, 110, 1000, 1001]:
        for t in [0.1, 0.2, 0.25, 0.33, 0.5, 0.8, 2]:
            try:
                tr, te = train_test_split(np.arange(n_), test_size=t, random_state=0)
                sizes[f"{n_}/{t}"] = [len(tr), len(te)]
            except ValueError:
                sizes[f"{n_}/{t}"] = None
    three = {}
    for n_ in [7, 10, 33, 100, 110, 1001]:
        tr, rest = train_test_split(np.arange(n_), test_size=1 - 0.75, random_state=42)
        va, te = train_test_split(rest, test_size=0.10 / (0.10 + 0.15), random_state=0)
        three[str(n_)] = [len(tr), len(va), len(te)]

    kfold = {}
    for n_, k in [(10, 3), (11, 5), (23, 5), (5, 5), (100, 7), (7, 2)]:
        kfold[f"{n_}/{k}"] = [len(te) for _, te in KFold(n_splits=k).split(np.arange(n_))]
    kfold_exact = [
        {"train": tr.tolist(), "test": te.tolist()} for tr, te in KFold(n_splits=3).split(np.arange(10))
    ]
    shuffled = [
        {"train_sorted": bool(np.all(np.diff(tr) > 0)), "test_sorted": bool(np.all(np.diff(te) > 0))}
        for tr, te in KFold(n_splits=4, shuffle=True, random_state=0).split(np.arange(13))
    ]
    rkf = [len(te) for _, te in RepeatedKFold(n_splits=5, n_repeats=2, random_state=0).split(np.arange(23))]

    # An HDF5 file written by h5py, read by hyperlab.
    cube_rng = np.random.RandomState(1)
    cubes = {}
    with h5py.File(H5_PATH, "w") as f:
        for seed in range(3):
            for kind in ["gr", "newton"]:
                name = f"{kind}_seed{seed:04d}"
                c = cube_rng.randn(4, 4, 4).astype(np.float32)
                if kind == "newton":
                    f.create_dataset(name, data=c, compression="gzip", chunks=(1, 4, 4))
                else:
                    f.create_dataset(name, data=c)
                cubes[name] = flat(c)
        rows64 = cube_rng.randn(5, 3)
        f.create_dataset("rows_f64", data=rows64)
        f.create_dataset("rows_i64", data=np.arange(5, dtype=np.int64) * 3)
        f.attrs["note"] = "written by h5py"

    return {
        "sklearn": sklearn.__version__,
        "h5py": h5py.__version__,
        "scaler": scaler_case(x, x_test),
        "scaler_nan": scaler_case(x_nan, x_nan[:4]),
        "split_sizes": sizes,
        "three_way_sizes": three,
        "kfold_test_sizes": kfold,
        "kfold_exact_10_3": kfold_exact,
        "kfold_shuffled_sorted": shuffled,
        "repeated_kfold_23_5_2": rkf,
        "h5py_file": {"cubes": cubes, "rows_f64": flat(rows64), "rows_i64": list(range(0, 15, 3))},
    }
