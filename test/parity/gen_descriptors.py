"""XANESNET structure descriptors (wACSF, RDC), .xyz / FDMNES readers and writer: reference numbers.

A numpy re-implementation of XANESNET's `src/structure/{wacsf,rdc}.py` and `src/inout.py`
(NewcastleRSE/xray-spectroscopy-ml, 2023) written from shared/specs/models-from-seeds.md,
"Featurisation". It is independent of the TypeScript code it checks. Everything is float64;
`float32=True` reproduces XANESNET's own reader, which parses coordinates as float32.

    fc(r)   = (cos(pi r / r_max) + 1) / 2                   (not clamped)
    G1      = sum_j fc(r0j)
    G2_m    = sum_j 0.1 Z_j exp(-eta_m (r0j - mu_m)^2) fc(r0j)
    G4_{eta,lambda,zeta} = 2^(1-zeta) sum_{j<k} 0.1 Z_j 0.1 Z_k (1 + lambda cos theta_jik)^zeta
                           g(r0j) fc(r0j) g(r0k) fc(r0k) g(rjk) fc(rjk),   g(r) = exp(-eta (r - mu)^2)
    RDC(r)  = sum_j Z_0 Z_j exp(-alpha (r0j - r)^2)

Only atoms with r0j < r_max take part. Run with `npm run fixtures descriptors`.
"""
import glob
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "datasets", "xanes-fe")

# The elements of the bundled data and of the synthetic structure below.
Z_OF = {"H": 1, "B": 5, "C": 6, "N": 7, "O": 8, "F": 9, "Si": 14, "P": 15, "S": 16, "Cl": 17,
        "Fe": 26, "Se": 34, "Br": 35, "I": 53}


def str_to_numeric(s):
    s = s.strip()
    for cast in (int, float):
        try:
            return cast(s)
        except ValueError:
            pass
    return s


def parse_xyz(text, float32=False):
    """(Z, positions, info) like XANESNET's inout.load_xyz."""
    lines = text.splitlines()
    n = int(lines[0])
    comment = lines[1]
    rows = [lines[2 + i].split() for i in range(n)]
    z = np.array([int(r[0]) if r[0].isdigit() else Z_OF[r[0]] for r in rows])
    pos = np.array([r[1:4] for r in rows], dtype="float32" if float32 else "float64").astype("float64")
    try:
        info = dict([k.strip(), str_to_numeric(v)] for k, v in [p.split("=") for p in comment.split("|")])
    except ValueError:
        info = {}
    return z, pos, info


def in_range(z, pos, r_max):
    r0 = np.linalg.norm(pos - pos[0], axis=1)
    keep = r0 < r_max
    return z[keep], pos[keep]


def cutoff(r, r_max):
    return (np.cos(np.pi * r / r_max) + 1.0) / 2.0


def gaussian(r, eta, mu):
    return np.exp(-eta * (r - mu) ** 2)


def sf_params(n, r_min, r_max, parameterisation):
    """(eta, mu) lists for the 'shifted' or 'centred' parameterisation."""
    if parameterisation == "shifted":
        r = np.linspace(r_min + 0.5, r_max - 0.5, n)
        dr = r[1] - r[0]
        return np.full(n, 1.0 / (2.0 * dr**2)), r
    r = np.linspace(r_min + 1.0, r_max - 0.5, n)
    return 1.0 / (2.0 * r**2), np.zeros(n)


def wacsf(z, pos, info, r_min=0.0, r_max=8.0, n_g2=0, n_g4=0, l=(1.0, -1.0), zeta=(1.0,),
          g2_parameterisation="shifted", g4_parameterisation="centred", use_charge=False, use_spin=False):
    z, pos = in_range(z, pos, r_max)
    r0 = np.linalg.norm(pos[1:] - pos[0], axis=1)
    zj = 0.1 * z[1:]
    out = [np.sum(cutoff(r0, r_max))]
    if n_g2:
        eta, mu = sf_params(n_g2, r_min, r_max, g2_parameterisation)
        out += [np.sum(zj * gaussian(r0, e, m) * cutoff(r0, r_max)) for e, m in zip(eta, mu)]
    if n_g4:
        assert n_g4 % (len(l) * len(zeta)) == 0
        eta, mu = sf_params(n_g4, r_min, r_max, g4_parameterisation)
        keep = n_g4 // (len(l) * len(zeta))
        eta, mu = eta[:keep], mu[:keep]
        n = len(z)
        j, k = np.array([(j, k) for j in range(1, n) for k in range(j + 1, n)]).T
        vj, vk = pos[j] - pos[0], pos[k] - pos[0]
        rij, rik = np.linalg.norm(vj, axis=1), np.linalg.norm(vk, axis=1)
        rjk = np.linalg.norm(pos[j] - pos[k], axis=1)
        cos = np.sum(vj * vk, axis=1) / (rij * rik)
        w = 0.1 * z[j] * 0.1 * z[k]
        fij, fik, fjk = cutoff(rij, r_max), cutoff(rik, r_max), cutoff(rjk, r_max)
        for e, m in zip(eta, mu):
            radial = gaussian(rij, e, m) * fij * gaussian(rik, e, m) * fik * gaussian(rjk, e, m) * fjk
            for lam in l:
                for ze in zeta:
                    out.append(np.sum(w * (1.0 + lam * cos) ** ze * radial) * 2.0 ** (1.0 - ze))
    prefix = ([info["q"]] if use_charge else []) + ([info["S"]] if use_spin else [])
    return np.array(prefix + out, dtype="float64")


