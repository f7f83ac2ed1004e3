"""XANESNET's six model modes in PyTorch, as shared/specs/models-from-seeds.md describes them
(v2023-08 maths, v2024-03 module names), for test/zoo.test.ts.

Each model below is a faithful rendering of the spec with the SAME module and parameter names
as lib/models/xanesnet/*.ts, so a state dict loads both ways. For every case the fixture holds:
  - the hyperparameters as a run file of that style writes them (2023 or 2024 names),
  - the parameter count and the state-dict keys with their shapes (in order),
  - the weights: either the real PyTorch state dict (small cases, default init with batch-norm
    statistics and PReLU slopes moved off their defaults), or "formula" for the spec-sized
    cases, whose weights both sides compute from formula_value() (that keeps the fixture
    small: the spec's aegan_mlp alone has 1.3M parameters),
  - a fixed input and the eval-mode forward outputs (lstm: intended and original).
Plus train-mode checks: cnn with batch statistics, two Adam steps of the autoencoder task and
two aegan_mlp steps (gen_update, dis_update, logging pass) with both discriminator losses.
"""
import math

import numpy as np
import torch
import torch.nn as nn

from common import T, seeded_input

ACTS = {
    "prelu": nn.PReLU,
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "elu": nn.ELU,
    "leakyrelu": nn.LeakyReLU,
    "selu": nn.SELU,
}


def act(name):
    """A fresh activation module per use (XANESNET 2023/2024 call act_fn() each time)."""
    return ACTS[name]()


def sz(H, s, i):
    return int(H * s**i)


# ---- the models -------------------------------------------------------------------------


class MLP(nn.Module):
    def __init__(self, n_in, n_out, hidden_size, num_hidden_layers, shrink_rate, dropout, activation):
        super().__init__()
        H, N, s = hidden_size, num_hidden_layers, shrink_rate
        layers = []
        for i in range(N - 1):
            layers.append(nn.Sequential(nn.Linear(n_in if i == 0 else sz(H, s, i - 1), sz(H, s, i)), nn.Dropout(dropout), act(activation)))
        # The output Linear in a Sequential of its own, as XANESNET's (keys dense_layers.<N-1>.0.*).
        # n_hl 1: the documented single dense layer Linear(n_in, n_out) (XANESNET's code reads int(H / s) inputs and fails).
        layers.append(nn.Sequential(nn.Linear(sz(H, s, N - 2) if N >= 2 else n_in, n_out)))
        self.dense_layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.dense_layers(x)


class CNN(nn.Module):
    def __init__(self, n_in, n_out, hidden_size, num_conv_layers, out_channel, channel_mul, kernel_size, stride, dropout, activation):
        super().__init__()
        conv, c_in, c_out, L = [], 1, out_channel, n_in
        for _ in range(num_conv_layers):
            conv.append(nn.Sequential(nn.Conv1d(c_in, c_out, kernel_size, stride), nn.BatchNorm1d(c_out), act(activation), nn.Dropout(p=dropout)))
            c_in, c_out = c_out, c_out * channel_mul
            L = int(((L - kernel_size) / stride) + 1)
        self.conv_layers = nn.Sequential(*conv)
        self.dense_layers = nn.Sequential(nn.Sequential(nn.Linear(c_in * L, hidden_size), act(activation)), nn.Sequential(nn.Linear(hidden_size, n_out)))

    def forward(self, x):
        x = x.unsqueeze(0).permute(1, 0, 2)
        x = self.conv_layers(x)
        return self.dense_layers(x.view(x.size(0), -1))


class LSTMNet(nn.Module):
    def __init__(self, n_in, n_out, hidden_size, hidden_out_size, num_layers, dropout, activation):
        super().__init__()
        self.lstm = nn.LSTM(input_size=n_in, hidden_size=hidden_size, num_layers=num_layers, bidirectional=True)
        self.fc = nn.Sequential(nn.Linear(2 * hidden_size, hidden_out_size), act(activation), nn.Dropout(p=dropout), nn.Linear(hidden_out_size, n_out))

    def forward(self, x, original=False):
        if original:
            out, _ = self.lstm(x)  # XANESNET: a 2-D (B, n_in) is ONE unbatched sequence of length B
        else:
            out, _ = self.lstm(x.unsqueeze(0))  # intended: B sequences of length 1
            out = out.squeeze(0)
        return self.fc(out)


