"""Writes Fixtures/weights/keras_*.h5: tiny Keras-layout HDF5 files for the reader's tests
and as seeds of the fuzz-keras-hdf5 fuzzer (a real Keras .h5 is megabytes).

They are written with h5py in the layout Keras 2's `model.save` uses (root `model_config`
JSON, `model_weights` group with `layer_names`, one group per layer with `weight_names` and
its datasets), with a few elements per dataset. Every layer class and weight kind the Swift reader converts appears
once, as does a nested functional model. Names are fixed-length strings, as Keras 2 writes
them; `keras_weights_only.h5` is the `save_weights` layout (`layer_names` on the root) with
variable-length strings, as Keras 3 writes them. Element k of a weight's dataset (row-major,
Keras layout) is `0.25 k - i` for the layer's i-th weight; biases are float16, the nested
model's weights float64 ones.

    ~/.cache/camkit/venv/bin/python scripts/reference/make_keras_fixtures.py
"""
import json
from pathlib import Path

import h5py
import numpy as np

OUT = Path(__file__).resolve().parents[2] / "Fixtures" / "weights"

# (layer, class, [(weight, shape)]); "inner" is a nested Functional model.
LAYERS = [
    ("conv", "Conv2D", [("kernel", (1, 1, 2, 2)), ("bias", (2,))]),
    ("dw", "DepthwiseConv2D", [("depthwise_kernel", (3, 3, 2, 1))]),
    ("bn", "BatchNormalization", [("gamma", (2,)), ("beta", (2,)), ("moving_mean", (2,)), ("moving_variance", (2,))]),
    ("pool", "GlobalAveragePooling2D", []),
    ("dense", "Dense", [("kernel", (2, 3)), ("bias", (3,))]),
]
INNER = [("inner_conv", "Conv2D", [("kernel", (1, 1, 2, 2))])]


def config(name, layers, nested=None):
    entries = [{"class_name": cls, "config": {"name": layer}} for layer, cls, _ in layers]
    if nested:
        entries.append(nested)
    return {"class_name": "Functional", "config": {"name": name, "layers": entries}}


def write_layer(group, layer, weights, owner=None, vlen=False):
    g = group.create_group(layer)
    names = [f"{owner or layer}/{w}:0" for w, _ in weights]
    if not names:
        g.attrs["weight_names"] = np.zeros((0,), dtype=np.float32)
    elif vlen:
        g.attrs.create("weight_names", names, dtype=h5py.string_dtype())
    else:
        g.attrs["weight_names"] = np.array([n.encode() for n in names])
    for i, (w, shape) in enumerate(weights):
        data = (np.arange(np.prod(shape), dtype=np.float32) * 0.25 - i).reshape(shape)
        g.create_dataset(f"{owner or layer}/{w}:0", data=data.astype(np.float16 if w == "bias" else np.float32))
    return g


def full_model(path):
    with h5py.File(path, "w", libver=("earliest", "v110")) as f:
        f.attrs["keras_version"] = b"2.15.0"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(config("model", LAYERS, config("inner", INNER))).encode()
        weights = f.create_group("model_weights")
        weights.attrs["layer_names"] = np.array([name.encode() for name, _, _ in LAYERS] + [b"inner"])
        for layer, _, ws in LAYERS:
            write_layer(weights, layer, ws)
        nested = weights.create_group("inner")
        nested.attrs["weight_names"] = np.array([f"{layer}/{w}:0".encode() for layer, _, ws in INNER for w, _ in ws])
        for layer, _, ws in INNER:
            for w, shape in ws:
                nested.create_dataset(f"{layer}/{w}:0", data=np.ones(shape, dtype=np.float64))


def weights_only(path):
    with h5py.File(path, "w", libver=("earliest", "v110")) as f:
        f.attrs.create("model_config", json.dumps(config("model", LAYERS[:2])), dtype=h5py.string_dtype())
        f.attrs.create("layer_names", [name for name, _, _ in LAYERS[:2]], dtype=h5py.string_dtype())
        for layer, _, ws in LAYERS[:2]:
            write_layer(f, layer, ws, vlen=True)


full_model(OUT / "keras_model.h5")
weights_only(OUT / "keras_weights_only.h5")
for p in sorted(OUT.glob("keras_*.h5")):
    print(p.name, p.stat().st_size, "bytes")
