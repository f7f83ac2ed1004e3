"""Linear, activations, containers: forward values and gradients, parameter counts, state-dict keys."""
import torch
import torch.nn as nn
from common import T, seeded_input, sgd_steps, state_dict


def layer_case(module, x, seed_dy=7):
    """Forward y = module(x) and the gradients of sum(y * dy) w.r.t. x and every parameter."""
    x = x.clone().requires_grad_(True)
    y = module(x)
    dy = seeded_input(seed_dy, *y.shape)
    (y * dy).sum().backward()
    return {
        "state": state_dict(module),
        "x": T(x),
        "y": T(y),
        "dy": T(dy),
        "dx": T(x.grad),
        "grads": {n: T(p.grad) for n, p in module.named_parameters()},
    }


def generate():
    torch.manual_seed(1)
    out = {}
    out["linear"] = layer_case(nn.Linear(5, 3), seeded_input(1, 4, 5))
    out["linear_3d"] = layer_case(nn.Linear(5, 3), seeded_input(2, 2, 3, 5))
    out["linear_nobias"] = layer_case(nn.Linear(5, 3, bias=False), seeded_input(3, 4, 5))
    # Activations on values that include exactly 0 and -1 (the lessons' points).
    x = torch.cat([torch.tensor([-2.0, -1.0, 0.0, 1.0, 2.0, -30.0, 30.0]), seeded_input(4, 13) * 3]).reshape(4, 5)
    acts = {
        "relu": nn.ReLU(),
        "leakyrelu_0.05": nn.LeakyReLU(0.05),
        "leakyrelu_default": nn.LeakyReLU(),
        "prelu": nn.PReLU(),
        "elu": nn.ELU(),
        "elu_0.5": nn.ELU(alpha=0.5),
        "selu": nn.SELU(),
        "tanh": nn.Tanh(),
        "sigmoid": nn.Sigmoid(),
        "softmax": nn.Softmax(dim=-1),
        "softmax_dim0": nn.Softmax(dim=0),
    }
    out["activations"] = {name: layer_case(m, x) for name, m in acts.items()}
    # Softmax with temperature T is softmax(x / T).
    xt = seeded_input(5, 3, 4) * 2
    out["softmax_temperature"] = {str(t): T(torch.softmax(xt / t, dim=-1)) for t in (0.5, 1.0, 5.0)}
    out["softmax_temperature_x"] = T(xt)
    # PReLU with one slope per channel, on (N, C, L).
    pr = nn.PReLU(3)
    with torch.no_grad():
        pr.weight.copy_(torch.tensor([0.1, 0.25, -0.3]))
    out["prelu_channels"] = layer_case(pr, seeded_input(6, 2, 3, 4))
    # Parameter counts and names of nested models.
    m1 = nn.Sequential(nn.Linear(8, 4), nn.Linear(4, 2))
    m2 = nn.Sequential(nn.Linear(10, 20), nn.PReLU(), nn.Sequential(nn.Linear(20, 5), nn.Tanh(), nn.Linear(5, 1)))
    out["counts"] = {
        "seq_8_4_2": {"total": sum(p.numel() for p in m1.parameters()), "names": [n for n, _ in m1.named_parameters()]},
        "nested": {"total": sum(p.numel() for p in m2.parameters()), "names": [n for n, _ in m2.named_parameters()]},
    }
    # A two-layer net trained by plain gradient steps: values after each step.
    torch.manual_seed(3)
    net = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 2))
    out["mlp_state"] = state_dict(net)
    xb, yb = seeded_input(8, 16, 6), seeded_input(9, 16, 2)
    losses = sgd_steps(net, xb, yb, 0.1, 5)
    out["mlp_train"] = {"x": T(xb), "y": T(yb), "losses": losses, "final": state_dict(net)}
    return out