class AE_MLP(nn.Module):
    def __init__(self, n_in, n_out, hidden_size, num_hidden_layers, shrink_rate, dropout, activation):
        super().__init__()
        H, N, s = hidden_size, num_hidden_layers, shrink_rate
        enc, dec = [], []
        for i in range(N):
            wider = n_in if i == 0 else sz(H, s, i - 1)
            enc.append(nn.Sequential(nn.Linear(wider, sz(H, s, i)), act(activation)))
            dec.insert(0, nn.Sequential(nn.Linear(sz(H, s, i), wider), act(activation)))
        self.encoder_layers = nn.Sequential(*enc)
        self.decoder_layers = nn.Sequential(*dec)
        self.dense_layers = nn.Sequential(
            nn.Sequential(nn.Linear(sz(H, s, N - 1), H), act(activation), nn.Dropout(dropout)),
            nn.Sequential(nn.Linear(H, n_out)),
        )

    def forward(self, x):
        z = self.encoder_layers(x)
        return self.decoder_layers(z), self.dense_layers(z)


class AE_CNN(nn.Module):
    """XANESNET's padding rule, as written (for this encoder it only ever sets output_padding)."""

    def __init__(self, n_in, n_out, hidden_size, num_conv_layers, out_channel, channel_mul, kernel_size, stride, dropout, activation):
        super().__init__()
        n, k = num_conv_layers, kernel_size
        shapes, L = [n_in], n_in
        enc, c_in, c_out = [], 1, out_channel
        for _ in range(n):
            enc.append(nn.Sequential(nn.Conv1d(c_in, c_out, k, stride), act(activation)))
            c_in, c_out = c_out, c_out * channel_mul
            L = int(((L - k) / stride) + 1)
            shapes.append(L)
        self.encoder_layers = nn.Sequential(*enc)
        top = out_channel * channel_mul ** (n - 1)
        self.dense_layers = nn.Sequential(
            nn.Sequential(nn.Linear(top * shapes[-1], hidden_size), act(activation), nn.Dropout(dropout)),
            nn.Sequential(nn.Linear(hidden_size, n_out)),
        )
        dec, d_in, d_out = [], top, out_channel * channel_mul ** (n - 2) if n >= 2 else 1
        for j in range(n):
            target, T_ = shapes[n - j - 1], (shapes[n - j] - 1) * stride + k
            padding = T_ - target if T_ > target else 0
            output_padding = target - T_ if T_ < target else 0
            if j == n - 1:
                d_out = 1
            dec.append(nn.Sequential(nn.ConvTranspose1d(d_in, d_out, k, stride, output_padding=output_padding, padding=padding), act(activation)))
            if j < n - 1:
                d_in, d_out = d_out, d_out // channel_mul
        self.decoder_layers = nn.Sequential(*dec)

    def forward(self, x):
        x = x.unsqueeze(0).permute(1, 0, 2)
        z = self.encoder_layers(x)
        pred = self.dense_layers(z.view(z.size(0), -1))
        return self.decoder_layers(z).squeeze(dim=1), pred


def block(i, o, activation):
    layers = [nn.Linear(i, o), nn.BatchNorm1d(o)]
    if activation:
        layers.append(act(activation))
    return nn.Sequential(*layers)


class AEGen(nn.Module):
    def __init__(self, n, num_hidden_layer, h, activation):
        super().__init__()
        self.encoder_layers = nn.Sequential(
            block(n, h, activation), nn.Sequential(*[block(h, h, activation) for _ in range(num_hidden_layer - 1)]), block(h, h, None)
        )
        self.decoder_layers = nn.Sequential(
            nn.Sequential(*[block(h, h, activation) for _ in range(num_hidden_layer)]), nn.Sequential(nn.Linear(h, n), act(activation))
        )

    def encode(self, x):
        return self.encoder_layers(x)

    def decode(self, x):
        return self.decoder_layers(x)


