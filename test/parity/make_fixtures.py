"""Regenerate every parity fixture with PyTorch: `npm run fixtures`.

Needs Debian's python3-torch (and libopenblas0-pthread). Each gen_<area>.py module
in this folder writes test/fixtures/<area>.json. Pass area names to regenerate some.
"""
import glob
import importlib.util
import os
import sys

import torch

torch.set_default_dtype(torch.float32)
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from common import save  # noqa: E402

wanted = set(sys.argv[1:])
for path in sorted(glob.glob(os.path.join(here, "gen_*.py"))):
    area = os.path.basename(path)[4:-3]
    if wanted and area not in wanted:
        continue
    spec = importlib.util.spec_from_file_location(f"gen_{area}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    torch.manual_seed(0)
    save(area, mod.generate())
