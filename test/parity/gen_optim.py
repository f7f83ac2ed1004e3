"""Optimizers: 10-step parameter trajectories of a tiny model under torch.optim.

The model is Linear(4,3) -> tanh -> Linear(3,2) (as nn.Sequential, so the keys are
0.weight, 0.bias, 2.weight, 2.bias) trained on the MSE of fixed inputs/targets.
Every case starts from the same initial state dict ("init") and records, for each
of 10 steps: the loss before the step and the parameters after it. It also keeps
PyTorch's own optimizer state dict after 5 steps ("state_5"), so the TypeScript
side can load it and check that it continues exactly like PyTorch did.
"""
import copy

import torch
import torch.nn as nn
from common import T, seeded_input, state_dict

STEPS = 10

# name -> (optimizer class, torch keyword arguments)
SINGLE_GROUP_CASES = {
    "sgd_plain": ("SGD", {"lr": 0.1}),
    "sgd_momentum": ("SGD", {"lr": 0.1, "momentum": 0.9}),
    "sgd_dampening": ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.5}),
    "sgd_nesterov": ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    "sgd_weight_decay": ("SGD", {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.1}),
    "sgd_maximize": ("SGD", {"lr": 0.05, "momentum": 0.5, "maximize": True}),
    "adam_default": ("Adam", {}),
    "adam_lr": ("Adam", {"lr": 0.05}),
    "adam_weight_decay": ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    "adam_amsgrad": ("Adam", {"lr": 0.01, "amsgrad": True}),
    "adam_betas_eps": ("Adam", {"lr": 0.01, "betas": (0.5, 0.9), "eps": 1e-6}),
    "adamw_default": ("AdamW", {}),
    "adamw": ("AdamW", {"lr": 0.01, "weight_decay": 0.1}),
    "adamw_amsgrad": ("AdamW", {"lr": 0.01, "amsgrad": True}),
    "rmsprop_default": ("RMSprop", {}),
    "rmsprop_momentum": ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    "rmsprop_centered": ("RMSprop", {"lr": 0.01, "centered": True}),
    "rmsprop_weight_decay": ("RMSprop", {"lr": 0.01, "weight_decay": 0.1}),
    "rmsprop_all": ("RMSprop", {"lr": 0.005, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.05, "momentum": 0.5, "centered": True}),
}

# Cases with two parameter groups: (class, defaults, [(parameter names, overrides), ...]).
GROUP_CASES = {
    "sgd_two_groups": ("SGD", {"lr": 0.05, "momentum": 0.9},
                       [(["0.weight", "0.bias"], {"lr": 0.1}), (["2.weight", "2.bias"], {"lr": 0.01, "momentum": 0.5})]),
    "adam_two_groups": ("Adam", {"lr": 0.01},
                        [(["0.weight", "0.bias"], {}), (["2.weight", "2.bias"], {"lr": 0.001, "weight_decay": 0.1})]),
}

# Cases with a frozen parameter (requires_grad False): (class, kwargs, frozen names).
# Weight decay and momentum would move a parameter that is not skipped.
FROZEN_CASES = {
    "sgd_frozen": ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1}, ["0.bias"]),
    "adam_frozen": ("Adam", {"lr": 0.01, "weight_decay": 0.1}, ["0.weight", "2.bias"]),
    "adamw_frozen": ("AdamW", {"lr": 0.01, "weight_decay": 0.1}, ["2.weight"]),
    "rmsprop_frozen": ("RMSprop", {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.1}, ["0.bias"]),
}


def make_model():
    torch.manual_seed(11)
    return nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))


def packed(obj):
    """A torch optimizer state dict as JSON: tensors as {shape, data}, tuples as lists."""
    if isinstance(obj, torch.Tensor):
        return T(obj)
    if isinstance(obj, dict):
        return {str(k): packed(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [packed(v) for v in obj]
    return obj


def run(init, x, y, build, frozen=()):
    model = make_model()
    model.load_state_dict(init)
    named = dict(model.named_parameters())
    for n in frozen:
        named[n].requires_grad_(False)
    opt = build(named)
    losses, params, state_5 = [], [], None
    for step in range(STEPS):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        params.append(state_dict(model))
        if step == 4:
            state_5 = packed(copy.deepcopy(opt.state_dict()))
    return {"losses": losses, "params": params, "state_5": state_5}


def generate():
    init_model = make_model()
    init = copy.deepcopy(init_model.state_dict())
    x = seeded_input(21, 8, 4)
    y = seeded_input(22, 8, 2)
    out = {"init": state_dict(init_model), "x": T(x), "y": T(y), "steps": STEPS, "cases": {}}
    cases = out["cases"]
    for name, (cls, kwargs) in SINGLE_GROUP_CASES.items():
        build = lambda named, cls=cls, kwargs=kwargs: getattr(torch.optim, cls)(list(named.values()), **kwargs)
        cases[name] = {"optimizer": cls, "options": packed(kwargs), **run(init, x, y, build)}
    for name, (cls, kwargs, groups) in GROUP_CASES.items():
        def build(named, cls=cls, kwargs=kwargs, groups=groups):
            spec = [{"params": [named[n] for n in names], **over} for names, over in groups]
            return getattr(torch.optim, cls)(spec, **kwargs)
        cases[name] = {
            "optimizer": cls,
            "options": packed(kwargs),
            "groups": [{"names": names, "options": packed(over)} for names, over in groups],
            **run(init, x, y, build),
        }
    for name, (cls, kwargs, frozen) in FROZEN_CASES.items():
        build = lambda named, cls=cls, kwargs=kwargs: getattr(torch.optim, cls)(list(named.values()), **kwargs)
        cases[name] = {"optimizer": cls, "options": packed(kwargs), "frozen": frozen, **run(init, x, y, build, frozen)}
    return out