class SharedLayer(nn.Module):
    def __init__(self, num_hidden_layer, h, activation):
        super().__init__()
        self.dense_layers = nn.Sequential(*[block(h, h, activation) for _ in range(num_hidden_layer)], block(h, h, None))

    def forward(self, x):
        return self.dense_layers(x)


class Dis(nn.Module):
    def __init__(self, n, num_hidden_layer, h, activation):
        super().__init__()
        self.dense_layers = nn.Sequential(
            block(n, h, activation),
            nn.Sequential(*[block(h, h, activation) for _ in range(num_hidden_layer - 1)]),
            nn.Sequential(nn.Linear(h, 1), nn.Sigmoid()),
        )

    def forward(self, x):
        return self.dense_layers(x)


class AEGAN(nn.Module):
    def __init__(self, n_in, n_out, hidden_size, num_hidden_layers_gen, num_hidden_layers_shared, num_hidden_layers_dis, activation):
        super().__init__()
        h = hidden_size
        self.gen_a = AEGen(n_in, num_hidden_layers_gen, h, activation)
        self.gen_b = AEGen(n_out, num_hidden_layers_gen, h, activation)
        self.enc_shared = SharedLayer(num_hidden_layers_shared, h, activation)
        self.dec_shared = SharedLayer(num_hidden_layers_shared, h, activation)
        self.dis_a = Dis(n_in, num_hidden_layers_dis, h, activation)
        self.dis_b = Dis(n_out, num_hidden_layers_dis, h, activation)

    def reconstruct_all_predict_all(self, x_a, x_b):
        enc_a, enc_b = self.gen_a.encode(x_a), self.gen_b.encode(x_b)
        shared_enc_a, shared_enc_b = self.enc_shared(enc_a), self.enc_shared(enc_b)
        shared_dec_a, shared_dec_b = self.dec_shared(shared_enc_a), self.dec_shared(shared_enc_b)
        x_ba = self.gen_a.decode(shared_dec_b)
        x_ab = self.gen_b.decode(shared_dec_a)
        x_a_recon = self.gen_a.decode(shared_dec_a)
        x_b_recon = self.gen_b.decode(shared_dec_b)
        return x_a_recon, x_b_recon, x_ba, x_ab


# ---- XANESNET's aegan training step (AEGANTrainer.gen_update / dis_update, aegan_learn.py) ----


