"""Conv1d/Conv2d/ConvTranspose, BatchNorm1d/2d and LSTM: forward values, input and
parameter gradients of sum(y * dy) with a seeded dy, batch-norm running statistics,
LSTM states, state-dict keys, and a few SGD steps of a small CNN."""
import torch
import torch.nn as nn
from common import T, seeded_input, state_dict, sgd_steps


def grads_of(module):
    return {n: T(p.grad) for n, p in module.named_parameters()}


def layer_case(module, x, seed_dy=7):
    """y = module(x) and the gradients of sum(y * dy) w.r.t. x and every parameter."""
    x = x.clone().requires_grad_(True)
    y = module(x)
    dy = seeded_input(seed_dy, *y.shape)
    (y * dy).sum().backward()
    return {
        "keys": list(module.state_dict().keys()),
        "state": state_dict(module),
        "x": T(x),
        "y": T(y),
        "dy": T(dy),
        "dx": T(x.grad),
        "grads": grads_of(module),
    }


def conv_cases():
    torch.manual_seed(11)
    c = {}
    # Conv1d
    c["conv1d_s1_p0"] = ("Conv1d", [3, 4, 3], {}, layer_case(nn.Conv1d(3, 4, 3), seeded_input(1, 2, 3, 10)))
    c["conv1d_s2_p1"] = ("Conv1d", [3, 4, 3], {"stride": 2, "padding": 1},
                         layer_case(nn.Conv1d(3, 4, 3, stride=2, padding=1), seeded_input(2, 2, 3, 11)))
    c["conv1d_dil2"] = ("Conv1d", [3, 4, 3], {"dilation": 2, "padding": 2},
                        layer_case(nn.Conv1d(3, 4, 3, dilation=2, padding=2), seeded_input(3, 2, 3, 10)))
    # (12 - 5) / 2 is not whole: the last input column is used by no output
    c["conv1d_nobias_s2"] = ("Conv1d", [3, 4, 5], {"stride": 2, "bias": False},
                             layer_case(nn.Conv1d(3, 4, 5, stride=2, bias=False), seeded_input(4, 2, 3, 12)))
    c["conv1d_s2_dil2"] = ("Conv1d", [2, 3, 3], {"stride": 2, "dilation": 2, "padding": 1},
                           layer_case(nn.Conv1d(2, 3, 3, stride=2, dilation=2, padding=1), seeded_input(5, 2, 2, 13)))
    c["conv1d_same_k4"] = ("Conv1d", [3, 4, 4], {"padding": "same"},
                           layer_case(nn.Conv1d(3, 4, 4, padding="same"), seeded_input(6, 2, 3, 9)))
    c["conv1d_unbatched"] = ("Conv1d", [3, 4, 3], {"padding": 1},
                             layer_case(nn.Conv1d(3, 4, 3, padding=1), seeded_input(7, 3, 10)))
    # Conv2d: the project's CNNs use k4 s2 p1 and k4 s4 p0
    c["conv2d_k4s2p1"] = ("Conv2d", [3, 8, 4], {"stride": 2, "padding": 1},
                          layer_case(nn.Conv2d(3, 8, 4, stride=2, padding=1), seeded_input(8, 2, 3, 10, 10)))
    c["conv2d_k4s4p0"] = ("Conv2d", [3, 8, 4], {"stride": 4},
                          layer_case(nn.Conv2d(3, 8, 4, stride=4), seeded_input(9, 2, 3, 13, 13)))
    c["conv2d_rect"] = ("Conv2d", [2, 3, [3, 2]], {"stride": [2, 1], "padding": [1, 0]},
                        layer_case(nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=(1, 0)), seeded_input(10, 2, 2, 11, 9)))
    c["conv2d_dil"] = ("Conv2d", [2, 3, 3], {"dilation": [2, 1], "padding": [2, 1], "bias": False},
                       layer_case(nn.Conv2d(2, 3, 3, dilation=(2, 1), padding=(2, 1), bias=False), seeded_input(11, 2, 2, 8, 7)))
    # ConvTranspose
    c["convT1d_s1"] = ("ConvTranspose1d", [3, 4, 3], {}, layer_case(nn.ConvTranspose1d(3, 4, 3), seeded_input(12, 2, 3, 7)))
    c["convT1d_s2_p1_op1"] = ("ConvTranspose1d", [3, 4, 4], {"stride": 2, "padding": 1, "outputPadding": 1},
                              layer_case(nn.ConvTranspose1d(3, 4, 4, stride=2, padding=1, output_padding=1), seeded_input(13, 2, 3, 6)))
    c["convT1d_s3_op2_nobias"] = ("ConvTranspose1d", [3, 2, 3], {"stride": 3, "outputPadding": 2, "bias": False},
                                  layer_case(nn.ConvTranspose1d(3, 2, 3, stride=3, output_padding=2, bias=False), seeded_input(14, 2, 3, 5)))
    c["convT1d_s2_p2_dil2"] = ("ConvTranspose1d", [2, 3, 3], {"stride": 2, "padding": 2, "dilation": 2, "outputPadding": 1},
                               layer_case(nn.ConvTranspose1d(2, 3, 3, stride=2, padding=2, dilation=2, output_padding=1), seeded_input(15, 2, 2, 6)))
    c["convT2d_k4s2p1"] = ("ConvTranspose2d", [4, 3, 4], {"stride": 2, "padding": 1},
                           layer_case(nn.ConvTranspose2d(4, 3, 4, stride=2, padding=1), seeded_input(16, 2, 4, 5, 5)))
    return {k: {"layer": layer, "args": args, "opts": opts, **case} for k, (layer, args, opts, case) in c.items()}


