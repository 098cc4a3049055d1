"""Write the ImageNet-1k tables that CAMKit ships as resources (Sources/CAMKit/Zoo/Resources):

  imagenet1k_labels.txt        torchvision's category names (torchvision.models._meta._IMAGENET_CATEGORIES)
  imagenet1k_wordnet_ids.txt   timm's WordNet ids (timm/data/_info/imagenet_synsets.txt)

One entry per line, line i = class id i. Run from the repo root in the reference venv:
  python scripts/reference/make_label_tables.py
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from torchvision.models._meta import _IMAGENET_CATEGORIES

OUT = Path(__file__).resolve().parent.parent.parent / "Sources" / "CAMKit" / "Zoo" / "Resources"


def main() -> None:
    synsets = resources.files("timm").joinpath("data/_info/imagenet_synsets.txt").read_text().split()
    assert len(_IMAGENET_CATEGORIES) == 1000 and len(synsets) == 1000
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "imagenet1k_labels.txt").write_text("\n".join(_IMAGENET_CATEGORIES) + "\n")
    (OUT / "imagenet1k_wordnet_ids.txt").write_text("\n".join(synsets) + "\n")


if __name__ == "__main__":
    main()
