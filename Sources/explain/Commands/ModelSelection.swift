import ArgumentParser
import CAMKit
import Foundation

/// `--models`, `--zoo` and `--threads`: which models a command runs and on how many threads,
/// shared by `images` and `gallery`.
struct ModelSelection: ParsableArguments {
    @Option(help: ArgumentHelp("`all` (every model whose weights are present) or comma-separated model names (see `explain models`).",
                               valueName: "all|NAME,NAME"))
    var models = "all"

    @OptionGroup var catalog: CatalogOption

    @Option(help: ArgumentHelp("Threads to compute on (default: $CAMKIT_THREADS, else one per core); maps are bit-identical whatever the count.",
                               valueName: "n"))
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    /// The models that loaded, and how many did not: those are named on stderr and skipped,
    /// so one broken checkpoint does not stop the others, and the command still exits with 1.
    struct Loaded {
        let models: [ExplainableModel]
        let failures: Int
    }

    /// Loads the selected models and checks `options` against each before any photo is
    /// touched; models without weights are named on stderr with how to fetch them.
    /// - Parameter file: a model file to run instead of the selection.
    func load(checking options: ExplainOptions, file: ModelDescriptor? = nil) throws -> Loaded {
        if let threads { ComputeThreads.count = threads }
        let (available, missing) = try file.map { ([$0], []) } ?? catalog.catalog().select(models)
        for model in missing {
            printError("explain: \(model.name): no weights at \(model.weightsURL.path); \(model.fetchHint)")
        }
        guard !available.isEmpty else {
            throw RunError("no model to run: the weights of \(missing.map(\.name).joined(separator: ", ")) are missing (see above)")
        }
        var failures = 0
        let models = try available.compactMap { descriptor -> ExplainableModel? in
            let model: ExplainableModel
            do { model = try descriptor.load() } catch {
                printError("explain: \(descriptor.name): cannot be loaded, skipped: \(error)")
                failures += 1
                return nil
            }
            if let layer = options.layer {
                guard model.model.namedModules().contains(where: { $0.name == layer }) else {
                    throw RunError("model \(model.name) has no layer '\(layer)'; see `explain layers \(model.name)`")
                }
            }
            do { try options.target.validate(labels: model.labels) } catch {
                throw RunError("model \(model.name): target: \(error)")
            }
            return model
        }
        guard !models.isEmpty else { throw RunError("no model to run: none of the selected models could be loaded (see above)") }
        return Loaded(models: models, failures: failures)
    }
}

/// The CAM settings (`--method`, `--layer`, `--target`, `--top-k`, smoothing, `--alpha`),
/// shared by `images` and `gallery`.
struct CAMOptions: ParsableArguments {
    @Option(help: ArgumentHelp("CAM method: \(CAMMethodName.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "name"))
    var method = "gradcam"

    @Option(help: ArgumentHelp("Target layer for every model (default: each model's default layer; see `explain layers MODEL`).", valueName: "name"))
    var layer: String?

    @Option(help: ArgumentHelp("top1, a class INDEX, a LABEL, or A-vs-B (why A and not B).", valueName: "target"))
    var target = "top1"

    @Option(name: .customLong("top-k"), help: ArgumentHelp("How many predictions to list per model.", valueName: "k"))
    var topK = 5

    @Flag(name: .customLong("aug-smooth"), help: "Test-time augmentation smoothing (flips × brightness).")
    var augSmooth = false

    @Flag(name: .customLong("eigen-smooth"), help: "Keep the first principal component of the activations.")
    var eigenSmooth = false

    @Option(help: ArgumentHelp("Weight of the photo in the overlays, 0…1.", valueName: "a"))
    var alpha: Float = 0.5

    @Option(help: ArgumentHelp("Finer-CAM: ranks of the classes to compare against, by closeness of their score (1 = closest).", valueName: "ranks"))
    var compare = "1,2,3"

    @Option(name: .customLong("finer-alpha"), help: ArgumentHelp("Finer-CAM: how strongly the compared classes' scores are subtracted.", valueName: "a"))
    var finerAlpha: Float = 1

    /// Options parsed into the library's types; errors name the flag and list the choices.
    func explainOptions() throws -> ExplainOptions {
        let options = ExplainOptions(method: try CAMMethodName(parsing: method), layer: layer,
                                     target: try TargetSpec(parsing: target), topK: topK,
                                     augSmooth: augSmooth, eigenSmooth: eigenSmooth, alpha: alpha,
                                     finer: FinerSettings(comparisonRanks: try FinerSettings.ranks(parsing: compare), alpha: finerAlpha))
        try options.validate()
        return options
    }

    func validate() throws {
        do { _ = try explainOptions() } catch { throw ValidationError("\(error)") }
    }
}
