"""Original XANESNET model directories, pickled through PyTorch, for `hyperlab import-xanesnet`
(test/interop.test.ts). Written to test/fixtures/xanesnet_models/<dir>/ (model.pt, metadata.yaml),
plus the predictions the original computes for the embedded Fe test structures.

XANESNET saves a model directory with torch.save(model) (the whole pickled module) and a
metadata.yaml. The modules here are gen_zoo.py's renderings of the spec, pickled under the
original's class paths (`model.MLP` for the 2023 layout, src/ on sys.path;
`xanesnet.model.lstm.LSTM` for 2024), so loading them needs those classes, as loading a real
XANESNET model does. The predictions follow the original's predict_xanes: wACSF of each .xyz
(coordinates read as float32, gen_descriptors.py), then model(x.float()) in eval mode, all rows
in one batch (the lstm reads the batch as ONE sequence, as the original does).
"""
import os
import sys
import types

import numpy as np
import torch
import yaml

from common import T
from gen_descriptors import DATA, parse_xyz, wacsf
from gen_zoo import MLP, LSTMNet, perturb

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from read_torch_model import write_safetensors  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "xanesnet_models")
DESCRIPTOR = {"r_min": 1.0, "r_max": 6.0, "n_g2": 16, "n_g4": 32}


def as_original(cls, module, name):
    """A subclass of `cls` that pickles as the original's `module.name`."""
    parts = module.split(".")
    for i in range(1, len(parts) + 1):
        sys.modules.setdefault(".".join(parts[:i]), types.ModuleType(".".join(parts[:i])))
    sub = type(name, (cls,), {"__module__": module, "__qualname__": name})
    setattr(sys.modules[module], name, sub)
    return sub


def test_inputs():
    folder = os.path.join(DATA, "xyz_test")
    ids = sorted(f[:-4] for f in os.listdir(folder) if f.endswith(".xyz"))
    rows = []
    for id_ in ids:
        with open(os.path.join(folder, id_ + ".xyz")) as f:
            z, pos, info = parse_xyz(f.read(), float32=True)
        rows.append(wacsf(z, pos, info, **DESCRIPTOR))
    return ids, np.array(rows)


def save_dir(name, model, metadata):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    torch.save(model, os.path.join(d, "model.pt"))
    # The same state dict as safetensors, for the tests that run without PyTorch (import-xanesnet --weights).
    write_safetensors(os.path.join(OUT, f"{name}.safetensors"), model.state_dict())
    with open(os.path.join(d, "metadata.yaml"), "w") as f:
        yaml.dump_all([metadata], f)


def generate():
    ids, x = test_inputs()
    xt = torch.from_numpy(x).float()
    out = {"ids": ids, "models": []}

    # 2023 layout: src/model.py's MLP, metadata from core_data.py.
    torch.manual_seed(11)
    hp = {"model": "mlp", "batch_size": 4, "n_hl": 3, "hl_ini_dim": 32, "hl_shrink": 0.5, "activation": "prelu",
          "loss": {"loss_fn": "mse", "loss_args": None, "loss_reg_type": None, "loss_reg_param": None},
          "lr": 0.001, "optim_fn": "Adam", "dropout": 0.2, "weight_init_seed": 2023, "kernel_init": "xavier_uniform", "bias_init": "zeros"}
    Mlp2023 = as_original(MLP, "model", "MLP")
    mlp = Mlp2023(x.shape[1], 226, 32, 3, 0.5, 0.2, "prelu")
    perturb(mlp, 12)
    mlp.eval()
    save_dir("model_001", mlp, {"mode": "train_xyz", "model_mode": "mlp", "mdl_dir": "model/model_001",
                                "descriptor": {"descriptor_type": "wacsf", "descriptor_params": DESCRIPTOR},
                                "epoch": 7, "hyperparams": hp, "lr_scheduler": {"scheduler": False}})
    with torch.no_grad():
        out["models"].append({"dir": "model_001", "layout": "2023", "hyperparams": hp, "pred": T(mlp(xt))})

    # 2024 layout: xanesnet/model/lstm.py's LSTM (head `fc`), metadata from core_learn.py.
    torch.manual_seed(13)
    params = {"hidden_size": 6, "hidden_out_size": 10, "num_layers": 1, "dropout": 0.2, "activation": "tanh"}
    Lstm2024 = as_original(LSTMNet, "xanesnet.model.lstm", "LSTM")
    lstm = Lstm2024(x.shape[1], 226, 6, 10, 1, 0.2, "tanh")
    lstm.eval()
    save_dir("model_lstm_001", lstm, {"mode": "train_xyz", "model_type": "lstm", "descriptor_type": "wacsf", "descriptor_param": DESCRIPTOR,
                                      "hyperparams": {"batch_size": 4, "lr": 0.001, "epochs": 3, "optim_fn": "Adam", "kernel_init": "xavier_uniform",
                                                      "bias_init": "zeros", "model_eval": False, "seed": 2021, "weight_seed": 2023,
                                                      "loss": {"loss_fn": "mse", "loss_args": None, "loss_reg_type": None, "loss_lambda": None}},
                                      "lr_scheduler": None, "standardscaler": False, "fourier_transform": False, "fourier_param": None, "scheme": "std"})
    with torch.no_grad():
        # The original's forward: the 2-D batch is one unbatched sequence.
        out["models"].append({"dir": "model_lstm_001", "layout": "2024", "params": params, "pred": T(lstm(xt, original=True))})
    return out
