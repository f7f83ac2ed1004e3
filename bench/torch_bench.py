"""PyTorch twins of bench/workloads.ts: median ms per training step.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/torch_bench.py WORKLOAD [--min-steps N] [--min-seconds S] [--max-seconds S] [--device cpu|cuda]
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/torch_bench.py run_small --epochs E --train-batches T --val-batches V

Prints one JSON line: {"workload", "ms" (median), "mean_ms", "min_ms", "cpu_ms" (median CPU time, all threads),
"steps", "peak_rss_mb", "torch", "threads"}.
bench/run.ts calls it with OPENBLAS_NUM_THREADS=1 (torch.set_num_threads does not limit OpenBLAS,
shared/PLATFORM.md). Every workload: forward + backward + optimizer step + loss.item(), as hyperlab's
step does (hl.backward reads the loss value).
"""
import argparse
import gzip
import json
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


DEVICE = torch.device("cpu")


def on_device(*tensors):
    """The tensors on DEVICE (--device); models are moved by train_step."""
    return tensors[0].to(DEVICE) if len(tensors) == 1 else tuple(t.to(DEVICE) for t in tensors)


def train_step(model, opt, loss_fn):
    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        opt.step()
        return loss.item()

    model.to(DEVICE)
    model.train()
    return step


def mlp_a(batch):
    """(a) MLP 1000-100-10, ReLU, SGD lr 0.01, cross-entropy."""
    model = nn.Sequential(nn.Linear(1000, 100), nn.ReLU(), nn.Linear(100, 10))
    x, y = on_device(torch.randn(batch, 1000), torch.randint(0, 10, (batch,)))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    return train_step(model, opt, lambda: F.cross_entropy(model(x), y))


def mlp_b():
    """(b) MLP 400-512-512-400, PReLU, dropout 0.2, Adam lr 1e-3, MSE, batch 32."""
    model = nn.Sequential(
        nn.Linear(400, 512), nn.PReLU(), nn.Dropout(0.2),
        nn.Linear(512, 512), nn.PReLU(), nn.Dropout(0.2),
        nn.Linear(512, 400),
    )
    x, y = on_device(torch.randn(32, 400), torch.randn(32, 400))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return train_step(model, opt, lambda: F.mse_loss(model(x), y))


def xanesnet_mlp():
    """XANESNET mlp (in_mlp.yaml): 49-512-256-128-64-226, Linear -> Dropout(0.2) -> PReLU, Adam 1e-4, batch 64."""
    sizes = [49, 512, 256, 128, 64]
    layers = []
    for i in range(len(sizes) - 1):
        layers += [nn.Linear(sizes[i], sizes[i + 1]), nn.Dropout(0.2), nn.PReLU()]
    model = nn.Sequential(*layers, nn.Linear(64, 226))
    x, y = on_device(torch.randn(64, 49), torch.randn(64, 226))
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    return train_step(model, opt, lambda: F.mse_loss(model(x), y))


def cnn_c():
    """(c) CNN 1x64x64, three conv(k4,s2,p1)+BN+ReLU (16/32/64), linear 32, linear 1, BCE-with-logits, Adam, batch 32."""
    def block(i, o):
        return [nn.Conv2d(i, o, 4, 2, 1), nn.BatchNorm2d(o), nn.ReLU()]

    model = nn.Sequential(*block(1, 16), *block(16, 32), *block(32, 64), nn.Flatten(),
                          nn.Linear(64 * 8 * 8, 32), nn.ReLU(), nn.Linear(32, 1))
    x, y = on_device(torch.randn(32, 1, 64, 64), torch.randint(0, 2, (32, 1)).float())
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return train_step(model, opt, lambda: F.binary_cross_entropy_with_logits(model(x), y))


