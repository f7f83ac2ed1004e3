"""Learning-rate schedules: the lr at each of 100 steps.

PyTorch's schedulers are run for real: the lr the optimizer holds at step t (after t
calls of scheduler.step()) is recorded, t = 0..99. EpyNN's and fastai's schedules
are computed here from the formulas in shared/specs/teaching-anchors.md (EpyNN
section 4: commons/schedule.py; fastai section 2: callback/schedule.py), in float64.
"""
import math

import torch
from torch.optim import lr_scheduler as S

STEPS = 100

# name -> (base lr, scheduler class, torch keyword arguments)
TORCH_CASES = {
    "step": (0.1, "StepLR", {"step_size": 10, "gamma": 0.5}),
    "step_default_gamma": (0.05, "StepLR", {"step_size": 30}),
    "multistep": (0.1, "MultiStepLR", {"milestones": [20, 50, 80], "gamma": 0.3}),
    "multistep_repeated": (0.1, "MultiStepLR", {"milestones": [60, 30, 30]}),
    "exponential": (0.1, "ExponentialLR", {"gamma": 0.95}),
    "linear_default": (0.1, "LinearLR", {}),
    "linear": (0.1, "LinearLR", {"start_factor": 1.0, "end_factor": 0.1, "total_iters": 40}),
    "constant_default": (0.1, "ConstantLR", {}),
    "constant": (0.1, "ConstantLR", {"factor": 0.5, "total_iters": 10}),
    "cosine": (0.1, "CosineAnnealingLR", {"T_max": 100}),
    "cosine_restart_region": (0.1, "CosineAnnealingLR", {"T_max": 30, "eta_min": 0.001}),
    "onecycle": (0.1, "OneCycleLR", {"max_lr": 0.1, "total_steps": 100}),
    "onecycle_linear": (0.1, "OneCycleLR", {"max_lr": 0.02, "total_steps": 100, "anneal_strategy": "linear"}),
    "onecycle_three_phase": (0.1, "OneCycleLR", {"max_lr": 0.1, "total_steps": 100, "three_phase": True}),
    "onecycle_options": (0.1, "OneCycleLR", {"max_lr": 0.01, "epochs": 4, "steps_per_epoch": 25, "pct_start": 0.25,
                                             "div_factor": 10.0, "final_div_factor": 100.0}),
}


def torch_schedule(base_lr, cls, kwargs):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base_lr, momentum=0.9)
    sched = getattr(S, cls)(opt, **kwargs)
    lrs, momenta = [], []
    for _ in range(STEPS):
        lrs.append(opt.param_groups[0]["lr"])
        momenta.append(opt.param_groups[0]["momentum"])
        opt.step()
        sched.step()
    out = {"base_lr": base_lr, "scheduler": cls, "kwargs": kwargs, "lr": lrs}
    if cls == "OneCycleLR":
        out["momentum"] = momenta
    return out


