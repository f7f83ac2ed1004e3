"""Whole training steps of small MLPs (issue 10's fused native paths: Linear's parameter gradients in
one kernel, ReLU's gradient from its output): losses, first-step gradients and final parameters
after a few SGD steps, with frozen parameters, a one-output head, batch 1 and a hidden unit whose
pre-activation is exactly 0 (ReLU's gradient there is 0)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from common import T, seeded_input, state_dict


def mlp(d_in, h, d_out, dead_unit=True):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(d_in, h), nn.ReLU(), nn.Linear(h, d_out))
    if dead_unit:
        with torch.no_grad():
            model[0].weight[3].zero_()
            model[0].bias[3] = 0.0
    return model


def run(model, x, target, loss_fn, lr, steps=3, frozen=()):
    for name, p in model.named_parameters():
        if name in frozen:
            p.requires_grad_(False)
    init = state_dict(model)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=lr)
    losses, grads = [], None
    for step in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), target)
        loss.backward()
        if step == 0:
            grads = {n: T(p.grad) for n, p in model.named_parameters() if p.grad is not None}
        opt.step()
        losses.append(loss.item())
    return {"x": T(x), "target": T(target), "lr": lr, "init": init, "losses": losses, "grads": grads, "final": state_dict(model),
            "frozen": list(frozen)}


def labels(seed, n, classes):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, classes, (n,), generator=g)


def generate():
    ce = lambda y, t: F.cross_entropy(y, t)
    return {
        "ce_relu": run(mlp(20, 16, 5), seeded_input(1, 8, 20), labels(2, 8, 5), ce, 0.1),
        "ce_batch1": run(mlp(20, 16, 5), seeded_input(3, 1, 20), labels(4, 1, 5), ce, 0.1),
        "ce_frozen": run(mlp(20, 16, 5), seeded_input(1, 8, 20), labels(2, 8, 5), ce, 0.1, frozen=("0.weight", "2.bias")),
        "ce_frozen_bias": run(mlp(20, 16, 5), seeded_input(1, 8, 20), labels(2, 8, 5), ce, 0.1, frozen=("0.bias",)),
        "mse_sum": run(mlp(20, 16, 5), seeded_input(5, 8, 20), seeded_input(6, 8, 5), lambda y, t: F.mse_loss(y, t, reduction="sum"), 1e-3),
        "mse_head1": run(mlp(20, 16, 1), seeded_input(7, 8, 20), seeded_input(8, 8, 1), lambda y, t: F.mse_loss(y, t), 0.05),
    }
