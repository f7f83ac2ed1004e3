"""Interop with the original XANESNET, for test/interop.test.ts:
  - numpy's legacy RandomState (MT19937) and the row orders XANESNET gets from scikit-learn:
    sklearn.utils.shuffle(..., random_state=RandomState(seed), n_samples) in core_data.py and
    train_test_split(..., test_size, random_state=42) in learn.py (0.2, or 0.25 with model_eval);
  - float32 coordinate reading as XANESNET's load_xyz does (np.array(..., dtype="float32")).
The pickled-model fixture for `hyperlab import-xanesnet` is written by gen_xanesnet_model.py.
"""
import os

import numpy as np
from numpy.random import RandomState
from sklearn.model_selection import train_test_split
from sklearn.utils import shuffle


def generate():
    import sklearn

    out = {"numpy": np.__version__, "sklearn": sklearn.__version__}
    # The seeded MT19937 key (numpy's mt19937_seed) and the first 32-bit draws.
    out["key_2021"] = [int(x) for x in RandomState(2021).get_state()[1][:4]]
    out["uint32_2021"] = [int(x) for x in RandomState(2021).randint(0, 2**32, size=5, dtype=np.uint64)]
    cases = []
    for n, seed, m in [(1, 0, None), (2, 5, None), (10, 2021, None), (57, 2021, None), (57, 2021, 40), (300, 7, None), (1000, 4294967295, 999)]:
        idx = np.arange(n)
        shuffled = shuffle(idx, random_state=RandomState(seed), n_samples=m)
        c = {"n": n, "seed": seed, "n_samples": m, "permutation": RandomState(seed).permutation(n).tolist(), "shuffle": shuffled.tolist()}
        for test_size in (0.2, 1 - 0.75):
            if n >= 5:
                tr, te = train_test_split(idx, test_size=test_size, random_state=42)
                c[f"split_{test_size}"] = {"train": tr.tolist(), "test": te.tolist()}
        cases.append(c)
    out["cases"] = cases
    # XANESNET's whole order on the embedded Fe training set (core_data.py then learn.py): the sorted
    # common ids, shuffled with RandomState(seed 2021), then train_test_split(test_size 0.2, random_state 42).
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "datasets", "xanes-fe")
    stems = lambda d, ext: {f[: -len(ext)] for f in os.listdir(os.path.join(root, d)) if f.endswith(ext)}  # noqa: E731
    ids = np.array(sorted(stems("xyz_train", ".xyz") & stems("xanes_train", ".txt")))
    shuffled = shuffle(ids, random_state=RandomState(2021))
    tr, te = train_test_split(shuffled, test_size=0.2, random_state=42)
    out["xanesnet_fe_order"] = {"seed": 2021, "train": tr.tolist(), "validation": te.tolist()}
    coords = ["1.23456789012", "-0.000123456789", "12.3456789", "3.14159265358979", "1e-8", "-7.77777777777"]
    out["float32_coordinates"] = {"text": coords, "values": [float(v) for v in np.array(coords, dtype="float32")]}
    return out
