import Foundation

/// The ImageNet-1k tables, data files shipped with the library (`Zoo/Resources`, written by
/// scripts/reference/make_label_tables.py): line i is class i.
extension ModelZoo {
    /// The 1000 ImageNet-1k class names (torchvision's), in class-index order.
    public static let imagenet1kLabels = resourceLines("imagenet1k_labels", count: 1000)

    /// The WordNet id (`n02106166` = Border collie) of every ImageNet-1k class (timm's), in
    /// class-index order.
    public static let imagenet1kWordNetIDs = resourceLines("imagenet1k_wordnet_ids", count: 1000)
}

/// The lines of a text file among the library's resources. They ship beside the binary
/// (`CAMKit_CAMKit.resources`); without them the library cannot work, and says which file
/// it missed.
func resourceLines(_ name: String, count: Int) -> [String] {
    guard let url = Bundle.module.url(forResource: name, withExtension: "txt", subdirectory: "Resources"),
          let text = try? String(contentsOf: url, encoding: .utf8) else {
        fatalError("CAMKit's resource \(name).txt is missing from \(Bundle.module.bundlePath): install the resources bundle beside the binary")
    }
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0).map(String.init)
    guard lines.count == count else {
        fatalError("CAMKit's resource \(url.path) has \(lines.count) lines, not \(count)")
    }
    return lines
}