def bn_case(module, shape, seed):
    """Train step 1 (forward + grads), train step 2 (forward only), then an eval forward."""
    if module.affine:
        with torch.no_grad():
            module.weight.copy_(1 + 0.5 * seeded_input(seed + 100, module.num_features))
            module.bias.copy_(0.5 * seeded_input(seed + 101, module.num_features))
    out = {"keys": list(module.state_dict().keys()), "state": state_dict(module)}
    x1 = (seeded_input(seed, *shape) * 2 + 0.5).requires_grad_(True)
    x2 = seeded_input(seed + 1, *shape) * 3 - 1
    x3 = seeded_input(seed + 2, *shape)
    module.train()
    y1 = module(x1)
    dy = seeded_input(seed + 3, *y1.shape)
    (y1 * dy).sum().backward()
    out.update({"x1": T(x1), "x2": T(x2), "x3": T(x3), "y1": T(y1), "dy": T(dy), "dx": T(x1.grad), "grads": grads_of(module)})
    out["state_after_1"] = state_dict(module)
    with torch.no_grad():
        out["y2"] = T(module(x2))
    out["state_after_2"] = state_dict(module)
    module.eval()
    with torch.no_grad():
        out["y_eval"] = T(module(x3))
    return out


def bn_cases():
    return {
        "bn1d_2d": {"layer": "BatchNorm1d", "num_features": 5, "opts": {}, **bn_case(nn.BatchNorm1d(5), (8, 5), 20)},
        "bn1d_3d": {"layer": "BatchNorm1d", "num_features": 4, "opts": {}, **bn_case(nn.BatchNorm1d(4), (3, 4, 7), 30)},
        "bn2d": {"layer": "BatchNorm2d", "num_features": 3, "opts": {}, **bn_case(nn.BatchNorm2d(3), (4, 3, 5, 6), 40)},
        "bn2d_cumulative_noaffine": {
            "layer": "BatchNorm2d", "num_features": 3, "opts": {"momentum": None, "affine": False},
            **bn_case(nn.BatchNorm2d(3, momentum=None, affine=False), (2, 3, 4, 4), 50)},
        "bn1d_no_running_stats": {
            "layer": "BatchNorm1d", "num_features": 4, "opts": {"trackRunningStats": False, "eps": 1e-3},
            **bn_case(nn.BatchNorm1d(4, track_running_stats=False, eps=1e-3), (6, 4), 60)},
    }


