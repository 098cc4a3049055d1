"""Seeded weights v1 (Fixtures/README.md): deterministic weights from state-dict keys.

Vectorised with numpy uint64 wrapping arithmetic. The Swift side implements the same
rule independently; both must agree bit for bit.
"""
from __future__ import annotations

import numpy as np

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK64 = (1 << 64) - 1
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)


def fnv1a64(key: str) -> int:
    h = FNV_OFFSET
    for b in key.encode("utf-8"):
        h ^= b
        h = (h * FNV_PRIME) & MASK64
    return h


def uniform(key: str, numel: int, seed: int = 0) -> np.ndarray:
    """u in [-1, 1) as float64 (exactly representable in float32), one per element."""
    base = np.uint64(fnv1a64(key) ^ (seed & MASK64))
    with np.errstate(over="ignore"):
        i1 = np.arange(1, numel + 1, dtype=np.uint64)
        x = base + i1 * GOLDEN
        z = (x ^ (x >> np.uint64(30))) * MIX1
        z = (z ^ (z >> np.uint64(27))) * MIX2
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float64) * 2.0 ** -23 - 1.0


def seeded_value(key: str, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """float32 array of `shape` for state-dict entry `key` (float entries only)."""
    shape = tuple(int(s) for s in shape)
    numel = int(np.prod(shape, dtype=np.int64)) if shape else 1
    u = uniform(key, numel, seed)
    if key.endswith("running_var"):
        v = 1.0 + 0.5 * u
    elif key.endswith("running_mean"):
        v = 0.1 * u
    elif len(shape) == 1 and key.endswith("weight"):
        v = 1.0 + 0.1 * u
    elif len(shape) == 1:
        v = 0.1 * u
    else:
        v = u / np.sqrt(float(numel // shape[0]))
    return v.astype(np.float32).reshape(shape)


def seeded_input(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    numel = int(np.prod(shape))
    return uniform("input", numel, seed).astype(np.float32).reshape(shape)


def seeded_state_dict(model, seed: int = 0):
    """A state dict with every floating entry generated; integer entries (num_batches_tracked) kept."""
    import torch
    out = {}
    for k, v in model.state_dict().items():
        if v.is_floating_point():
            out[k] = torch.from_numpy(seeded_value(k, tuple(v.shape), seed)).to(v.dtype)
        else:
            out[k] = v.clone()
    return out
