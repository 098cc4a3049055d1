"""Writes Fixtures/hdf5: small HDF5 files made by h5py (and two by Keras 3) covering what the
Swift HDF5 reader implements, with their expected contents in Fixtures/hdf5/expected.json.

- layouts.h5 (h5py's defaults: superblock 0, object header 1, symbol-table groups): float
  datasets contiguous, compact and chunked (edge chunks; a chunk B-tree of two levels), with
  deflate, shuffle and both; float16/32/64 in both byte orders.
- strings.h5: attributes holding fixed- and variable-length strings, arrays of each (as
  Keras' `layer_names` and `weight_names`), an empty list.
- latest.h5 (`libver="latest"`: superblock 3, object header 2): compact and dense groups
  (a fractal heap and B-tree v2 name index of 40 links), compact and dense attributes (40,
  20 with creation order tracked, and 200 whose heap needs an indirect block and whose name
  index has two levels), chunked datasets indexed by a single chunk and by a fixed
  array, and a resizable one (extensible array index), which the reader refuses.
- v108.h5 (`libver=("v108", "v108")`): superblock 2.
- keras3_model.h5 and keras3_model.keras: one tiny nested Keras 3 model saved both ways;
  expected.json holds its state dict in PyTorch layout, the reader's output.

Values are `0.25 k - d` for element k of the d-th dataset in its file, so any misplaced
element shows. Run with the venv of `make venv`:

    ~/.cache/camkit/venv/bin/python scripts/reference/make_hdf5_fixtures.py
"""
import json
import os
from pathlib import Path

os.environ["KERAS_BACKEND"] = "torch"

import h5py
import numpy as np

OUT = Path(__file__).resolve().parents[2] / "Fixtures" / "hdf5"
expected = {}


def values(shape, index, dtype):
    n = int(np.prod(shape))
    return (0.25 * np.arange(n) - index).reshape(shape).astype(dtype)


def record(file, name, data):
    expected.setdefault(file, {}).setdefault("datasets", {})[name] = {
        "shape": list(data.shape), "values": [float(v) for v in data.astype(np.float32).ravel()]}


def layouts():
    name = "layouts.h5"
    with h5py.File(OUT / name, "w") as f:
        specs = [
            ("contiguous", (3, 4), "<f4", {}),
            ("chunked", (5, 7), "<f4", {"chunks": (2, 3)}),
            ("chunked_two_levels", (100,), "<f4", {"chunks": (1,)}),
            ("deflate", (6, 5), "<f4", {"chunks": (4, 5), "compression": "gzip", "compression_opts": 6}),
            ("shuffle", (6, 5), "<f4", {"chunks": (4, 5), "shuffle": True}),
            ("shuffle_deflate", (6, 5), "<f8", {"chunks": (3, 5), "shuffle": True, "compression": "gzip"}),
            ("f16", (4, 3), "<f2", {}),
            ("f64", (4, 3), "<f8", {}),
            ("f16_big_endian", (4, 3), ">f2", {}),
            ("f32_big_endian", (4, 3), ">f4", {}),
            ("f64_big_endian", (2, 3), ">f8", {"chunks": (1, 3), "compression": "gzip"}),
        ]
        for i, (ds, shape, dtype, options) in enumerate(specs):
            data = values(shape, i, dtype)
            f.create_dataset(ds, data=data, **options)
            record(name, ds, data)
        # Compact layout: the data inside the object header (h5py's low-level API).
        data = values((2, 3), len(specs), "<f4")
        plist = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        plist.set_layout(h5py.h5d.COMPACT)
        space = h5py.h5s.create_simple(data.shape)
        ds = h5py.h5d.create(f.id, b"compact", h5py.h5t.IEEE_F32LE, space, dcpl=plist)
        ds.write(h5py.h5s.ALL, h5py.h5s.ALL, data)
        record(name, "compact", data)
        f.create_dataset("integers", data=np.arange(4, dtype="<i4"))


def strings():
    name = "strings.h5"
    entry = expected.setdefault(name, {}).setdefault("attributes", {})
    with h5py.File(OUT / name, "w") as f:
        g = f.create_group("layer")
        texts = ["conv", "batch_normalization", "dense"]
        g.attrs["fixed"] = np.bytes_("model_config")
        g.attrs["vlen"] = "variable length, ünïcode"
        g.attrs["fixed_array"] = np.array([t.encode() for t in texts])  # S19: the longest fills its field
        g.attrs.create("vlen_array", texts, dtype=h5py.string_dtype())
        g.attrs["empty"] = np.array([], dtype=np.float64)  # h5py's empty list, as Keras writes it
        g.attrs["number"] = 3.5
        entry.update({"fixed": ["model_config"], "vlen": ["variable length, ünïcode"], "fixed_array": texts,
                      "vlen_array": texts, "empty": []})


