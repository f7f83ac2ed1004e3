"""safetensors files written by PyTorch, and a check that PyTorch loads what hyperlab writes.

As a fixture generator (`npm run fixtures files`) this writes
  test/fixtures/files_torch_model.safetensors   the state dict of nn.Sequential(Linear(3, 2), BatchNorm1d(2))
                                                after three training-mode passes (so running stats and
                                                num_batches_tracked, an int64, are not their defaults)
  test/fixtures/files_torch_dtypes.safetensors  one tensor of every dtype hyperlab reads, plus empty and 0-d ones
and test/fixtures/files.json with their expected values.

As a checker (`python3 test/parity/gen_files.py --check FILE`, run by test/files.test.ts when
/usr/bin/python3 has torch) it loads FILE into the same nn.Sequential with load_state_dict(strict=True)
and prints the loaded state dict (dtypes and values) as JSON.

Debian has no python3-safetensors package, so when the `safetensors` module is missing the files
are written and read by the few lines below (struct + json + torch.frombuffer), which follow the
format exactly as the reference implementation writes it: an 8-byte little-endian header length,
a compact JSON header padded with spaces to a multiple of 8 bytes, tensors sorted by dtype size
(largest first) then name, row-major little-endian data. With `safetensors` installed it is used.
"""
import json
import os
import struct
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import FIXTURES, T, seeded_input  # noqa: E402

DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U8": torch.uint8, "BOOL": torch.bool,
}
NAMES = {v: k for k, v in DTYPES.items()}


def write_safetensors(path, tensors, metadata=None):
    """safetensors.torch.save_file without the package."""
    items = sorted(tensors.items(), key=lambda kv: (-kv[1].element_size(), kv[0]))
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in items:
        raw = t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_safetensors(path):
    """safetensors.torch.load_file (and the metadata) without the package."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    metadata = header.pop("__metadata__", {})
    out = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = DTYPES[info["dtype"]]
        buf = bytearray(data[8 + n + begin:8 + n + end])
        flat = torch.frombuffer(buf, dtype=dtype) if buf else torch.empty(0, dtype=dtype)
        out[name] = flat.reshape(info["shape"])
    return out, metadata


def save_file(tensors, path, metadata=None):
    try:
        from safetensors.torch import save_file as reference
    except ImportError:
        return write_safetensors(path, tensors, metadata)
    reference(tensors, path, metadata)


def load_file(path):
    """The tensors, the metadata and which reader was used."""
    try:
        from safetensors import safe_open
    except ImportError:
        return (*read_safetensors(path), "hand-written reader (no safetensors package)")
    with safe_open(path, "pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}, f.metadata() or {}, "safetensors package"


def model():
    return nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))


def exact(t):
    """dtype, shape and values (as Python numbers) of a tensor."""
    return {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data": t.reshape(-1).to(torch.float64).tolist()}


def generate():
    torch.manual_seed(5)
    net = model()
    for seed in (1, 2, 3):
        net(seeded_input(seed, 8, 3) * 2 + 1)  # training mode: updates the running statistics
    with torch.no_grad():  # BatchNorm's affine parameters away from their 1 / 0 defaults
        net[1].weight.copy_(torch.tensor([1.5, 0.5]))
        net[1].bias.copy_(torch.tensor([0.1, -0.2]))
    net.eval()
    x = seeded_input(4, 4, 3)
    model_file = os.path.join(FIXTURES, "files_torch_model.safetensors")
    save_file(dict(net.state_dict()), model_file, {"format": "pt"})

    dtypes = {
        "f64": torch.tensor([0.1, -1e300, 2.0 ** -1060], dtype=torch.float64),
        "f32": torch.tensor([[1.5, -2.25], [3.0, 1e-30]], dtype=torch.float32),
        "f16": torch.tensor([0.5, -65504.0, 6e-8, 1.0 / 3.0], dtype=torch.float16),
        "bf16": torch.tensor([1.0, -3.140625, 1e30], dtype=torch.bfloat16),
        "i64": torch.tensor([0, -1, 2 ** 31 - 1, -(2 ** 31)], dtype=torch.int64),
        "i64_big": torch.tensor([2 ** 40, -(2 ** 53)], dtype=torch.int64),
        "i32": torch.tensor([7, -8, 2 ** 31 - 1], dtype=torch.int32),
        "i16": torch.tensor([-32768, 32767], dtype=torch.int16),
        "i8": torch.tensor([-128, 127, 0], dtype=torch.int8),
        "u8": torch.tensor([0, 255, 17], dtype=torch.uint8),
        "bool": torch.tensor([[True, False, True]]),
        "empty": torch.zeros(2, 0),
        "scalar": torch.tensor(42.5),
    }
    dtypes_file = os.path.join(FIXTURES, "files_torch_dtypes.safetensors")
    save_file(dtypes, dtypes_file, {"made_by": "test/parity/gen_files.py", "note": "every dtype"})
    # Read both back with the same reader, as a check of the writer.
    back, _, reader = load_file(dtypes_file)
    assert all(torch.equal(back[k], v) for k, v in dtypes.items()), "safetensors round trip failed"
    return {
        "reader": reader,
        "model": {
            "file": "files_torch_model.safetensors",
            "state": {k: exact(v) for k, v in net.state_dict().items()},
            "x": T(x),
            "y_eval": T(net(x)),
        },
        "dtypes": {"file": "files_torch_dtypes.safetensors", "tensors": {k: exact(v) for k, v in dtypes.items()}},
    }


def check(path):
    """Load a hyperlab-written file into PyTorch's model (strict) and report what PyTorch holds."""
    tensors, metadata, reader = load_file(path)
    net = model()
    net.load_state_dict(tensors, strict=True)
    state = net.state_dict()
    print(json.dumps({
        "reader": reader,
        "metadata": metadata,
        "state": {k: exact(v) for k, v in state.items()},
        "torch_dtypes": {k: str(v.dtype) for k, v in state.items()},
    }))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check(sys.argv[2])
    else:
        sys.exit("usage: gen_files.py --check FILE.safetensors   (fixtures: npm run fixtures files)")
