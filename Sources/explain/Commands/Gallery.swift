import ArgumentParser
import CAMKit
import Foundation

/// Explains a folder of photos with every selected model and builds a gallery: per-photo
/// panels and overlays, per-model statistics and the case-study charts, in one HTML page.
struct Gallery: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Explain many photos with every model and build an HTML gallery with statistics.",
        discussion: """
            Folders are expanded to their JPEG and PNG files (by content; other files are skipped), sorted by name. \
            The gallery folder gets index.html (opens from disk, no network), results.csv, results.json, \
            the case-study charts (the confidence comparison in pages of 50 photos) and images/<photo>/ with the panel \
            and one overlay per model. Each photo's results go to results.csv and progress.jsonl as it finishes; \
            the page, the charts and results.json are refreshed every 10 s and at the end. A killed run loses at most \
            the photos in flight (at most twice --jobs); --resume keeps the photos an earlier run into the same --out finished. \
            Files that cannot be read are listed in the gallery and make the exit status 1. \
            --shard K/N (or --shards N with JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID set) explains only the photos \
            whose file name hashes to shard K, into its own --out with a shard.json; `explain gallery merge` joins the shards. \
            --metrics confidence adds, per photo and model, the drop and increase in confidence of the explained class when \
            only the map's region is kept (pytorch-grad-cam's DropInConfidence and IncreaseInConfidence on the class \
            probability, in percentage points); --metrics all adds the pointing game on photos with a bbox in --labels and \
            ROAD combined. They go to results.csv and results.json, and their per-model means are printed at the end.
            """)

    @Argument(help: ArgumentHelp("A folder of photos, or photo files.", valueName: "dir|files"))
    var inputs: [String]

    @OptionGroup var selection: ModelSelection

    @OptionGroup var cam: CAMOptions

    @OptionGroup var decoding: DecodingOption

    @OptionGroup var sharding: ShardOption

    @Option(help: ArgumentHelp("A CSV with 'file' and 'breed' columns (optionally 'imagenet_synset', and 'bbox' as "
                               + "'x0 y0 x1 y1' in photo pixels): the true labels.", valueName: "csv"))
    var labels: String?

    @Option(help: ArgumentHelp("One true label for every photo.", valueName: "name"))
    var label: String?

    @Option(help: ArgumentHelp("Gallery folder (created if missing).", valueName: "dir"))
    var out: String

    @Flag(help: "Keep the photos an earlier run into --out finished; explain only the rest.")
    var resume = false

    @Option(help: ArgumentHelp("Photos decoded, explained, drawn and encoded at once (default: one per core). "
                               + "Results and pictures are those of --jobs 1.", valueName: "n"))
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: ArgumentHelp("Largest side of the overlay PNGs, in pixels; 0 keeps the photo's size. "
                               + "Overlays are drawn at the photo's size and scaled down (bicubic).", valueName: "px"))
    var maxOverlaySide: Int = 1600

    @Option(help: ArgumentHelp("Quality measures of every map: none; confidence (drop and increase in confidence, "
                               + "2 more inputs per photo and model); all (also the pointing game on labelled boxes and ROAD, 20).",
                               valueName: "none|confidence|all"))
    var metrics = "none"

    func validate() throws {
        if labels != nil && label != nil { throw ValidationError("use either --labels or --label, not both") }
        if inputs.isEmpty { throw ValidationError("name a folder or photo files") }
        if jobs < 1 { throw ValidationError("--jobs \(jobs): at least 1 photo must be worked on at a time") }
        if maxOverlaySide < 0 { throw ValidationError("--max-overlay-side \(maxOverlaySide): give a size in pixels, or 0 to keep the photo's size") }
    }

    func run() throws {
        let options = try cam.explainOptions()
        let metricSet = try GalleryMetricSet(parsing: metrics)
        let truth: (String) -> GroundTruth?
        if let labels {
            let file = try LabelsFile(contentsOf: URL(fileURLWithPath: labels))
            truth = { file.truth(forFile: $0) }
        } else if let label {
            let fixed = GroundTruth(breed: label)
            truth = { _ in fixed }
        } else {
            truth = { _ in nil }
        }
        var photos = try GalleryInputs.expand(inputs)
        guard !photos.isEmpty else { throw GalleryError.noPictures(inputs) }
        let shard = try sharding.resolve()
        let loaded = try selection.load(checking: options)
        if let shard {
            let manifest = GalleryShardManifest(shard: shard, all: photos, models: try ShardOption.identities(of: loaded.models, in: selection),
                                                method: options.method.rawValue, layer: options.layer, target: cam.target,
                                                metrics: metricSet.rawValue)
            try manifest.write(to: URL(fileURLWithPath: out, isDirectory: true), resume: resume)
            photos = manifest.photoURLs
        }

        let run = GalleryRun(models: loaded.models, options: options, targetText: cam.target, output: URL(fileURLWithPath: out, isDirectory: true))
        run.truth = truth
        run.decoder = decoding.decoder()
        run.jobs = jobs
        run.overlayMaxSide = maxOverlaySide
        run.metrics = metricSet
        let bar = ProgressBar(enabled: isatty(2) != 0)
        run.progress = { bar.update($0) }
        let outcome = try run.run(photos, resume: resume)
        bar.finish()

        let index = URL(fileURLWithPath: out).appendingPathComponent(GalleryWriter.index).path
        print("\(index): \(outcome.results.images.count) photo(s), \(outcome.explained) explained now, \(outcome.reused) kept from before, \(outcome.bad.count) bad")
        printMetricMeans(outcome.results)
        for image in outcome.bad {
            FileHandle.standardError.write(Data("error: \(image.source): \(image.error ?? "")\n".utf8))
        }
        if !outcome.bad.isEmpty || loaded.failures > 0 { throw ExitCode(1) }
    }
}

/// One line per model with the means of the metrics the gallery computed (none without metrics).
func printMetricMeans(_ results: GalleryResults) {
    for means in results.metricMeans where means.confidenceCount > 0 {
        func percent(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "-" }
        var line = "\(means.model): average drop \(percent(means.averageDrop)) percentage points, increase in confidence "
            + "\(percent(means.increaseInConfidence))% (\(means.confidenceCount) photo(s))"
        if means.roadCount > 0 { line += ", ROAD combined \(percent(means.roadCombined)) percentage points" }
        if means.pointingCount > 0 { line += ", pointing game \(percent(means.pointingAccuracy))% (\(means.pointingCount) photo(s) with a box)" }
        print(line)
    }
}

/// `done/total, rate, ETA` on one stderr line, redrawn in place; silent when stderr is not a terminal.
final class ProgressBar {
    let enabled: Bool
    private let start = Date()
    private var drawn = false

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ p: GalleryProgress) {
        guard enabled else { return }
        let width = 24
        let filled = p.total == 0 ? width : width * p.done / p.total
        let elapsed = Date().timeIntervalSince(start)
        let worked = p.done - p.reused
        let rate = elapsed > 0 ? Double(worked) / elapsed : 0
        let eta = rate > 0 ? Self.clock(Double(p.total - p.done) / rate) : "--:--"
        let line = "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
            + "\(p.done)/\(p.total)  \(String(format: "%.2f", rate)) photos/s  ETA \(eta)  \(p.file.prefix(40))"
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
        drawn = true
    }

    func finish() {
        if enabled && drawn { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