def latest():
    name = "latest.h5"
    with h5py.File(OUT / name, "w", libver="latest") as f:
        small = f.create_group("compact_group")
        for i in range(3):
            small.create_group(f"child_{i}")
        dense = f.create_group("dense_group")
        for i in range(40):
            dense.create_group(f"link_{i:02d}")
        data = values((3,), 0, "<f4")
        dense["link_17"].create_dataset("data", data=data)
        record(name, "dense_group/link_17/data", data)
        tracked = f.create_group("tracked_group", track_order=True)
        for i in range(12):
            tracked.create_group(f"t{i}")
        attrs = f.create_group("dense_attributes")
        for i in range(40):
            attrs.attrs[f"attr_{i:02d}"] = f"value {i}"
        # Enough attributes for the fractal heap to need an indirect block, and the name
        # index a B-tree v2 of two levels.
        many = f.create_group("many_attributes")
        for i in range(200):
            many.attrs[f"a{i:03d}"] = f"{i:03d}" + "x" * 100
        ordered = f.create_group("ordered_attributes", track_order=True)
        for i in range(20):
            ordered.attrs[f"o{i}"] = np.bytes_(f"fixed {i}")
        f.attrs["compact"] = "root attribute"
        data = values((4, 6), 1, "<f4")
        f.create_dataset("single_chunk", data=data, chunks=(4, 6), compression="gzip")
        record(name, "single_chunk", data)
        data = values((9, 6), 2, "<f4")
        f.create_dataset("fixed_array", data=data, chunks=(2, 4), shuffle=True, compression="gzip")
        record(name, "fixed_array", data)
        data = values((5, 4), 3, "<f4")
        f.create_dataset("fixed_array_unfiltered", data=data, chunks=(2, 2))
        record(name, "fixed_array_unfiltered", data)
        data = values((6,), 4, "<f4")
        f.create_dataset("contiguous", data=data)
        record(name, "contiguous", data)
        f.create_dataset("resizable", data=values((4,), 5, "<f4"), maxshape=(None,), chunks=(2,))
    entry = expected[name]
    entry["dense_group_links"] = [f"link_{i:02d}" for i in range(40)]
    entry["tracked_group_links"] = [f"t{i}" for i in range(12)]
    entry["dense_attributes"] = {f"attr_{i:02d}": f"value {i}" for i in range(40)}
    entry["ordered_attributes"] = {f"o{i}": f"fixed {i}" for i in range(20)}
    entry["many_attributes"] = {f"a{i:03d}": f"{i:03d}" + "x" * 100 for i in range(200)}


def v108():
    name = "v108.h5"
    with h5py.File(OUT / name, "w", libver=("v108", "v108")) as f:
        g = f.create_group("group")
        data = values((2, 2), 0, "<f4")
        g.create_dataset("data", data=data, chunks=(1, 2), compression="gzip")
        record(name, "group/data", data)


def keras_models():
    import keras

    def torch_layout(kind, param, w):
        if param == "kernel" and kind == "Conv2D":
            return w.transpose(3, 2, 0, 1)
        if param == "kernel" and kind == "DepthwiseConv2D":
            kh, kw, cin, m = w.shape
            return w.transpose(2, 3, 0, 1).reshape(cin * m, 1, kh, kw)
        if param == "kernel" and kind == "Dense":
            return w.T
        return w

    inner_in = keras.Input((5, 5, 2))
    y = keras.layers.Conv2D(3, 3, padding="same", name="inner_conv")(inner_in)
    inner = keras.Model(inner_in, y, name="inner.model")
    x_in = keras.Input((5, 5, 2))
    x = inner(x_in)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.DepthwiseConv2D(3, use_bias=False, name="dw")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dense(2, name="dense")(x)
    model = keras.Model(x_in, x, name="tiny")
    count = 0
    for layer in [inner.get_layer("inner_conv")] + model.layers[2:]:
        new = []
        for w in layer.get_weights():
            new.append(values(w.shape, count, np.float32))
            count += 1
        layer.set_weights(new)
    model.save(OUT / "keras3_model.h5")
    model.save(OUT / "keras3_model.keras")

    names = {"bn": ["weight", "bias", "running_mean", "running_var"]}
    state = {}
    for prefix, layer in [("inner.model.", inner.get_layer("inner_conv")), ("", model.get_layer("bn")),
                          ("", model.get_layer("dw")), ("", model.get_layer("dense"))]:
        kind = type(layer).__name__
        params = [v.path.split("/")[-1] for v in layer.weights]
        for i, (param, w) in enumerate(zip(params, layer.get_weights())):
            key = names[layer.name][i] if layer.name in names else ("weight" if param == "kernel" else param)
            t = torch_layout(kind, param, w)
            state[prefix + layer.name + "." + key] = {"shape": list(t.shape), "values": [float(v) for v in t.ravel()]}
    expected["keras3_model"] = {"state_dict": state, "keys": list(state)}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    layouts()
    strings()
    latest()
    v108()
    keras_models()
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")
    for p in sorted(OUT.iterdir()):
        print(f"{p.name}: {p.stat().st_size} bytes")


if __name__ == "__main__":
    main()
