"""Read a pickled PyTorch module (XANESNET's model.pt, saved with torch.save(model)) and write its
state dict as safetensors, for `hyperlab import-xanesnet`.

    python3 read_torch_model.py MODEL_PT OUT_SAFETENSORS   -> prints a JSON summary on stdout

XANESNET pickles the whole module, so unpickling needs its classes (`model.MLP` in the 2023
layout, `xanesnet.model.mlp.MLP` in 2024). They need not be installed: a class that cannot be
imported is replaced by an empty nn.Module subclass of the same name, which holds the
submodules, parameters and buffers the pickle restores (all a state dict needs). Nothing of
XANESNET's code runs. A pickle can run code when loaded: import only model files you trust.
"""
import json
import pickle
import struct
import sys
import types

import torch

stubbed = []


class Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        try:
            return super().find_class(module, name)
        except (ImportError, AttributeError):
            stubbed.append(f"{module}.{name}")
            return type(name, (torch.nn.Module,), {"__module__": module})


# pickle with the lenient Unpickler. Debian's torch 1.13 ignores torch.load's pickle_module argument
# (it resets it to `pickle`), so the module-level name torch.serialization reads is swapped too.
pickle_module = types.ModuleType("pickle")
pickle_module.__dict__.update(pickle.__dict__)
pickle_module.Unpickler = Unpickler

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.int64: "I64", torch.int32: "I32", torch.bool: "BOOL", torch.uint8: "U8"}


def write_safetensors(path, tensors):
    header, chunks, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for key, t in tensors.items():
        t = t.detach().contiguous().cpu()
        data = t.numpy().tobytes()
        header[key] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def main(src, out):
    saved = torch.serialization.pickle
    torch.serialization.pickle = pickle_module
    try:
        obj = torch.load(src, map_location="cpu", pickle_module=pickle_module)
    finally:
        torch.serialization.pickle = saved
    if isinstance(obj, dict):  # a bare state dict (torch.save(model.state_dict()))
        sd, cls = obj, None
    elif isinstance(obj, torch.nn.Module):
        sd, cls = obj.state_dict(), f"{type(obj).__module__}.{type(obj).__name__}"
    else:
        raise SystemExit(f"{src} holds a {type(obj).__name__}, not a PyTorch module or state dict")
    write_safetensors(out, sd)
    print(json.dumps({"class": cls, "stubbed": sorted(set(stubbed)), "torch": torch.__version__,
                      "keys": [[k, list(v.shape)] for k, v in sd.items()]}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