# ---- EpyNN (teaching-anchors.md section 4), per epoch x in [0, epochs) ---------------
def epynn(schedule, lr, epochs, decay_k=0, cycle_epochs=0, cycle_descent=0):
    epc = cycle_epochs or epochs
    k = decay_k if decay_k != 0 else 5 / epc
    d = cycle_descent
    if schedule == "exp_decay":
        return [lr * (1 - d) ** (x // epc) * math.exp(-k * (x % epc)) for x in range(epochs)]
    if schedule == "lin_decay":
        return [lr / (1 + 100 * k * x) for x in range(epochs)]
    if schedule == "steady":
        return [lr for _ in range(epochs)]
    raise ValueError(schedule)


EPYNN_CASES = {
    "steady": {"schedule": "steady", "lr": 0.1, "epochs": 100},
    "exp_decay_default": {"schedule": "exp_decay", "lr": 0.1, "epochs": 100},
    "exp_decay_cycles": {"schedule": "exp_decay", "lr": 0.1, "epochs": 100, "cycle_epochs": 25, "cycle_descent": 0.2},
    "exp_decay_k": {"schedule": "exp_decay", "lr": 0.05, "epochs": 100, "decay_k": 0.05, "cycle_epochs": 30,
                    "cycle_descent": 0.5},
    "lin_decay_default": {"schedule": "lin_decay", "lr": 0.1, "epochs": 100},
    "lin_decay_k": {"schedule": "lin_decay", "lr": 0.1, "epochs": 100, "decay_k": 0.01},
    "lin_decay_cycle_epochs": {"schedule": "lin_decay", "lr": 0.1, "epochs": 100, "cycle_epochs": 20},
}


# ---- fastai (teaching-anchors.md section 2) -------------------------------------------
def sched_cos(start, end, pos):
    return start + (1 + math.cos(math.pi * (1 - pos))) * (end - start) / 2


def combined_cos(pct, start, middle, end):
    """fastai's combine_scheds([pct, 1-pct], [SchedCos(start, middle), SchedCos(middle, end)])."""
    def f(pos):
        if pos < pct:
            return sched_cos(start, middle, pos / pct)
        return sched_cos(middle, end, (pos - pct) / (1 - pct))
    return f


def fit_one_cycle(lr_max, total_steps, pct_start=0.25, div=25.0, div_final=1e5, moms=(0.95, 0.85, 0.95)):
    """lr and momentum at every batch; fastai's position is train_iter / total_iters."""
    lr = combined_cos(pct_start, lr_max / div, lr_max, lr_max / div_final)
    mom = combined_cos(pct_start, *moms)
    return {"lr": [lr(t / total_steps) for t in range(total_steps)],
            "momentum": [mom(t / total_steps) for t in range(total_steps)]}


def lr_range(lr, n_groups):
    """fastai's Learner.lr_range for slice(stop) and slice(start, stop)."""
    start, stop = lr
    if start:
        if n_groups == 1:
            return [stop]
        step = (stop / start) ** (1 / (n_groups - 1))
        return [start * step ** i for i in range(n_groups)]
    return [stop / 10] * (n_groups - 1) + [stop]


def fine_tune(epochs, steps_per_epoch, n_groups, base_lr=2e-3, freeze_epochs=1, lr_mult=100, pct_start=0.3, div=5.0):
    frozen_max = lr_range((None, base_lr), n_groups)
    frozen = [fit_one_cycle(m, freeze_epochs * steps_per_epoch, pct_start=0.99)["lr"] for m in frozen_max]
    base_lr /= 2
    unfrozen_max = lr_range((base_lr / lr_mult, base_lr), n_groups)
    unfrozen = [fit_one_cycle(m, epochs * steps_per_epoch, pct_start=pct_start, div=div)["lr"] for m in unfrozen_max]
    return {"frozen_lr_max": frozen_max, "frozen": frozen, "unfrozen_lr_max": unfrozen_max, "unfrozen": unfrozen}


def generate():
    out = {"steps": STEPS}
    out["torch"] = {name: torch_schedule(*case) for name, case in TORCH_CASES.items()}
    out["epynn"] = {name: {**c, "lr_values": epynn(**c)} for name, c in EPYNN_CASES.items()}
    out["fastai"] = {
        "one_cycle_default": {"lr_max": 0.01, "total_steps": 100, **fit_one_cycle(0.01, 100)},
        "one_cycle_options": {"lr_max": 0.003, "total_steps": 100, "pct_start": 0.3, "div": 5.0, "div_final": 1e4,
                              **fit_one_cycle(0.003, 100, pct_start=0.3, div=5.0, div_final=1e4)},
        "fine_tune_3_groups": {"epochs": 4, "steps_per_epoch": 25, "n_groups": 3, **fine_tune(4, 25, 3)},
        "fine_tune_1_group": {"epochs": 2, "steps_per_epoch": 10, "n_groups": 1, **fine_tune(2, 10, 1)},
    }
    return out
