"""Losses and regularisation: values and gradients from PyTorch, and from faithful
renderings of XANESNET's own loss code (src/model_utils.py at e99d8181, the same in
HEAD xanesnet/utils/loss.py).

XANESNET's training loop calls `criterion(pred, target)` while its losses are declared
as `forward(self, y_true, y_pred)`, so inside them `y_true` is the prediction. The
classes below keep XANESNET's argument names and are called the way XANESNET calls them.

Every loss case stores pred, target, the loss output and d(sum(out * dy))/d(pred)
(dy = 1 for scalar outputs, a seeded tensor for reduction='none').
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from common import T, seeded_input, state_dict


# ---- XANESNET's losses, as written there --------------------------------------------------


class EMDLoss(nn.Module):
    def forward(self, y_true, y_pred):
        loss = torch.mean(
            torch.square(torch.cumsum(y_true, dim=-1) - torch.cumsum(y_pred, dim=-1)),
            dim=-1,
        ).sum()
        return loss


class CosineSimilarityLoss(nn.Module):
    def forward(self, y_true, y_pred):
        loss = torch.mean(nn.CosineSimilarity()(y_pred, y_true))
        return loss


class WCCLoss(nn.Module):
    def __init__(self, gaussian_hwhm=10):
        super().__init__()
        self.gaussian_hwhm = gaussian_hwhm

    def correlations(self, y_true, y_pred):
        n_samples = y_true.shape[0]
        corr = nn.functional.conv1d(y_true.unsqueeze(0), y_pred.unsqueeze(1), padding="same", groups=n_samples)
        corr1 = nn.functional.conv1d(y_true.unsqueeze(0), y_true.unsqueeze(1), padding="same", groups=n_samples)
        corr2 = nn.functional.conv1d(y_pred.unsqueeze(0), y_pred.unsqueeze(1), padding="same", groups=n_samples)
        return corr.squeeze(0), corr1.squeeze(0), corr2.squeeze(0)

    def weight(self, n_samples, n_features):
        width2 = (self.gaussian_hwhm / np.sqrt(2.0 * np.log(2))) * 2
        dx = torch.ones(n_samples)
        de = ((n_features / 2 - torch.arange(0, n_features))[:, None] * dx[None, :]).T
        return np.exp(-de * de / (2 * width2))

    def forward(self, y_true, y_pred):
        n_features = y_true.shape[1]
        n_samples = y_true.shape[0]
        corr, corr1, corr2 = self.correlations(y_true, y_pred)
        weight = self.weight(n_samples, n_features)
        norm = torch.sum(corr * weight, 1)
        norm1 = torch.sum(corr1 * weight, 1)
        norm2 = torch.sum(corr2 * weight, 1)
        similarity = torch.clip(norm / torch.sqrt(norm1 * norm2), 0, 1)
        loss = 1 - torch.mean(similarity)
        return loss


def loss_reg_fn(model, loss_reg_type):
    """XANESNET's regularisation term R (the caller adds lambda * R)."""
    l_reg = torch.tensor(0.0)
    if loss_reg_type.lower() == "l1":
        for param in model.parameters():
            l_reg += torch.norm(param, p=1)
    elif loss_reg_type.lower() == "l2":
        for param in model.parameters():
            l_reg += torch.norm(param)
    return l_reg


def loss_reg_fn_global(model, loss_reg_type):
    """The HEAD variant: one norm of every parameter concatenated."""
    flat = torch.cat([p.reshape(-1) for p in model.parameters()])
    return torch.norm(flat, p=1 if loss_reg_type.lower() == "l1" else 2)


# ---- case recording ------------------------------------------------------------------------


def case(fn, options, pred, target, compute, seed_dy=11, target_dtype="float32"):
    """Run out = compute(pred, target); gradient of sum(out * dy) w.r.t. pred."""
    pred = pred.clone().detach().requires_grad_(True)
    out = compute(pred, target)
    dy = torch.ones_like(out) if out.dim() == 0 else seeded_input(seed_dy, *out.shape)
    (out * dy).sum().backward()
    rec = {
        "fn": fn,
        "options": options,
        "pred": T(pred),
        "target": T(target),
        "target_dtype": target_dtype,
        "value": T(out),
        "grad": T(pred.grad),
    }
    if out.dim() > 0:
        rec["dy"] = T(dy)
    return rec