def rdc(z, pos, info, r_min=0.0, r_max=8.0, dr=0.01, alpha=10.0, use_charge=False, use_spin=False):
    grid = np.linspace(r_min, r_max, int(abs(r_max - r_min) / dr) + 1)
    z, pos = in_range(z, pos, r_max)
    r0 = np.linalg.norm(pos[1:] - pos[0], axis=1)
    curve = np.sum((z[0] * z[1:])[:, None] * np.exp(-alpha * (r0[:, None] - grid) ** 2), axis=0)
    prefix = ([info["q"]] if use_charge else []) + ([info["S"]] if use_spin else [])
    return np.concatenate([np.array(prefix, dtype="float64"), curve])


def read(path):
    with open(path) as f:
        return f.read()


def parse_spectrum(text):
    rows = [l.split() for l in text.splitlines()[2:] if l.strip()]
    return np.array([float(r[0]) for r in rows]), np.array([float(r[1]) for r in rows])


def fdmnes(e, m):
    """XANESNET's inout.save_xanes as a string."""
    out = f'{"FDMNES":>10}\n{"energy":>10}{"<xanes>":>12}\n'
    for e_, m_ in zip(e, m):
        out += f"{e_:>10.2f}{m_:>15.7E}\n"
    return out


SYNTHETIC = """6
q = 1 | S = 2.5
Fe 0.0 0.0 0.0
N 1.95 0.0 0.0
O -5.5 0.0 0.0
Cl 5.5 0.1 -0.2
8 0.3 2.1 -1.0
C 9.0 0.0 0.0
"""

CASES = {
    "example": dict(r_min=1.0, r_max=6.0, n_g2=16, n_g4=32),
    "defaults": dict(),
    "g2_only": dict(n_g2=8),
    "xanesnet_2021": dict(r_min=0.0, r_max=6.0, n_g2=32, n_g4=64, zeta=(1.0, 2.0, 4.0, 8.0)),
    "centred_g2_shifted_g4": dict(r_min=0.5, r_max=7.0, n_g2=5, n_g4=12, l=(1.0, -1.0), zeta=(1.0, 3.0),
                                  g2_parameterisation="centred", g4_parameterisation="shifted"),
}
RDC_CASES = {"defaults": dict(), "coarse": dict(r_min=0.5, r_max=6.0, dr=0.05, alpha=20.0)}


def generate():
    train = sorted(glob.glob(os.path.join(DATA, "xyz_train", "*.xyz")))
    test = sorted(glob.glob(os.path.join(DATA, "xyz_test", "*.xyz")))
    by_atoms = sorted(train, key=lambda p: int(read(p).split("\n", 1)[0]))
    picks = [by_atoms[0], by_atoms[-1], train[30], train[77], test[3]]
    assert len(set(picks)) == 5
    structures = {}
    for p in picks:
        text = read(p)
        z, pos, info = parse_xyz(text)
        z32, pos32, _ = parse_xyz(text, float32=True)
        structures[os.path.relpath(p, DATA)] = {
            "n_atoms": int(len(z)),
            "z": [int(v) for v in z],
            "wacsf": {name: wacsf(z, pos, info, **kw).tolist() for name, kw in CASES.items()},
            "wacsf_float32_example": wacsf(z32, pos32, info, **CASES["example"]).tolist(),
            "rdc": {name: rdc(z, pos, info, **kw).tolist() for name, kw in RDC_CASES.items()},
        }
    z, pos, info = parse_xyz(SYNTHETIC)
    synthetic = {
        "text": SYNTHETIC,
        "z": [int(v) for v in z],
        "info": info,
        "wacsf": wacsf(z, pos, info, n_g2=4, n_g4=4, use_charge=True, use_spin=True).tolist(),
        "wacsf_no_prefix": wacsf(z, pos, info, n_g2=4, n_g4=4).tolist(),
        "rdc": rdc(z, pos, info, dr=0.5, use_charge=True, use_spin=True).tolist(),
    }
    # The whole test split, as loadXanesDataset pairs it: sorted common stems.
    stems = lambda d, ext: {os.path.basename(p)[: -len(ext)] for p in glob.glob(os.path.join(DATA, d, "*" + ext))}
    ids = sorted(stems("xyz_test", ".xyz") & stems("xanes_test", ".txt"))
    xs, ys = [], []
    for i in ids:
        z, pos, info = parse_xyz(read(os.path.join(DATA, "xyz_test", i + ".xyz")))
        xs.append(wacsf(z, pos, info, **CASES["example"]).tolist())
        e, m = parse_spectrum(read(os.path.join(DATA, "xanes_test", i + ".txt")))
        ys.append(m.tolist())
    # The FDMNES writer: one bundled spectrum re-written, and awkward numbers.
    e, m = parse_spectrum(read(os.path.join(DATA, "xanes_test", ids[0] + ".txt")))
    awkward = [0.0, -0.0, 0.125, -0.125, 0.375, 2.675, 7097.125, 7097.335, 1.005, 12345678.5, -12345678.5,
               123456785.0, 99.995, 9.9999999e9, 1e-300, 5e-324, -2.5e-7, 1e300, 1.7976931348623157e308,
               4.6876331e-3, 0.5, 1.0, 1e16, 0.045, 7171.666666666667]
    return {
        "cases": {k: {kk: list(vv) if isinstance(vv, tuple) else vv for kk, vv in v.items()} for k, v in CASES.items()},
        "rdc_cases": RDC_CASES,
        "structures": structures,
        "synthetic": synthetic,
        "test_split": {"ids": ids, "x": xs, "y": ys, "energies": e.tolist()},
        "fdmnes": {"id": ids[0], "text": fdmnes(e, m)},
        "format": {"values": awkward, "fixed": [f"{v:>10.2f}" for v in awkward],
                   "exp": [f"{v:>15.7E}" for v in awkward]},
    }
