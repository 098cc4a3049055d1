import ArgumentParser

@main
struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Class-activation heatmaps for image classifiers.",
        subcommands: [Bench.self, BenchCAM.self, Zoo.self, RenderDemo.self, Serve.self]
    )
}
