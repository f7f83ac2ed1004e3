"""Initializers: sample moments and bounds of torch.nn.init on large tensors, and layer defaults."""
import math

import torch
import torch.nn as nn


def stats(t):
    t = t.detach().double()
    return {"shape": list(t.shape), "mean": t.mean().item(), "std": t.std().item(),
            "min": t.min().item(), "max": t.max().item(), "n": t.numel()}


def generate():
    torch.manual_seed(0)
    shapes = {"linear": (256, 512), "conv1d": (64, 32, 3), "conv2d": (32, 16, 4, 4)}
    inits = {
        "uniform": nn.init.uniform_,
        "normal": nn.init.normal_,
        "xavier_uniform": nn.init.xavier_uniform_,
        "xavier_normal": nn.init.xavier_normal_,
        "kaiming_uniform": nn.init.kaiming_uniform_,
        "kaiming_normal": nn.init.kaiming_normal_,
        "zeros": nn.init.zeros_,
        "ones": nn.init.ones_,
    }
    out = {"inits": {}}
    for sname, shape in shapes.items():
        for iname, fn in inits.items():
            out["inits"][f"{iname}/{sname}"] = stats(fn(torch.empty(*shape)))
    # PyTorch layer defaults (weight and bias bounds come from fan_in).
    layers = {
        "Linear(64,128)": nn.Linear(64, 128),
        "Conv1d(8,16,3)": nn.Conv1d(8, 16, 3),
        "Conv2d(4,8,4)": nn.Conv2d(4, 8, 4),
        "ConvTranspose1d(16,8,3)": nn.ConvTranspose1d(16, 8, 3),
    }
    out["layer_defaults"] = {}
    for name, layer in layers.items():
        w = layer.weight
        fan_in = nn.init._calculate_fan_in_and_fan_out(w)[0]
        out["layer_defaults"][name] = {"weight": stats(w), "bias": stats(layer.bias), "bound": 1 / math.sqrt(fan_in)}
    return out