def aegan_steps(model, batches, loss_gen, loss_dis, lr_gen, lr_dis, optim=torch.optim.Adam):
    params_gen = [p for n, p in model.named_parameters() if "dis" not in n]
    params_dis = [p for n, p in model.named_parameters() if "dis" in n]
    gen_opt = optim(params_gen, lr=lr_gen, weight_decay=1e-5)
    dis_opt = optim(params_dis, lr=lr_dis, weight_decay=1e-5)
    model.train()
    steps = []
    for x_a, x_b in batches:
        # gen_update
        gen_opt.zero_grad()
        enc_a, enc_b = model.gen_a.encode(x_a), model.gen_b.encode(x_b)
        shared_enc_a, shared_enc_b = model.enc_shared(enc_a), model.enc_shared(enc_b)
        shared_dec_a, shared_dec_b = model.dec_shared(shared_enc_a), model.dec_shared(shared_enc_b)
        x_a_recon, x_b_recon = model.gen_a.decode(shared_dec_a), model.gen_b.decode(shared_dec_b)
        x_ba, x_ab = model.gen_a.decode(shared_dec_b), model.gen_b.decode(shared_dec_a)
        a_max, b_max = torch.max(x_a), torch.max(x_b)
        loss_total = loss_gen(x_a_recon, x_a) / a_max + loss_gen(x_b_recon, x_b) / b_max + loss_gen(x_ba, x_a) / a_max + loss_gen(x_ab, x_b) / b_max
        loss_total.backward()
        gen_opt.step()
        # dis_update
        dis_opt.zero_grad()
        y_a, y_b = model.gen_a.encode(x_a), model.gen_b.encode(x_b)
        shared_enc_a, shared_enc_b = model.enc_shared(y_a), model.enc_shared(y_b)
        shared_dec_a, shared_dec_b = model.dec_shared(shared_enc_a), model.dec_shared(shared_enc_b)
        x_ba, x_ab = model.gen_a.decode(shared_dec_b), model.gen_b.decode(shared_dec_a)
        x_a_recon, x_b_recon = model.gen_a.decode(shared_dec_a), model.gen_b.decode(shared_dec_b)

        def calc_gen_loss(dis, fake):
            return loss_dis(dis(fake), torch.ones((fake.size(0), 1)))

        def calc_dis_loss(dis, fake, real):
            out0 = dis(fake)
            out1 = dis(real)
            return loss_dis(out0, out1)

        loss_dis_adv_a = calc_gen_loss(model.dis_a, x_a)
        loss_dis_adv_b = calc_gen_loss(model.dis_b, x_b)
        loss_gen_adv_a = calc_dis_loss(model.dis_a, x_ba, x_a)
        loss_gen_adv_b = calc_dis_loss(model.dis_b, x_ab, x_b)
        loss_gen_recon_a = calc_dis_loss(model.dis_a, x_a_recon, x_a)
        loss_gen_recon_b = calc_dis_loss(model.dis_b, x_b_recon, x_b)
        loss_real = 0.5 * (loss_dis_adv_a + loss_dis_adv_b)
        loss_fake = 0.25 * (loss_gen_adv_a + loss_gen_recon_a + loss_gen_adv_b + loss_gen_recon_b)
        loss_dis_total = loss_real + loss_fake
        loss_dis_total.backward()
        dis_opt.step()
        # the logging pass, in training mode
        with torch.no_grad():
            recon_x, recon_y, pred_x, pred_y = model.reconstruct_all_predict_all(x_a, x_b)
            parts = [loss_gen(recon_x, x_a).item(), loss_gen(recon_y, x_b).item(), loss_gen(pred_x, x_a).item(), loss_gen(pred_y, x_b).item()]
        steps.append({"loss_gen": loss_total.item(), "loss_dis": loss_dis_total.item(), "parts": parts})
    return steps


# ---- building a case ------------------------------------------------------------------------

RENAME_2023 = {
    "mlp": {"hl_ini_dim": "hidden_size", "n_hl": "num_hidden_layers", "hl_shrink": "shrink_rate"},
    "ae_mlp": {"hl_ini_dim": "hidden_size", "n_hl": "num_hidden_layers", "hl_shrink": "shrink_rate"},
    "cnn": {"hidden_layer": "hidden_size", "n_cl": "num_conv_layers"},
    "ae_cnn": {"hidden_layer": "hidden_size", "n_cl": "num_conv_layers"},
    "lstm": {"hl_ini_dim": "hidden_out_size"},
    "aegan_mlp": {"n_hl_gen": "num_hidden_layers_gen", "n_hl_shared": "num_hidden_layers_shared", "n_hl_dis": "num_hidden_layers_dis"},
}

DEFAULTS = {"dropout": 0.2, "activation": "prelu"}