class LstmD(nn.Module):
    """(d) LSTM seq 50, input 8, hidden 64, then linear 1 on the last step."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, 64, batch_first=True)
        self.head = nn.Linear(64, 1)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def lstm_d(batch=32):
    model = LstmD()
    x, y = on_device(torch.randn(batch, 50, 8), torch.randn(batch, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return train_step(model, opt, lambda: F.mse_loss(model(x), y))


def raccoon():
    """RACOON, L=16: 3 x Conv2d(k4, s4, no bias) + BN2d + LeakyReLU(0.2), Linear(128L, L) + act + Dropout(0.5), Linear(L, 1); Adam betas (0.5, 0.999)."""
    L = 16
    act = nn.LeakyReLU(0.2)  # one shared instance, as in the original
    model = nn.Sequential(
        nn.Conv2d(1, L, 4, 4, 0, bias=False), nn.BatchNorm2d(L), act,
        nn.Conv2d(L, 4 * L, 4, 4, 0, bias=False), nn.BatchNorm2d(4 * L), act,
        nn.Conv2d(4 * L, 8 * L, 4, 4, 0, bias=False), nn.BatchNorm2d(8 * L), act,
        nn.Flatten(), nn.Linear(128 * L, L), act, nn.Dropout(0.5), nn.Linear(L, 1),
    )
    x, y = on_device(torch.randn(4, 1, 256, 256), torch.randint(0, 2, (4, 1)).float())
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.999))
    return train_step(model, opt, lambda: F.binary_cross_entropy_with_logits(model(x), y))


def xanesnet_small():
    """runfiles/xanes_mlp.yaml: mlp 49-256-128-226, Linear -> Dropout(0.1) -> PReLU, xavier_uniform, zero biases,
    Adam 1e-3, MSE + 1e-4 * sum of per-tensor L2 norms (XANESNET 2023's loss_reg_type L2), batch 16."""
    model = xanesnet_small_model()
    x, y = on_device(torch.randn(16, 49), torch.randn(16, 226))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def loss():
        l2 = sum(torch.norm(p, 2) for p in model.parameters())
        return F.mse_loss(model(x), y) + 1e-4 * l2

    return train_step(model, opt, loss)


class TwoLayerNet(nn.Module):
    """lessons/06's TwoLayerNet (PyTorch's "learning PyTorch with examples")."""

    def __init__(self, d_in, h, d_out):
        super().__init__()
        self.linear1 = nn.Linear(d_in, h)
        self.linear2 = nn.Linear(h, d_out)

    def forward(self, x):
        return self.linear2(self.linear1(x).clamp(min=0))


def twolayer_small():
    model = TwoLayerNet(1000, 100, 10)
    x, y = on_device(torch.randn(64, 1000), torch.randn(64, 10))
    opt = torch.optim.SGD(model.parameters(), lr=1e-4)
    criterion = nn.MSELoss(reduction="sum")
    return train_step(model, opt, lambda: criterion(model(x), y))


class SimpleNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(5, 8)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(8, 1)

    def forward(self, x):
        return self.fc2(self.relu(self.fc1(x)))


def diabetes_batches(batch=32):
    """The diabetes table's first five features and its target, standardised, in rows of 32 (as bench/workloads.ts)."""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "datasets", "tables")
    with gzip.open(os.path.join(here, "diabetes_data_raw.csv.gz"), "rt") as f:
        x = torch.tensor([[float(v) for v in line.split()[:5]] for line in f if line.strip()], dtype=torch.float64)
    with gzip.open(os.path.join(here, "diabetes_target.csv.gz"), "rt") as f:
        y = torch.tensor([[float(line)] for line in f if line.strip()], dtype=torch.float64)
    x = ((x - x.mean(0)) / x.std(0, unbiased=False)).float()
    y = ((y - y.mean(0)) / y.std(0, unbiased=False)).float()
    return [on_device(x[s:s + batch], y[s:s + batch]) for s in range(0, len(x) - batch + 1, batch)]


def simplenn_small():
    model = SimpleNN()
    batches = diabetes_batches()
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    i = [0]

    def loss():
        x, y = batches[i[0] % len(batches)]
        i[0] += 1
        return F.mse_loss(model(x), y)

    return train_step(model, opt, loss)


WORKLOADS = {
    "a_b64": lambda: mlp_a(64),
    "a_b1024": lambda: mlp_a(1024),
    "b": mlp_b,
    "xanesnet_mlp": xanesnet_mlp,
    "c": cnn_c,
    "d": lstm_d,
    "raccoon": raccoon,
    "xanesnet_small_b16": xanesnet_small,
    "twolayer_small_b64": twolayer_small,
    "simplenn_small_b32": simplenn_small,
    "lstm_small_b1": lambda: lstm_d(1),
}


def xanesnet_small_model():
    """runfiles/xanes_mlp.yaml's mlp (as xanesnet_small), its optimizer and its loss with L2 regularisation."""
    sizes = [49, 256, 128]
    layers = [nn.Sequential(nn.Linear(sizes[i], sizes[i + 1]), nn.Dropout(0.1), nn.PReLU()) for i in range(len(sizes) - 1)]
    model = nn.Sequential(*layers, nn.Linear(128, 226))
    for name, p in model.named_parameters():
        if name.endswith("bias"):
            nn.init.zeros_(p)
        elif p.dim() == 2:
            nn.init.xavier_uniform_(p)
    return model


