"""PyTorch reference modules for the seed's three model variants (DESIGN.md section 2).

This is the "original" code the Swift side (CAMKit) must match, key for key and bit for
bit in float32 up to arithmetic order. Variants:

    cnn      backbone -> classifier
    cnn_mha  backbone -> attention -> classifier
    hybrid   f = backbone(x); m = morphological_extractor(f);
             feature_fusion(cat[f, m, f*m]) -> attention -> classifier

Interpretations where DESIGN.md leaves a detail open (also listed in the README):
  * Only the modules a variant uses are instantiated (a `cnn` model has no `attention.*`
    keys; `cnn`/`cnn_mha` have no `morphological_extractor.*` / `feature_fusion.*` keys),
    so `load_state_dict(strict=True)` of a real checkpoint of that variant succeeds.
  * Registration (= state-dict key) order: backbone, attention, classifier,
    morphological_extractor, feature_fusion. Loaders go by name, so the order is cosmetic.
  * Attention: `fc_in` is applied to the input and query/key/value are computed from the
    `fc_in` output (the PawMatchAI reading); no residual around the block.
  * MFE: s = max(7, floor(sqrt((d/4)/64))); the dimension_transformer output (N, s*s*64)
    is `view`ed as (N, 64, s, s) (channel-major, as torch.view does). Each analyzer
    output is adaptive-avg-pooled to 1x1 and flattened to (N, 128). The five vectors are
    taken in the order body_proportion, head_features, tail_features, fur_features,
    color_pattern (nn.ModuleDict preserves insertion order) both for the stack
    (N, 5, 128) fed to feature_attention and for the concatenation (N, 640).
  * feature_attention = nn.MultiheadAttention(128, 8, batch_first=True) with dropout 0
    (dropout is irrelevant in eval); called as self-attention (q = k = v = stack); its
    output is computed and discarded.
  * All LayerNorms / BatchNorms use PyTorch's default eps (1e-5); the backbone's own norms
    keep timm's eps (1e-6).
"""
from __future__ import annotations

import math

import timm
import torch
import torch.nn as nn
import torch.nn.functional as F

VARIANTS = ("cnn", "cnn_mha", "hybrid")
ANALYZER_NAMES = ("body_proportion", "head_features", "tail_features", "fur_features", "color_pattern")
ANALYZER_KERNELS = (7, 5, 5, 3, 3)


