"""RACCOON / PENGUIN (P2 architectures.py, shared/specs/models-from-seeds.md) in PyTorch, and the
seed's cube slicing and 8 transforms, for test/raccoon.test.ts.

Writes
  test/fixtures/raccoon.json                 parameter counts, state-dict keys and shapes, eval-mode
                                             logits on a fixed input, and (dropout 0) train-mode logits,
                                             loss and running statistics, per model case; the slicing of
                                             a small cube batch and the 8 transforms of its images
  test/fixtures/raccoon_models.safetensors   per case: the state dict ('<case>/<name>', batch-norm running
                                             statistics set away from their defaults; float16 values),
                                             the input ('<case>/__x', float16) and, for the L 4 cases, the parameter
                                             gradients of the train-mode loss ('<case>/__grad/<name>')

The classes below follow the seed's module names (conv2d1.0 = Conv2d, conv2d1.1 = BatchNorm2d,
fc1.1 = Linear, output.0 = Linear, ...) so state dicts move between them and hyperlab. One
activation instance (LeakyReLU(0.2), as run_controller passes) is shared by every layer; convs have
no bias, Linear layers do (the spec's parameter counts 704L^2+44L+1 and 4202L^2+112L+1 include them).
The input side S may be smaller than the seed's 256: the first Linear takes what the convolutions
leave (S = 64 leaves 1 x 1, S = 128 leaves 2 x 2).
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import FIXTURES, T, seeded_input  # noqa: E402
from gen_files import save_file  # noqa: E402


def conv_block(cin, cout, k, s, p, act):
    return nn.Sequential(nn.Conv2d(cin, cout, kernel_size=k, stride=s, padding=p, bias=False), nn.BatchNorm2d(cout), act)


class RACOON(nn.Module):
    def __init__(self, S=256, L=64, activation=None, dropout=0.5):
        super().__init__()
        self.activation = activation or nn.ReLU()
        self.output_activation = nn.Identity()
        a = self.activation
        self.conv2d1 = conv_block(1, L, 4, 4, 0, a)
        self.conv2d2 = conv_block(L, 4 * L, 4, 4, 0, a)
        self.conv2d3 = conv_block(4 * L, 8 * L, 4, 4, 0, a)
        f = S
        for _ in range(3):
            f = (f - 4) // 4 + 1
        self.fc1 = nn.Sequential(nn.Flatten(), nn.Linear(8 * L * f * f, L), a, nn.Dropout(dropout))
        self.output = nn.Sequential(nn.Linear(L, 1), self.output_activation)

    def forward(self, x):
        for layer in [self.conv2d1, self.conv2d2, self.conv2d3, self.fc1, self.output]:
            x = layer(x)
        return x


class PENGUIN(nn.Module):
    def __init__(self, S=256, L=64, activation=None, dropout=0.5):
        super().__init__()
        self.activation = activation or nn.ReLU()
        self.output_activation = nn.Identity()
        a = self.activation
        widths = [1, 2, 4, 6, 8, 10]
        for i, w in enumerate(widths):
            cin = 1 if i == 0 else widths[i - 1] * L
            setattr(self, f"conv2d{i + 1}", conv_block(cin, w * L, 4, 2, 1, a))
        f = S
        for _ in range(6):
            f = (f + 2 - 4) // 2 + 1
        self.fc1 = nn.Sequential(nn.Flatten(), nn.Linear(10 * L * f * f, 10 * L), nn.BatchNorm1d(10 * L), a, nn.Dropout(dropout))
        self.fc2 = nn.Sequential(nn.Linear(10 * L, L), nn.BatchNorm1d(L), a, nn.Dropout(dropout))
        self.output = nn.Sequential(nn.Linear(L, 1), self.output_activation)

    def forward(self, x):
        for i in range(1, 7):
            x = getattr(self, f"conv2d{i}")(x)
        for layer in [self.fc1, self.fc2, self.output]:
            x = layer(x)
        return x


ARCH = {"raccoon": RACOON, "penguin": PENGUIN}


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def perturb_running_stats(model, g):
    """Running statistics away from 0/1, so eval mode really uses them."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
            m.num_batches_tracked.fill_(3)


def model_case(arch, L, S, seed, tensors, with_grads):
    """Inputs, weights and gradients go to the safetensors file (keys '<name>/...'), the rest to JSON."""
    name = f"{arch}_L{L}_S{S}"
    torch.manual_seed(seed)
    model = ARCH[arch](S=S, L=L, activation=nn.LeakyReLU(0.2), dropout=0.5)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        perturb_running_stats(model, g)
        # Weights and input rounded to float16 values (computed in float32 on both sides), so the
        # file can store them as F16 at half the size without changing any number.
        for v in model.state_dict().values():
            if v.is_floating_point():
                v.copy_(v.half().float())
    for k, v in model.state_dict().items():
        tensors[f"{name}/{k}"] = v.half() if v.is_floating_point() else v.clone()
    B = 3 if S <= 64 else 2
    x = seeded_input(seed + 2, B, 1, S, S).half().float()
    tensors[f"{name}/__x"] = x.half()
    model.eval()
    with torch.no_grad():
        y_eval = model(x)
    # Train mode with dropout 0: batch statistics, and the gradients of the mean BCE-with-logits loss.
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.p = 0.0
    model.train()
    target = torch.tensor([[1.0], [0.0], [1.0]])[:B]
    y_train = model(x)
    loss = nn.BCEWithLogitsLoss()(y_train, target)
    loss.backward()
    if with_grads:
        for n, p in model.named_parameters():
            tensors[f"{name}/__grad/{n}"] = p.grad.clone()
    return name, {
        "arch": arch,
        "L": L,
        "S": S,
        "params": n_params(model),
        "keys": list(model.state_dict().keys()),
        "shapes": {k: list(v.shape) for k, v in model.state_dict().items()},
        "y_eval": T(y_eval),
        "target": T(target),
        "y_train": T(y_train),
        "loss": float(loss),
        "with_grads": with_grads,
        # running statistics after the one train-mode pass (momentum 0.1)
        "running_after": {k: T(v) for k, v in model.state_dict().items() if "running" in k},
    }