def run_small(epochs, train_batches, val_batches):
    """A whole epoch as the original XANESNET (2023) trains the mlp: shuffled DataLoader batches of 16,
    MSE + L2 regularisation, Adam, then validation under no_grad, the step schedule, two logged scalars
    (XANESNET: TensorBoard and mlflow; here a flushed log file) and a printed line. Median ms per epoch
    after the first."""
    import tempfile
    from torch.utils.data import DataLoader, TensorDataset

    model = xanesnet_small_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=50, gamma=0.5)
    criterion = nn.MSELoss()
    train = DataLoader(TensorDataset(torch.randn(train_batches * 16, 49), torch.randn(train_batches * 16, 226)), batch_size=16, shuffle=True)
    valid = DataLoader(TensorDataset(torch.randn(val_batches * 16, 49), torch.randn(val_batches * 16, 226)), batch_size=16, shuffle=False)
    times = []
    with tempfile.TemporaryDirectory() as log_dir, open(os.path.join(log_dir, "scalars.log"), "w") as log:
        for epoch in range(epochs):
            t0 = time.perf_counter()
            model.train()
            running_loss = 0.0
            for x, y in train:
                opt.zero_grad()
                pred = model(x)
                loss = criterion(pred, y) + 1e-4 * sum(torch.norm(p, 2) for p in model.parameters())
                loss.backward()
                opt.step()
                running_loss += loss.item()
            valid_loss = 0.0
            model.eval()
            with torch.no_grad():
                for x, y in valid:
                    valid_loss += criterion(model(x), y).item()
            sched.step()
            log.write(f"{epoch},loss/train,{running_loss / len(train)}\n{epoch},loss/validation,{valid_loss / len(valid)}\n")
            log.flush()
            print(f">>> epoch = {epoch}, loss = {running_loss / len(train):.8f} valid_loss = {valid_loss / len(valid):.8f}", file=sys.stderr)
            times.append((time.perf_counter() - t0) * 1000)
    return times[1:]


def measure(step, min_steps, min_seconds, max_seconds, warmup=3):
    """Per-step wall and CPU times in ms: at least min_steps steps and min_seconds, at most max_seconds (and 3 steps)."""
    for _ in range(warmup):
        step()
    times, cpu = [], []
    start = time.perf_counter()
    while True:
        elapsed = time.perf_counter() - start
        if len(times) >= min_steps and elapsed >= min_seconds:
            break
        if elapsed >= max_seconds and len(times) >= 3:
            break
        c0 = time.process_time()
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return times, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=sorted([*WORKLOADS, "run_small"]))
    parser.add_argument("--min-steps", type=int, default=20)
    parser.add_argument("--min-seconds", type=float, default=2.0)
    parser.add_argument("--max-seconds", type=float, default=10.0)
    parser.add_argument("--device", default="cpu", help="cpu, or cuda (where PyTorch has CUDA)")
    parser.add_argument("--epochs", type=int, default=16, help="run_small: epochs")
    parser.add_argument("--train-batches", type=int, default=5, help="run_small: training batches of 16 per epoch")
    parser.add_argument("--val-batches", type=int, default=2, help="run_small: validation batches of 16 per epoch")
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    global DEVICE
    DEVICE = torch.device(args.device)
    if DEVICE.type == "cuda" and not torch.cuda.is_available():
        sys.exit("torch_bench: --device cuda, but this PyTorch has no CUDA device")
    device_name = torch.cuda.get_device_name(DEVICE) if DEVICE.type == "cuda" else "cpu"
    if args.workload == "run_small":
        c0 = time.process_time()
        times = run_small(args.epochs, args.train_batches, args.val_batches)
        print(json.dumps({
            "workload": "run_small",
            "ms": statistics.median(times),
            "epoch_ms": statistics.median(times),
            "min_ms": min(times),
            "epochs": args.epochs,
            "cpu_ms_total": (time.process_time() - c0) * 1000,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "torch": torch.__version__,
            "python": sys.version.split()[0],
            "threads": torch.get_num_threads(),
            "device": device_name,
        }))
        return
    step = WORKLOADS[args.workload]()
    if DEVICE.type == "cuda":
        inner = step

        def step():  # loss.item() synchronises already; this makes sure the optimizer's kernels finished too
            v = inner()
            torch.cuda.synchronize()
            return v

    times, cpu = measure(step, args.min_steps, args.min_seconds, args.max_seconds)
    print(json.dumps({
        "workload": args.workload,
        "ms": statistics.median(times),
        "mean_ms": statistics.fmean(times),
        "min_ms": min(times),
        "cpu_ms": statistics.median(cpu),
        "steps": len(times),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "threads": torch.get_num_threads(),
        "device": device_name,
    }))


if __name__ == "__main__":
    main()