def lstm_case(module, x, with_state, seed):
    """output, (h_n, c_n) = lstm(x, state); gradients of sum(out*dy) + sum(h_n*dh) + sum(c_n*dc)."""
    D = 2 if module.bidirectional else 1
    unbatched = x.dim() == 2
    n = None if unbatched else x.shape[0 if module.batch_first else 1]
    sshape = (D * module.num_layers, module.hidden_size) if unbatched else (D * module.num_layers, n, module.hidden_size)
    x = x.clone().requires_grad_(True)
    out = {"keys": list(module.state_dict().keys()), "state": state_dict(module), "x": T(x)}
    if with_state:
        h0 = seeded_input(seed + 1, *sshape).requires_grad_(True)
        c0 = seeded_input(seed + 2, *sshape).requires_grad_(True)
        y, (h, c) = module(x, (h0, c0))
        out.update({"h0": T(h0), "c0": T(c0)})
    else:
        y, (h, c) = module(x)
    dy, dh, dc = seeded_input(seed + 3, *y.shape), seeded_input(seed + 4, *h.shape), seeded_input(seed + 5, *c.shape)
    ((y * dy).sum() + (h * dh).sum() + (c * dc).sum()).backward()
    out.update({"y": T(y), "h": T(h), "c": T(c), "dy": T(dy), "dh": T(dh), "dc": T(dc), "dx": T(x.grad),
                "grads": grads_of(module)})
    if with_state:
        out.update({"dh0": T(h0.grad), "dc0": T(c0.grad)})
    return out


def lstm_cases():
    torch.manual_seed(70)
    cases = {
        "lstm_1layer": (4, 5, {}, (6, 3, 4), False),
        "lstm_2layer_bi_state": (4, 5, {"num_layers": 2, "bidirectional": True}, (6, 3, 4), True),
        "lstm_batch_first_state": (4, 5, {"batch_first": True}, (3, 6, 4), True),
        "lstm_unbatched_2layer_state": (4, 5, {"num_layers": 2}, (7, 4), True),
        # XANESNET feeds (B, n_in): PyTorch reads it as ONE sequence of length B
        "lstm_unbatched_bi": (6, 5, {"num_layers": 2, "bidirectional": True}, (8, 6), False),
        "lstm_nobias": (3, 4, {"bias": False}, (5, 2, 3), False),
    }
    out = {}
    for i, (name, (hin, h, kw, shape, with_state)) in enumerate(cases.items()):
        m = nn.LSTM(hin, h, **kw)
        opts = {{"num_layers": "numLayers", "batch_first": "batchFirst"}.get(k, k): v for k, v in kw.items()}
        out[name] = {"args": [hin, h], "opts": opts, **lstm_case(m, seeded_input(80 + i, *shape), with_state, 90 + 10 * i)}
    return out


def cnn_training():
    """Three SGD steps (lr 0.05) of conv(k4 s2 p1) -> BN -> ReLU -> conv(k4 s4) -> flatten -> linear, MSE."""
    torch.manual_seed(5)
    net = nn.Sequential(nn.Conv2d(2, 4, 4, stride=2, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                        nn.Conv2d(4, 6, 4, stride=4), nn.Flatten(), nn.Linear(6 * 2 * 2, 3))
    x, y = seeded_input(200, 4, 2, 16, 16), seeded_input(201, 4, 3)
    out = {"state": state_dict(net), "keys": list(net.state_dict().keys()), "x": T(x), "y": T(y)}
    out["losses"] = sgd_steps(net, x, y, 0.05, 3)
    out["final"] = state_dict(net)
    return out


def generate():
    return {"conv": conv_cases(), "batchnorm": bn_cases(), "lstm": lstm_cases(), "cnn_train": cnn_training()}
