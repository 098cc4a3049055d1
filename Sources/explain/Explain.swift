import ArgumentParser

@main
struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Class-activation heatmaps for image classifiers.",
        discussion: "`explain IMAGE...` runs the default subcommand `images`.",
        subcommands: [ExplainImages.self, Models.self, Layers.self, Bench.self, BenchCAM.self, BenchONNX.self, RenderDemo.self, GalleryCommands.self, Serve.self, Audit.self],
        defaultSubcommand: ExplainImages.self
    )
}
