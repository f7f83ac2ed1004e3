"""Shared helpers for the PyTorch fixture generators.

Every generator module `gen_<area>.py` defines `generate()` returning a dict that
is written to test/fixtures/<area>.json. Tensors are stored as
{"shape": [...], "data": [flat float list]} (row-major, PyTorch layout), see T().
Run everything with `npm run fixtures` (Debian python3-torch, OPENBLAS_NUM_THREADS=1).
"""
import json
import os

import torch

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures")


def T(t):
    """A tensor (or number/list) as {"shape", "data"} in float64 precision."""
    if not isinstance(t, torch.Tensor):
        t = torch.tensor(t)
    t = t.detach().to(torch.float64).contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def state_dict(module):
    return {k: T(v) for k, v in module.state_dict().items()}


def seeded_input(seed, *shape, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, generator=g) * scale).float()


def save(area, obj):
    os.makedirs(FIXTURES, exist_ok=True)
    path = os.path.join(FIXTURES, f"{area}.json")
    with open(path, "w") as f:
        json.dump({"generator": f"test/parity/gen_{area}.py", "torch": torch.__version__, **obj}, f)
    print(f"wrote {os.path.relpath(path)}")


def sgd_steps(net, x, y, lr, steps):
    """Plain gradient steps on the mean squared error; the loss before each step."""
    losses = []
    for _ in range(steps):
        net.zero_grad()
        loss = ((net(x) - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            for p in net.parameters():
                p -= lr * p.grad
        losses.append(loss.item())
    return losses