def build(kind, style, hp, n_in, n_out):
    """The model of a run file's hyperparameters (2023 names renamed by the table in the spec)."""
    p = {RENAME_2023[kind].get(k, k) if style == "2023" else k: v for k, v in hp.items()}
    p = {**DEFAULTS, **p}
    if kind == "mlp":
        return MLP(n_in, n_out, p["hidden_size"], p["num_hidden_layers"], p["shrink_rate"], p["dropout"], p["activation"])
    if kind == "cnn":
        return CNN(n_in, n_out, p["hidden_size"], p["num_conv_layers"], p["out_channel"], p["channel_mul"], p["kernel_size"], p["stride"], p["dropout"], p["activation"])
    if kind == "lstm":
        return LSTMNet(n_in, n_out, p["hidden_size"], p["hidden_out_size"], p["num_layers"], p["dropout"], p["activation"])
    if kind == "ae_mlp":
        return AE_MLP(n_in, n_out, p["hidden_size"], p["num_hidden_layers"], p["shrink_rate"], p["dropout"], p["activation"])
    if kind == "ae_cnn":
        return AE_CNN(n_in, n_out, p["hidden_size"], p["num_conv_layers"], p["out_channel"], p["channel_mul"], p["kernel_size"], p["stride"], p["dropout"], p["activation"])
    if kind == "aegan_mlp":
        return AEGAN(n_in, n_out, p["hidden_size"], p["num_hidden_layers_gen"], p["num_hidden_layers_shared"], p["num_hidden_layers_dis"], p["activation"])
    raise ValueError(kind)