def num_heads_for(d: int) -> int:
    return max(1, min(8, d // 64))


class MultiHeadAttention(nn.Module):
    """Attention across the heads of one feature vector (not across tokens).

    intended=False reproduces the original einsum "nqk,nvd->nqd", which sums over k and
    v independently: every head outputs sum_j v[n, j, :] and query/key get zero gradient.
    intended=True uses "nqk,nkd->nqd".
    """

    def __init__(self, d: int, num_heads: int | None = None, intended: bool = False):
        super().__init__()
        self.num_heads = num_heads_for(d) if num_heads is None else num_heads
        self.head_dim = d // self.num_heads
        self.scaled_dim = self.head_dim * self.num_heads
        self.intended = intended
        self.fc_in = nn.Linear(d, self.scaled_dim)
        self.query = nn.Linear(self.scaled_dim, self.scaled_dim)
        self.key = nn.Linear(self.scaled_dim, self.scaled_dim)
        self.value = nn.Linear(self.scaled_dim, self.scaled_dim)
        self.fc_out = nn.Linear(self.scaled_dim, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        x = self.fc_in(x)
        q = self.query(x).view(n, self.num_heads, self.head_dim)
        k = self.key(x).view(n, self.num_heads, self.head_dim)
        v = self.value(x).view(n, self.num_heads, self.head_dim)
        energy = torch.einsum("nqd,nkd->nqk", q, k)
        attention = F.softmax(energy / (self.head_dim ** 0.5), dim=2)
        if self.intended:
            out = torch.einsum("nqk,nkd->nqd", attention, v)
        else:
            out = torch.einsum("nqk,nvd->nqd", attention, v)  # the original (bug kept on purpose)
        out = out.reshape(n, self.scaled_dim)
        return self.fc_out(out)


def _analyzer(k: int, third_1x1: bool) -> nn.Sequential:
    layers = [
        nn.Conv2d(64, 128, kernel_size=k, padding=k // 2),
        nn.BatchNorm2d(128),
        nn.ReLU(),
        nn.Conv2d(128, 128, kernel_size=3, padding=1),
        nn.BatchNorm2d(128),
        nn.ReLU(),
    ]
    if third_1x1:
        layers += [nn.Conv2d(128, 128, kernel_size=1), nn.BatchNorm2d(128), nn.ReLU()]
    return nn.Sequential(*layers)


class MorphologicalFeatureExtractor(nn.Module):
    def __init__(self, d: int):
        super().__init__()
        self.spatial_size = max(7, int(math.floor(math.sqrt((d / 4) / 64))))
        s = self.spatial_size
        self.dimension_transformer = nn.Sequential(
            nn.Linear(d, s * s * 64),
            nn.LayerNorm(s * s * 64),
            nn.ReLU(),
        )
        self.morphological_analyzers = nn.ModuleDict({
            name: _analyzer(k, third_1x1=(name == "color_pattern"))
            for name, k in zip(ANALYZER_NAMES, ANALYZER_KERNELS)
        })
        self.feature_attention = nn.MultiheadAttention(128, 8, batch_first=True)
        self.relation_analyzer = nn.Sequential(
            nn.Linear(640, 256), nn.LayerNorm(256), nn.ReLU(),
            nn.Linear(256, 128), nn.LayerNorm(128), nn.ReLU(),
        )
        self.feature_integrator = nn.Sequential(
            nn.Linear(768, d), nn.LayerNorm(d), nn.ReLU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        s = self.spatial_size
        spatial = self.dimension_transformer(x).view(n, 64, s, s)
        vectors = []
        for name in ANALYZER_NAMES:
            feat = self.morphological_analyzers[name](spatial)
            vectors.append(F.adaptive_avg_pool2d(feat, (1, 1)).view(n, -1))
        stacked = torch.stack(vectors, dim=1)  # (N, 5, 128)
        _attended, _ = self.feature_attention(stacked, stacked, stacked)  # computed, discarded
        combined = torch.cat(vectors, dim=1)  # (N, 640)
        relation = self.relation_analyzer(combined)  # (N, 128)
        integrated = self.feature_integrator(torch.cat([combined, relation], dim=1))
        return integrated + x


class SeedModel(nn.Module):
    def __init__(self, backbone: nn.Module, variant: str, num_classes: int = 124,
                 intended_attention: bool = False):
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"unknown variant {variant!r}")
        self.variant = variant
        self.backbone = backbone
        d = backbone.num_features
        self.feature_dim = d
        if variant in ("cnn_mha", "hybrid"):
            self.attention = MultiHeadAttention(d, intended=intended_attention)
        self.classifier = nn.Sequential(
            nn.LayerNorm(d),
            nn.Dropout(0.3),
            nn.Linear(d, num_classes),
        )
        if variant == "hybrid":
            self.morphological_extractor = MorphologicalFeatureExtractor(d)
            self.feature_fusion = nn.Sequential(
                nn.Linear(3 * d, d), nn.LayerNorm(d), nn.ReLU(),
                nn.Linear(d, d), nn.LayerNorm(d), nn.ReLU(),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.backbone(x)
        if self.variant == "cnn":
            return self.classifier(f)
        if self.variant == "cnn_mha":
            return self.classifier(self.attention(f))
        m = self.morphological_extractor(f)
        fused = self.feature_fusion(torch.cat([f, m, f * m], dim=1))
        return self.classifier(self.attention(fused))


def build_seed_model(backbone: str | nn.Module, variant: str, num_classes: int = 124,
                     intended_attention: bool = False) -> SeedModel:
    """backbone: a timm model name (created with num_classes=0, pretrained=False) or a module."""
    if isinstance(backbone, str):
        backbone = timm.create_model(backbone, pretrained=False, num_classes=0)
    model = SeedModel(backbone, variant, num_classes, intended_attention)
    return model.eval()


def build_small_backbone() -> nn.Module:
    """The small custom ConvNeXt V2 used by the real-format checkpoint fixtures."""
    from timm.models.convnext import ConvNeXt
    return ConvNeXt(depths=(1, 1, 2, 1), dims=(8, 16, 32, 64), use_grn=True,
                    ls_init_value=None, conv_mlp=False, num_classes=0)
