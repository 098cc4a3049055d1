/// The three model variants of the case study, all on a ConvNeXt V2 backbone.
public enum SeedVariant: String, CaseIterable, Sendable {
    /// backbone → classifier
    case cnn
    /// backbone → attention → classifier
    case cnnMHA = "cnn_mha"
    /// backbone → morphological extractor and feature fusion → attention → classifier
    case hybrid
}

/// How the seed's attention mixes its value heads.
public enum SeedAttentionMode: String, CaseIterable, Sendable {
    /// The original `einsum("nqk,nvd->nqd")`: it sums over k and over v separately, so every
    /// head outputs the sum of the value heads and query/key have no effect. Trained
    /// checkpoints depend on it, so it is the default.
    case original
    /// The intended `einsum("nqk,nkd->nqd")`: each head a softmax-weighted mix of the values.
    case intended
}
