import ArgumentParser

/// `explain gallery`: a gallery of a folder (`build`, the default, so `explain gallery DIR` builds
/// one), or one gallery from the shards of a run (`merge`).
struct GalleryCommands: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gallery",
        abstract: "Explain many photos with every model and build an HTML gallery with statistics; merge gallery shards.",
        subcommands: [Gallery.self, GalleryMergeCommand.self],
        defaultSubcommand: Gallery.self)
}
