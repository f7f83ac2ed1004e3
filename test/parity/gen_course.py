"""The course's small nets (TwoLayerNet, SimpleNN): parameter names, counts and a forward pass."""
import torch
import torch.nn as nn
from common import T, seeded_input, state_dict


class TwoLayerNet(nn.Module):
    def __init__(self, D_in, H, D_out):
        super().__init__()
        self.linear1 = nn.Linear(D_in, H)
        self.linear2 = nn.Linear(H, D_out)

    def forward(self, x):
        return self.linear2(self.linear1(x).clamp(min=0))


class SimpleNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(5, 8)
        self.fc2 = nn.Linear(8, 1)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def case(model, x):
    model.eval()
    with torch.no_grad():
        y = model(x)
    return {
        "names": [n for n, _ in model.named_parameters()],
        "total": sum(p.numel() for p in model.parameters()),
        "state": state_dict(model),
        "x": T(x),
        "y": T(y),
    }


def generate():
    torch.manual_seed(0)
    return {
        "two_layer_net_big": {"total": sum(p.numel() for p in TwoLayerNet(1000, 100, 10).parameters())},
        "two_layer_net": case(TwoLayerNet(20, 12, 3), seeded_input(1, 6, 20)),
        "simple_nn": case(SimpleNN(), seeded_input(2, 6, 5)),
    }