def formula_value(key, shape, j):
    """Deterministic weights for the spec-sized cases; test/zoo.test.ts computes the same (a = 0.37 i + 1.3 j)."""
    n = int(np.prod(shape)) if len(shape) else 1
    a = np.sin(0.37 * np.arange(n, dtype=np.float64) + 1.3 * j)
    if key.endswith("num_batches_tracked"):
        v = np.zeros(n)
    elif key.endswith("running_var"):
        v = 1.0 + 0.25 * a
    elif key.endswith("running_mean"):
        v = 0.1 * a
    elif len(shape) >= 2:
        v = a * math.sqrt(3.0 / (n // shape[0]))
    elif key.endswith("weight"):
        v = 1.0 + 0.1 * a
    else:
        v = 0.1 * a
    return torch.tensor(v.reshape(shape))


def load_formula(model):
    sd = model.state_dict()
    new = {k: formula_value(k, list(v.shape), j).to(v.dtype) for j, (k, v) in enumerate(sd.items())}
    model.load_state_dict(new)


def perturb(model, seed):
    """Move batch-norm statistics and PReLU slopes off their defaults, so eval mode checks them."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.3)
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=g))
                m.weight.copy_(1 + 0.2 * torch.randn(m.weight.shape, generator=g))
                m.bias.copy_(0.2 * torch.randn(m.bias.shape, generator=g))
                m.num_batches_tracked.fill_(3)
            if isinstance(m, nn.PReLU):
                m.weight.copy_(0.1 + 0.3 * torch.rand(m.weight.shape, generator=g))


def sd_json(model):
    return {k: T(v) for k, v in model.state_dict().items()}


def outputs(kind, model, x, y):
    if kind == "lstm":
        return {"pred": T(model(x)), "pred_original": T(model(x, original=True))}
    if kind in ("ae_mlp", "ae_cnn"):
        recon, pred = model(x)
        return {"recon": T(recon), "pred": T(pred)}
    if kind == "aegan_mlp":
        ra, rb, pa, pb = model.reconstruct_all_predict_all(x, y)
        return {"recon_a": T(ra), "recon_b": T(rb), "pred_a": T(pa), "pred_b": T(pb), "dis_a": T(model.dis_a(x)), "dis_b": T(model.dis_b(y))}
    return {"pred": T(model(x))}


def case(name, kind, style, hp, n_in, n_out, weights, batch=4, seed=0):
    torch.manual_seed(seed)
    model = build(kind, style, hp, n_in, n_out)
    if weights == "formula":
        load_formula(model)
    else:
        perturb(model, seed + 100)
    model.eval()
    x = seeded_input(seed + 1, batch, n_in)
    y = seeded_input(seed + 2, batch, n_out).abs() + 0.1 if kind == "aegan_mlp" else None
    with torch.no_grad():
        out = outputs(kind, model, x, y)
    c = {
        "name": name,
        "type": kind,
        "style": style,
        "hyperparams": hp,
        "nIn": n_in,
        "nOut": n_out,
        "count": sum(p.numel() for p in model.parameters()),
        "shapes": [[k, list(v.shape)] for k, v in model.state_dict().items()],
        "weights": weights,
        "x": T(x),
        "eval": out,
    }
    if y is not None:
        c["y"] = T(y)
    if weights == "state":
        c["state"] = sd_json(model)
    return c, model


def generate():
    out = {"cases": []}
    add = lambda c: out["cases"].append(c[0]) or c[1]  # noqa: E731

    # The spec's examples (49 wACSF features, 226 energies), weights from formula_value.
    add(case("mlp_spec_2023", "mlp", "2023", {"n_hl": 5, "hl_ini_dim": 512, "hl_shrink": 0.5, "dropout": 0.2, "activation": "prelu"}, 49, 226, "formula"))
    add(case("cnn_spec_2023", "cnn", "2023", {"n_cl": 3, "out_channel": 32, "channel_mul": 2, "hidden_layer": 64, "kernel_size": 3, "stride": 1, "dropout": 0.2, "activation": "prelu"}, 49, 226, "formula"))
    add(case("lstm_spec_2023", "lstm", "2023", {"hidden_size": 100, "num_layers": 1, "hl_ini_dim": 512, "dropout": 0.2, "activation": "prelu"}, 49, 226, "formula"))
    add(case("ae_mlp_spec_2023", "ae_mlp", "2023", {"n_hl": 5, "hl_ini_dim": 512, "hl_shrink": 0.5, "dropout": 0.2, "activation": "prelu"}, 49, 226, "formula"))
    add(case("ae_cnn_spec_s1_2023", "ae_cnn", "2023", {"n_cl": 3, "out_channel": 32, "channel_mul": 2, "hidden_layer": 64, "kernel_size": 3, "stride": 1}, 49, 226, "formula"))
    add(case("ae_cnn_spec_s2_2024", "ae_cnn", "2024", {"num_conv_layers": 3, "out_channel": 32, "channel_mul": 2, "hidden_size": 64, "kernel_size": 3, "stride": 2}, 49, 226, "formula"))
    add(case("aegan_spec_2023", "aegan_mlp", "2023", {"hidden_size": 256, "n_hl_gen": 2, "n_hl_shared": 2, "n_hl_dis": 2, "activation": "prelu"}, 49, 226, "formula"))
    # spectrum -> structure (train_xanes): the same models the other way round
    add(case("cnn_xanes_2024", "cnn", "2024", {"num_conv_layers": 2, "out_channel": 4, "channel_mul": 2, "hidden_size": 16, "kernel_size": 5, "stride": 3}, 226, 49, "formula"))

    # Small cases with PyTorch's own (default-initialised, perturbed) state dicts.
    add(case("mlp_small_2024", "mlp", "2024", {"hidden_size": 16, "num_hidden_layers": 3, "shrink_rate": 0.5, "activation": "relu"}, 7, 5, "state", seed=1))
    add(case("mlp_nhl1_2023", "mlp", "2023", {"n_hl": 1, "hl_ini_dim": 16, "hl_shrink": 0.5}, 7, 5, "state", seed=8))
    cnn = add(case("cnn_small_2024", "cnn", "2024", {"num_conv_layers": 2, "out_channel": 3, "channel_mul": 2, "hidden_size": 8, "kernel_size": 3, "stride": 2, "dropout": 0.0}, 17, 5, "state", batch=5, seed=2))
    add(case("lstm_small_2024", "lstm", "2024", {"hidden_size": 5, "num_layers": 2, "hidden_out_size": 7, "activation": "tanh"}, 6, 4, "state", batch=5, seed=3))
    ae = add(case("ae_mlp_small_2024", "ae_mlp", "2024", {"hidden_size": 12, "num_hidden_layers": 3, "shrink_rate": 0.5, "dropout": 0.0}, 7, 5, "state", batch=6, seed=4))
    add(case("ae_cnn_small_s2_2024", "ae_cnn", "2024", {"num_conv_layers": 3, "out_channel": 2, "channel_mul": 2, "hidden_size": 6, "kernel_size": 3, "stride": 2}, 20, 4, "state", seed=5))
    add(case("ae_cnn_small_s1_2023", "ae_cnn", "2023", {"n_cl": 2, "out_channel": 3, "channel_mul": 3, "hidden_layer": 5, "kernel_size": 4, "stride": 1, "activation": "elu"}, 12, 3, "state", seed=6))
    add(case("aegan_small_2024", "aegan_mlp", "2024", {"hidden_size": 6, "num_hidden_layers_gen": 2, "num_hidden_layers_shared": 1, "num_hidden_layers_dis": 2}, 5, 7, "state", batch=6, seed=7))

    # cnn in training mode (batch statistics, running statistics updated; dropout 0).
    by_name = {c["name"]: c for c in out["cases"]}
    c = by_name["cnn_small_2024"]
    x = torch.tensor(c["x"]["data"], dtype=torch.float32).reshape(c["x"]["shape"])
    cnn.train()
    with torch.no_grad():
        out["cnn_train"] = {"case": c["name"], "pred": T(cnn(x)), "state_after": sd_json(cnn)}

    # Two Adam steps of the autoencoder task: L = mse(recon, x) + mse(pred, y) (dropout 0).
    c = by_name["ae_mlp_small_2024"]
    torch.manual_seed(11)
    ae.load_state_dict({k: torch.tensor(v["data"]).reshape(v["shape"]).to(ae.state_dict()[k].dtype) for k, v in c["state"].items()})
    ae.train()
    opt = torch.optim.Adam(ae.parameters(), lr=1e-2)
    xb, yb = seeded_input(21, 6, 7), seeded_input(22, 6, 5)
    losses = []
    for _ in range(2):
        opt.zero_grad()
        recon, pred = ae(xb)
        loss = nn.MSELoss()(recon, xb) + nn.MSELoss()(pred, yb)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    out["ae_train"] = {"case": c["name"], "x": T(xb), "y": T(yb), "lr": 1e-2, "losses": losses, "state_after": sd_json(ae)}

    # Two aegan_mlp steps (gen_update, dis_update, logging) with the intended and the original loss_dis,
    # with Adam (XANESNET's optimizer: losses) and SGD (losses and every parameter and statistic).
    # Several gradients here are zero in exact arithmetic (a Linear bias before a BatchNorm, a
    # BatchNorm shift feeding Linear -> BatchNorm), so their float32 values are rounding noise;
    # Adam scales that noise up to lr-sized steps, SGD keeps it negligible.
    c = by_name["aegan_small_2024"]
    xa1, xb1 = seeded_input(31, 6, 5).abs() + 0.1, seeded_input(32, 6, 7).abs() + 0.1
    xa2, xb2 = seeded_input(33, 6, 5).abs() + 0.1, seeded_input(34, 6, 7).abs() + 0.1
    out["aegan_train"] = {"case": c["name"], "batches": [[T(xa1), T(xb1)], [T(xa2), T(xb2)]], "lr_gen": 1e-2, "lr_dis": 5e-3, "sgd_lr_gen": 0.1, "sgd_lr_dis": 0.05}
    for label, loss_dis in (("intended", nn.BCELoss()), ("original", nn.BCEWithLogitsLoss())):
        res = {}
        for opt_name, optim, lrs in (("adam", torch.optim.Adam, (1e-2, 5e-3)), ("sgd", torch.optim.SGD, (0.1, 0.05))):
            torch.manual_seed(0)
            m = build("aegan_mlp", "2024", c["hyperparams"], 5, 7)
            m.load_state_dict({k: torch.tensor(v["data"]).reshape(v["shape"]).to(m.state_dict()[k].dtype) for k, v in c["state"].items()})
            steps = aegan_steps(m, [(xa1, xb1), (xa2, xb2)], nn.MSELoss(), loss_dis, *lrs, optim=optim)
            res[opt_name] = {"steps": steps, "state_after": sd_json(m)} if opt_name == "sgd" else {"steps": steps}
        out["aegan_train"][label] = res
    return out
