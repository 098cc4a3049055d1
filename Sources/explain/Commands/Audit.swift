import ArgumentParser
import CAMKit
import Foundation

/// `explain audit MODEL --photos DIR`: the sanity checks and faithfulness metrics per method.
struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check whether each method's maps depend on the model and are faithful to it.",
        discussion: """
            For every photo and method: the model-parameter randomisation (cascading from the output) and \
            random-logit sanity checks, ROAD and deletion/insertion. Writes <out>/index.html and <out>/audit.json \
            and prints the table.
            """)

    @Argument(help: "The model (see `explain models`).")
    var model: String

    @Option(help: ArgumentHelp("A folder of photos.", valueName: "dir"))
    var photos: String

    @Option(help: ArgumentHelp("Comma-separated methods.", valueName: "names"))
    var methods = "gradcam,gradcam++,layercam,scorecam,finercam"

    @Option(help: ArgumentHelp("Finer-CAM: ranks of the compared classes.", valueName: "ranks"))
    var compare = "1,2,3"

    @Option(name: .customLong("cascade-steps"), help: ArgumentHelp("Randomise only this many units from the output (default: all).", valueName: "n"))
    var cascadeSteps: Int?

    @Flag(help: "Also randomise every unit on its own (slower).")
    var independent = false

    @Option(help: ArgumentHelp("Seed of every random draw.", valueName: "n"))
    var seed: UInt32 = 0

    @OptionGroup var catalog: CatalogOption

    @Option(help: ArgumentHelp("Folder to write into (created if missing).", valueName: "dir"))
    var out = "out/audit"

    func run() throws {
        let names = try methods.split(separator: ",").map { try CAMMethodName(parsing: String($0).trimmingCharacters(in: .whitespaces)) }
        let (available, missing) = try catalog.catalog().select(model)
        guard let descriptor = available.first else {
            throw RunError("model \(model): no weights\(missing.first.map { " at \($0.weightsURL.path); \($0.fetchHint)" } ?? "")")
        }
        let loaded = try descriptor.load()
        let files = try GalleryInputs.expand([photos])
        guard !files.isEmpty else { throw RunError("no JPEG or PNG photos in \(photos)") }
        var audit = ModelAudit(model: loaded, methods: names, finer: FinerSettings(comparisonRanks: try FinerSettings.ranks(parsing: compare)),
                               seed: seed, cascadeSteps: cascadeSteps, independent: independent)
        audit.progress = { photo, method in printError("audit: \(method.rawValue) on \(photo)") }
        let start = Date()
        let summaries = try audit.run(files)
        try audit.write(summaries, photos: files.count, to: URL(fileURLWithPath: out, isDirectory: true))
        print(ModelAudit.table(summaries))
        print(String(format: "%d photos, %.1f s; wrote %@/index.html and audit.json", files.count, Date().timeIntervalSince(start), out))
    }
}
