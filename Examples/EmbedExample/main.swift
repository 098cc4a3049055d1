// Embedding CAMKit: explain one photo with one catalog model and write the overlay PNG.
//
//     swift run EmbedExample photo.jpg [model] [out.png]
//
// The model is a catalog name (built-in, e.g. `efficientnet-lite0`; fetch the weights with
// `make models`). Set CAMKIT_ZOO to a zoo file to name your own models too.
import CAMKit
import Foundation

let arguments = CommandLine.arguments.dropFirst()
guard let photoPath = arguments.first else {
    FileHandle.standardError.write(Data("usage: EmbedExample PHOTO [MODEL] [OUT.png]\n".utf8))
    exit(2)
}
let modelName = arguments.dropFirst().first ?? "efficientnet-lite0"
let outPath = arguments.dropFirst(2).first ?? "overlay.png"
do {
    let zoo = try ProcessInfo.processInfo.environment["CAMKIT_ZOO"].map { try ZooFile(contentsOf: URL(fileURLWithPath: $0)) }
    let model = try ModelCatalog(zooFile: zoo).descriptor(named: modelName).load()   // reads the weights
    let photo = try ImageDecoder().decode(contentsOf: URL(fileURLWithPath: photoPath))
    let explanation = try model.explain(photo, options: ExplainOptions(method: .gradcam, target: .top1, topK: 3))
    try explanation.overlay.writePNG(to: URL(fileURLWithPath: outPath))
    for p in explanation.top { print(p.label, String(format: "%.3f", p.probability)) }
    print("map of '\(explanation.targetLabel)' at \(explanation.layer) → \(outPath)")
} catch {
    FileHandle.standardError.write(Data("EmbedExample: \(error)\n".utf8))
    exit(1)
}