def opt_tensor(t):
    """Options holding a tensor are stored as {"tensor": {shape, data}}."""
    return {"tensor": T(t)}


def spectra(seed, n, length):
    """Smooth, positive, XANES-like rows: a few Gaussian peaks on an edge step."""
    g = torch.Generator().manual_seed(seed)
    x = torch.arange(length, dtype=torch.float32)
    rows = []
    for _ in range(n):
        centre = torch.rand(2, generator=g) * length
        width = 1.0 + torch.rand(2, generator=g) * 2.0
        height = 0.5 + torch.rand(2, generator=g)
        row = 0.3 / (1 + torch.exp(-(x - length / 3)))
        for c, w, h in zip(centre, width, height):
            row = row + h * torch.exp(-((x - c) ** 2) / (2 * w**2))
        rows.append(row)
    return torch.stack(rows).float()


def generate():
    cases = []
    red = ["mean", "sum", "none"]

    # MSE and L1, with a few elements where pred == target (L1's gradient there is 0).
    p = seeded_input(1, 4, 5)
    t = seeded_input(2, 4, 5)
    t[0, :2] = p[0, :2]
    for r in red:
        cases.append(case("mseLoss", {"reduction": r}, p, t, lambda a, b, r=r: F.mse_loss(a, b, reduction=r)))
        cases.append(case("l1Loss", {"reduction": r}, p, t, lambda a, b, r=r: F.l1_loss(a, b, reduction=r)))

    # BCE with logits: soft and hard targets, pos_weight, weight, and logits of +-50.
    x = seeded_input(3, 4, 3) * 2
    y = torch.rand(4, 3, generator=torch.Generator().manual_seed(4))
    pw = torch.tensor([0.5, 1.0, 3.0])
    w = torch.tensor([[1.0], [0.5], [2.0], [0.0]])
    for r in red:
        cases.append(case("bceWithLogitsLoss", {"reduction": r}, x, y,
                          lambda a, b, r=r: F.binary_cross_entropy_with_logits(a, b, reduction=r)))
        cases.append(case("bceWithLogitsLoss", {"reduction": r, "posWeight": opt_tensor(pw), "weight": opt_tensor(w)}, x, y,
                          lambda a, b, r=r: F.binary_cross_entropy_with_logits(a, b, weight=w, pos_weight=pw, reduction=r)))
    big = torch.tensor([[50.0, -50.0, 50.0, -50.0, 0.0, 20.0], [-50.0, 50.0, 30.0, -30.0, 50.0, -50.0]])
    ybig = torch.tensor([[1.0, 0.0, 0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 0.3, 0.7, 0.5, 0.5]])
    for r in red:
        cases.append(case("bceWithLogitsLoss", {"reduction": r}, big, ybig,
                          lambda a, b, r=r: F.binary_cross_entropy_with_logits(a, b, reduction=r)))
    cases.append(case("bceWithLogitsLoss", {"reduction": "mean", "posWeight": opt_tensor(torch.tensor([2.0] * 6))}, big, ybig,
                      lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=torch.tensor([2.0] * 6))))

    # BCE on probabilities, and at exactly 0 and 1 (the log is clamped at -100).
    prob = torch.sigmoid(x)
    for r in red:
        cases.append(case("bceLoss", {"reduction": r}, prob, y, lambda a, b, r=r: F.binary_cross_entropy(a, b, reduction=r)))
    cases.append(case("bceLoss", {"reduction": "mean", "weight": opt_tensor(w)}, prob, y,
                      lambda a, b: F.binary_cross_entropy(a, b, weight=w)))
    sat = torch.tensor([[0.0, 1.0, 0.0, 1.0, 1e-30, 0.5], [1.0, 0.0, 0.25, 0.75, 1.0, 0.0]])
    ysat = torch.tensor([[0.0, 1.0, 1.0, 0.0, 1.0, 0.5], [0.5, 0.5, 0.0, 1.0, 1.0, 0.0]])
    for r in ["sum", "none"]:
        cases.append(case("bceLoss", {"reduction": r}, sat, ysat, lambda a, b, r=r: F.binary_cross_entropy(a, b, reduction=r)))

    # Cross-entropy: class indices (int and float), weights, label smoothing, probabilities,
    # ignore_index, a spatial (N, C, d) input and an unbatched (C,) one.
    logits = seeded_input(5, 6, 4) * 2
    idx = torch.tensor([0, 3, 1, 1, 2, 3])
    cw = torch.tensor([1.0, 2.0, 0.5, 1.5])
    probs = torch.softmax(seeded_input(6, 6, 4), dim=1)
    for r in red:
        ce = lambda a, b, r=r, **kw: F.cross_entropy(a, b, reduction=r, **kw)  # noqa: E731
        cases.append(case("crossEntropyLoss", {"reduction": r}, logits, idx, ce, target_dtype="int32"))
        cases.append(case("crossEntropyLoss", {"reduction": r, "weight": cw.tolist()}, logits, idx,
                          lambda a, b, r=r: F.cross_entropy(a, b, weight=cw, reduction=r), target_dtype="int32"))
        cases.append(case("crossEntropyLoss", {"reduction": r, "labelSmoothing": 0.1}, logits, idx,
                          lambda a, b, r=r: F.cross_entropy(a, b, label_smoothing=0.1, reduction=r), target_dtype="int32"))
        cases.append(case("crossEntropyLoss", {"reduction": r, "labelSmoothing": 0.2, "weight": cw.tolist()}, logits, idx,
                          lambda a, b, r=r: F.cross_entropy(a, b, weight=cw, label_smoothing=0.2, reduction=r), target_dtype="int32"))
        cases.append(case("crossEntropyLoss", {"reduction": r}, logits, probs, ce))
        cases.append(case("crossEntropyLoss", {"reduction": r, "weight": cw.tolist(), "labelSmoothing": 0.15}, logits, probs,
                          lambda a, b, r=r: F.cross_entropy(a, b, weight=cw, label_smoothing=0.15, reduction=r)))
    cases.append(case("crossEntropyLoss", {"reduction": "mean"}, logits, idx, lambda a, b: F.cross_entropy(a, b), target_dtype="float32"))
    ign = torch.tensor([0, -100, 1, 1, -100, 3])
    for r in red:
        cases.append(case("crossEntropyLoss", {"reduction": r, "weight": cw.tolist(), "labelSmoothing": 0.1}, logits, ign,
                          lambda a, b, r=r: F.cross_entropy(a, b, weight=cw, label_smoothing=0.1, reduction=r), target_dtype="int32"))
    spatial = seeded_input(7, 2, 3, 5)
    sidx = torch.tensor([[0, 1, 2, 2, 1], [1, 1, 0, 2, 0]])
    for r in ["mean", "none"]:
        cases.append(case("crossEntropyLoss", {"reduction": r}, spatial, sidx,
                          lambda a, b, r=r: F.cross_entropy(a, b, reduction=r), target_dtype="int32"))
    cases.append(case("crossEntropyLoss", {"reduction": "mean"}, logits[0], torch.tensor(2),
                      lambda a, b: F.cross_entropy(a, b), target_dtype="int32"))

    # XANESNET's spectrum losses, called as XANESNET calls them: criterion(pred, target).
    for n, length in [(4, 9), (3, 10)]:
        tgt = spectra(20 + length, n, length)
        prd = tgt * 0.9 + 0.05 * seeded_input(30 + length, n, length)
        cases.append(case("emd", {}, prd, tgt, lambda a, b: EMDLoss()(a, b)))
        cases.append(case("cosine", {"original": True}, prd, tgt, lambda a, b: CosineSimilarityLoss()(a, b)))
        cases.append(case("cosine", {}, prd, tgt, lambda a, b: 1 - CosineSimilarityLoss()(a, b)))
    xs = seeded_input(40, 5, 7)
    ys = seeded_input(41, 5, 7)
    cases.append(case("emd", {}, xs, ys, lambda a, b: EMDLoss()(a, b)))
    cases.append(case("cosine", {}, xs, ys, lambda a, b: 1 - CosineSimilarityLoss()(a, b)))

    wcc = []
    for length in [9, 10, 16]:
        tgt = spectra(50 + length, 4, length)
        noise = seeded_input(60 + length, 4, length)
        # Similarities (per hwhm) lie inside (0, 1) for rows 0 and 1 (row 0 at L = 10 excepted),
        # above 1 for row 2 (clipped to 1) and below 0 for row 3 (clipped to 0), each at least
        # 1.7e-3 from the clip bounds, so float rounding cannot flip a clip.
        prd = torch.roll(tgt, 1, dims=1) + 0.6 * noise
        prd[1] = noise[1] + 0.5 * tgt[1]
        prd[2] = 1.3 * torch.roll(tgt[2], 1)
        prd[3] = -prd[3]
        for hwhm in [10, 3, 2.5]:
            crit = WCCLoss(hwhm)
            rec = case("wcc", {"hwhm": hwhm}, prd, tgt, lambda a, b, crit=crit: crit(a, b))
            with torch.no_grad():
                c_ab, c_aa, c_bb = crit.correlations(prd, tgt)
                rec["c_ab"], rec["c_aa"], rec["c_bb"] = T(c_ab), T(c_aa), T(c_bb)
                rec["weight"] = T(torch.as_tensor(crit.weight(1, length))[0])
            rec["length"] = length
            cases.append(rec)
            wcc.append(len(cases) - 1)

    # Regularisation on a small model with BatchNorm and PReLU, one bias at exactly zero.
    torch.manual_seed(7)
    model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.PReLU(), nn.Linear(6, 3))
    with torch.no_grad():
        model[1].weight.uniform_(0.5, 1.5)
        model[1].bias.uniform_(-0.2, 0.2)
        model[3].bias.zero_()
        model[0].weight[0, :2] = 0.0
    reg = {"state": state_dict(model), "params": {n: T(q) for n, q in model.named_parameters()}, "cases": []}
    for kind, variant, lam in [("L1", "per-tensor", 0.01), ("L2", "per-tensor", 0.01), ("l2", "per-tensor", 1.0),
                               ("L2", "global", 0.01), ("L1", "global", 0.05)]:
        model.zero_grad()
        r = loss_reg_fn(model, kind) if variant == "per-tensor" else loss_reg_fn_global(model, kind)
        value = lam * r
        value.backward()
        reg["cases"].append({"kind": kind, "variant": variant, "lambda": lam, "value": value.item(),
                             "grads": {n: T(q.grad) for n, q in model.named_parameters()}})

    # A XANESNET training step on an MLP: mse + lambda * L2, gradients of every parameter.
    torch.manual_seed(8)
    # For wcc the output is shifted by +2 (`shift`), so the similarities lie inside (0, 1).
    mlp = nn.Sequential(nn.Linear(5, 8), nn.PReLU(), nn.Linear(8, 10))
    with torch.no_grad():
        mlp[2].bias.zero_()
    xb, yb = seeded_input(70, 6, 5), spectra(90, 6, 10)
    step = {"state": state_dict(mlp), "x": T(xb), "y": T(yb), "runs": []}
    for loss_name, crit, kind, shift in [("mse", nn.MSELoss(), "L2", 0.0), ("wcc", WCCLoss(10), "L1", 2.0),
                                         ("emd", EMDLoss(), "L2", 0.0)]:
        mlp.zero_grad()
        out = mlp(xb) + shift
        loss = crit(out, yb) + 1e-3 * loss_reg_fn(mlp, kind)
        loss.backward()
        step["runs"].append({"loss": loss_name, "kind": kind, "shift": shift, "lambda": 1e-3, "value": loss.item(),
                             "grads": {n: T(q.grad) for n, q in mlp.named_parameters()}})

    return {"cases": cases, "wcc_cases": wcc, "regularization": reg, "train_step": step,
            "wcc_width2_hwhm10": (10 / math.sqrt(2 * math.log(2))) * 2}
