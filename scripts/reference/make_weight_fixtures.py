"""Writes the small weight files that CAMKit's weight-loading tests read.

Pinned: Python 3.11, torch 2.15.0, safetensors 0.8.0, numpy 2.4.6.
Run from the repository root:  python scripts/reference/make_weight_fixtures.py
Everything goes to Fixtures/weights/ (a few KB in all). Expected values are written to
Fixtures/weights/expected.json as float32 bit patterns (uint32), so the Swift tests can compare
exactly, NaN and infinities included, without parsing numpy or pickle files.

Hostile checkpoints are written by make_malicious_checkpoints.py, into Fixtures/malicious/.
"""
import collections
import io
import json
import pathlib
import pickle
import zipfile

import numpy as np
import torch
from safetensors.torch import save_file

OUT = pathlib.Path(__file__).resolve().parents[2] / "Fixtures" / "weights"


def bits(t: torch.Tensor) -> list[int]:
    """float32 bit patterns of a tensor's values, row-major."""
    a = t.detach().to(torch.float32).contiguous().numpy().reshape(-1)
    return [int(b) for b in a.view(np.uint32)]


def entry(t: torch.Tensor) -> dict:
    return {"shape": list(t.shape), "bits": bits(t)}


class TinyNet(torch.nn.Module):
    """conv + batchnorm + linear: the keys (and int64 num_batches_tracked) of a real CNN."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 2, 3)
        self.bn = torch.nn.BatchNorm2d(2)
        self.fc = torch.nn.Linear(8, 3)


def put(z: zipfile.ZipFile, name: str, data) -> None:
    """Adds an entry with a fixed timestamp, so regenerating gives the same bytes."""
    z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)


class _Storage:
    """Stands for storage '0' of 4 float32 elements in a hand-written checkpoint."""


    def __init__(self, storage_type=torch.FloatStorage, numel=4):
        self.storage_type, self.numel = storage_type, numel


class _View:
    def __init__(self, offset, size, storage=None):
        self.offset, self.size, self.storage = offset, size, storage or _Storage()

    def __reduce__(self):
        stride = (1,) * len(self.size)
        return (torch._utils._rebuild_tensor_v2,
                (self.storage, self.offset, self.size, stride, False, collections.OrderedDict()))


def write_raw_checkpoint(path, offset, size, storage_bytes, extra=()):
    """One view "w" of storage '0' (4 float32), plus `extra` (name, _View) pairs."""
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=2)
    pickler.persistent_id = lambda o: (("storage", o.storage_type, "0", "cpu", o.numel)
                                       if isinstance(o, _Storage) else None)
    pickler.dump(collections.OrderedDict([("w", _View(offset, size))] + list(extra)))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        put(z, "archive/data.pkl", buf.getvalue())
        put(z, "archive/byteorder", "little")
        put(z, "archive/data/0", np.arange(storage_bytes // 4, dtype="<f4").tobytes())
        put(z, "archive/version", "3\n")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    expected: dict[str, dict] = {}

    # --- safetensors, the same tensors in three dtypes ---------------------------------
    g = torch.Generator().manual_seed(0)
    special = torch.tensor(
        [2.0**-24, 3 * 2.0**-24, 2.0**-14 - 2.0**-24, 2.0**-14, 65504.0,
         float("inf"), float("-inf"), float("nan"), -0.0, 1 / 3, -2.5, 1e-30],
        dtype=torch.float32)
    tensors = {
        "conv.weight": torch.randn(2, 1, 3, 3, generator=g),
        "conv.bias": torch.randn(2, generator=g),
        "fc.weight": torch.randn(3, 4, generator=g),
        "special": special,
        "scalar": torch.tensor(0.75),
    }
    for dtype, name in [(torch.float32, "F32"), (torch.float16, "F16"), (torch.bfloat16, "BF16")]:
        converted = {k: v.to(dtype) for k, v in tensors.items()}
        converted["bn.num_batches_tracked"] = torch.tensor(7, dtype=torch.int64)
        fname = f"tensors_{name.lower()}.safetensors"
        save_file(converted, str(OUT / fname), metadata={"format": "pt"})
        expected[fname] = {k: entry(v) for k, v in converted.items() if v.is_floating_point()}

    save_file({"ok": torch.ones(2), "labels": torch.arange(3, dtype=torch.int32)},
              str(OUT / "unsupported_dtype.safetensors"))

    # --- torch.save of a plain state dict ------------------------------------------------
    torch.manual_seed(1)
    net = TinyNet()
    with torch.no_grad():
        net.bn.running_mean.uniform_(-1, 1)
        net.bn.running_var.uniform_(0.5, 2)
        net.bn.weight.uniform_(0.5, 1.5)
        net.bn.num_batches_tracked.fill_(12)
    sd = net.state_dict()
    assert isinstance(sd, collections.OrderedDict)
    torch.save(sd, OUT / "tiny_state_dict.pth")
    expected["tiny_state_dict.pth"] = {k: entry(v) for k, v in sd.items() if v.is_floating_point()}

    # --- a training checkpoint wrapping a DataParallel state dict --------------------------
    wrapped = collections.OrderedDict(("module." + k, v) for k, v in sd.items())
    torch.save({"epoch": 3, "model_state_dict": wrapped,
                "optimizer": {"lr": 0.1, "betas": (0.9, 0.999), "step": 2**70},
                "note": "trained on tiny data", "best": None},
               OUT / "wrapped_checkpoint.pth")
    expected["wrapped_checkpoint.pth"] = {k: entry(v) for k, v in wrapped.items() if v.is_floating_point()}

    # --- float16 and non-contiguous views, pickle protocol 4 (STACK_GLOBAL, MEMOIZE, FRAME) -
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 8
    views = {
        "half": torch.tensor([2.0**-24, -(2.0**-20), 2.0**-14, 1.0, -65504.0, float("inf"), 0.1],
                             dtype=torch.float16),
        "bf16": torch.tensor([1.0, -3.140625, 2.0**-130, float("-inf")], dtype=torch.bfloat16),
        "transposed": base.t(),              # shape (4, 3), stride (1, 4)
        "sliced": base[:, 1:3],              # offset 1, stride (4, 1)
        "half_transposed": base.to(torch.float16).t(),
    }
    assert not views["transposed"].is_contiguous() and not views["sliced"].is_contiguous()
    torch.save(views, OUT / "half_and_strided.pth", pickle_protocol=4)
    expected["half_and_strided.pth"] = {k: entry(v) for k, v in views.items()}

    # --- a pickled whole model (globals __main__.TinyNet, torch.nn...) -------------------
    torch.save(net, OUT / "whole_model.pth")

    # --- checkpoints that are well-formed pickles but wrong inside -------------------------
    torch.save({"w": torch.ones(2), "labels": torch.arange(3)}, OUT / "int64_tensor.pth")
    torch.save({"epoch": 3, "history": [1.0, 2.0], "model": {"lr": 0.1}}, OUT / "no_state_dict.pth")
    # A view reaching past its storage, and a storage file shorter than its declared size:
    # torch.save never writes either, so the pickle is written by hand (4-element storage '0').
    write_raw_checkpoint(OUT / "view_out_of_bounds.pth", offset=2, size=(4,), storage_bytes=16)
    write_raw_checkpoint(OUT / "short_storage.pth", offset=0, size=(4,), storage_bytes=12)
    # A second tensor naming the same storage as 8-byte doubles, claiming twice its bytes.
    write_raw_checkpoint(OUT / "storage_reused_wider.pth", offset=0, size=(4,), storage_bytes=16,
                         extra=[("v", _View(0, (4,), _Storage(torch.DoubleStorage, 4)))])

    # --- a zip that is not a checkpoint ---------------------------------------------------
    with zipfile.ZipFile(OUT / "no_data_pkl.zip", "w", zipfile.ZIP_STORED) as z:
        put(z, "archive/version", "3\n")
        put(z, "archive/data/0", b"\0" * 8)

    (OUT / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {len(list(OUT.iterdir()))} files, {total} bytes, to {OUT}")


if __name__ == "__main__":
    main()