def seed_slice_and_rearrange(cubes, labels):
    """The seed's slice_and_rearrange_cube (train_utils.py, 30eaeed), with S for its hard-coded 256."""
    N, D, H, W = cubes.shape
    slices, targets = [], []
    for i in range(N):
        slice_d = cubes[i, :, :, :].unsqueeze(0).permute(0, 2, 3, 1).reshape(-1, 1, H, W)
        slice_h = cubes[i, :, :, :].unsqueeze(0).permute(0, 1, 3, 2).reshape(-1, 1, D, W)
        slice_w = cubes[i, :, :, :].unsqueeze(0).reshape(-1, 1, D, H)
        slices += [slice_d, slice_h, slice_w]
        target = torch.ones(D, 1) * labels[i]
        targets += [target, target, target]
    return torch.cat(slices, dim=0), torch.cat(targets, dim=0)


def slicing_case():
    N, S = 2, 4
    cubes = torch.arange(N * S ** 3, dtype=torch.float32).reshape(N, S, S, S)
    labels = torch.tensor([[1.0], [0.0]])
    seed_images, seed_targets = seed_slice_and_rearrange(cubes, labels)
    c = cubes.numpy()
    # The same with numpy transposes: cube[:, k, :]^T, cube[k, :, :]^T, cube[k, :, :].
    numpy_seed = np.concatenate([
        np.stack([c[n][:, k, :].T for k in range(S)] + [c[n][k, :, :].T for k in range(S)] + [c[n][k, :, :] for k in range(S)])
        for n in range(N)
    ])[:, None]
    assert np.array_equal(numpy_seed, seed_images.numpy()), "numpy transposes disagree with the seed's permute/reshape"
    numpy_axes = np.concatenate([
        np.stack([c[n][k, :, :] for k in range(S)] + [c[n][:, k, :] for k in range(S)] + [c[n][:, :, k] for k in range(S)])
        for n in range(N)
    ])[:, None]
    # The 8 transforms, as numpy: rot90 is np.rot90 (counter-clockwise, torchvision's rotate by +90);
    # hflip mirrors the last axis; hflip+rotK = rotK(hflip(x)) (torchvision Compose([flipH, rotateK])).
    imgs = seed_images.numpy()
    rot = lambda x, k: np.rot90(x, k, axes=(2, 3))  # noqa: E731
    flip = lambda x: x[..., ::-1]  # noqa: E731
    transforms = {
        "identity": imgs, "rot90": rot(imgs, 1), "rot180": rot(imgs, 2), "rot270": rot(imgs, 3), "hflip": flip(imgs),
        "hflip+rot90": rot(flip(imgs), 1), "hflip+rot180": rot(flip(imgs), 2), "hflip+rot270": rot(flip(imgs), 3),
    }
    # torch.rot90 agrees with np.rot90. torchvision (not in Debian) rotates counter-clockwise, and on square
    # images its rotate(x, 90) equals torch.rot90(x, 1, dims=(H, W)) exactly (pytorch/vision issue #8281
    # checks it with torch.testing.assert_close on 1024 x 1024), so RandomRotation((90, 90)) is np.rot90.
    assert np.array_equal(torch.rot90(seed_images, 1, dims=[2, 3]).numpy(), transforms["rot90"])
    return {
        "N": N,
        "S": S,
        "cubes": T(cubes),
        "labels": T(labels),
        "seed_images": T(seed_images),
        "seed_targets": T(seed_targets),
        "axes_images": T(torch.from_numpy(np.ascontiguousarray(numpy_axes))),
        "transforms": {k: T(torch.from_numpy(np.ascontiguousarray(v))) for k, v in transforms.items()},
    }


def generate():
    tensors = {}
    models = {}
    # (PENGUIN at L 8 would add 170k weights to the file; L 2 at S 128 checks the 2 x 2 flatten instead.)
    cases = [("raccoon", 4, 64, True), ("raccoon", 8, 128, False), ("penguin", 4, 64, True), ("penguin", 2, 128, False)]
    for i, (arch, L, S, with_grads) in enumerate(cases):
        name, case = model_case(arch, L, S, 100 + 10 * i, tensors, with_grads)
        models[name] = case
    save_file(tensors, os.path.join(FIXTURES, "raccoon_models.safetensors"), {"generator": "test/parity/gen_raccoon.py"})
    counts = {arch: {str(L): n_params(ARCH[arch](S=256, L=L)) for L in [1, 2, 4, 16]} for arch in ARCH}
    return {"models": models, "counts_at_256": counts, "slicing": slicing_case()}
