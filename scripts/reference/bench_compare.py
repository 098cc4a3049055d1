"""Swift against PyTorch on the same machine in the same run: convnextv2_base seed variants,
224x224, batch 1, random weights, 2 threads. Prints both medians and their ratio.

Run from the repo root (after `make venv`):  python scripts/reference/bench_compare.py [--repeats N]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Swift measurement -> the PyTorch mode it is compared with.
PAIRS = {"forward": "inference", "forward+gradient": "gradcam"}


def swift_runs(repeats: int, variants: str) -> dict:
    subprocess.run(["swift", "build", "-c", "release", "--product", "explain"], cwd=REPO, check=True)
    out = subprocess.run([str(REPO / ".build/release/explain"), "bench", "--json", "--repeats", str(repeats),
                          "--variants", variants], cwd=REPO, check=True, capture_output=True, text=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return {(r["variant"], r["measurement"]): r for r in rows}


def torch_runs(repeats: int, variants: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "torch.jsonl"
        subprocess.run([sys.executable, str(REPO / "scripts/reference/bench_torch.py"), "--repeats", str(repeats),
                        "--variants", variants, "--json", str(path)], cwd=REPO, check=True,
                       stdout=subprocess.DEVNULL)
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {(r["variant"], r["mode"]): r for r in rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--variants", default="cnn,cnn_mha,hybrid")
    args = ap.parse_args()
    swift = swift_runs(args.repeats, args.variants)
    torch = torch_runs(args.repeats, args.variants)
    print(f"{'variant':9}{'measurement':19}{'swift ms':>10}{'torch mode':>12}{'torch ms':>10}{'torch/swift':>13}")
    for (variant, measurement), s in swift.items():
        mode = PAIRS[measurement]
        t = torch.get((variant, mode))
        if t is None:
            continue
        torch_ms = t["median_s"] * 1e3
        print(f"{variant:9}{measurement:19}{s['median_ms']:10.1f}{mode:>12}{torch_ms:10.1f}{torch_ms / s['median_ms']:12.2f}x")
    for variant in args.variants.split(","):
        t = torch.get((variant, "frozen"))
        s = swift.get((variant, "forward+gradient"))
        if t and s:
            torch_ms = t["median_s"] * 1e3
            print(f"{variant:9}{'forward+gradient':19}{s['median_ms']:10.1f}{'frozen':>12}{torch_ms:10.1f}{torch_ms / s['median_ms']:12.2f}x")


if __name__ == "__main__":
    main()
