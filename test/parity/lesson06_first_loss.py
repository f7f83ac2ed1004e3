"""The spread of the first loss in PyTorch's two-layer warm-up, for lesson 06's check.

x, y, w1, w2 ~ randn (64x1000, 64x10, 1000x100, 100x10), loss = sum((relu(x w1) w2 - y)^2).
Its expectation is 640 * (100 * 1000 / 2 + 1); this prints loss / expectation over many
seeds (torch.manual_seed(0), 1, ...). Not a fixture (make_fixtures.py runs gen_*.py only):

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 test/parity/lesson06_first_loss.py 10000

With 10,000 seeds (PyTorch 1.13, float32): mean 1.0035, sd 0.1605, min 0.569, max 1.956;
quantiles 0.05% 0.647, 2.5% 0.747, 50% 0.985, 97.5% 1.371, 99.95% 1.775; 19% of the seeds
fall outside +-20%. Lesson 06 accepts 0.55 .. 2.0.
"""
import sys

import numpy as np
import torch

torch.set_num_threads(1)
N, D_in, H, D_out = 64, 1000, 100, 10
expected = N * D_out * (H * D_in / 2 + 1)
ratios = []
for seed in range(int(sys.argv[1]) if len(sys.argv) > 1 else 1000):
    torch.manual_seed(seed)
    x = torch.randn(N, D_in)
    y = torch.randn(N, D_out)
    w1 = torch.randn(D_in, H)
    w2 = torch.randn(H, D_out)
    ratios.append(((x.mm(w1).clamp(min=0).mm(w2) - y) ** 2).sum().item() / expected)
r = np.array(ratios)
print(f"seeds {len(r)}: mean {r.mean():.4f}, sd {r.std():.4f}, min {r.min():.3f}, max {r.max():.3f}")
for q in (0.0005, 0.025, 0.5, 0.975, 0.9995):
    print(f"  quantile {q}: {np.quantile(r, q):.3f}")
print(f"  outside +-20%: {np.mean(np.abs(r - 1) > 0.2):.1%}; the course's 2.53e7 is {2.53e7 / expected:.3f}")
