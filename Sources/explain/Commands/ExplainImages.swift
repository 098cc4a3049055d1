import ArgumentParser
import CAMKit
import Foundation

/// The default command: explains photos with one or more models, writing a panel per photo,
/// an overlay per (photo, model), and optionally JSON lines and `.npy` dumps.
struct ExplainImages: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "images",
        abstract: "Explain photos: a panel per photo and an overlay per model (the default subcommand).",
        discussion: """
            Writes <out>/<stem>.panel.<format> (the photo and one overlay per model, with the top-k \
            predictions) and <out>/<stem>.<model>.png for every photo. Photos that cannot be decoded \
            are reported on stderr; the others are still explained, and the exit status is then 1.
            """)

    @Argument(help: "JPEG or PNG photos.")
    var images: [String]

    @OptionGroup var selection: ModelSelection

    @OptionGroup var file: ModelFileOption

    @OptionGroup var cam: CAMOptions

    @OptionGroup var decoding: DecodingOption

    @Option(help: ArgumentHelp("Panel format (overlays are always PNG).", valueName: "png|svg|pdf"))
    var format = "png"

    @Option(help: ArgumentHelp("Folder to write into (created if missing).", valueName: "dir"))
    var out = "out"

    @Flag(help: "Print one JSON object per (photo, model) on stdout instead of the text summary.")
    var json = false

    @Option(help: ArgumentHelp("Also write the input tensor, the logits and the low-resolution map as .npy files into this folder.", valueName: "dir"))
    var dump: String?

    func validate() throws {
        var stems: [String: String] = [:]
        for path in images {
            let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            if let other = stems.updateValue(path, forKey: stem) {
                throw ValidationError("\(other) and \(path) would write the same files (<out>/\(stem).*); rename one")
            }
        }
        guard RenderFormat(rawValue: format.lowercased()) != nil else {
            throw ValidationError("unknown format '\(format)'; formats: png, svg, pdf")
        }
    }

    func run() throws {
        let options = try cam.explainOptions()
        let renderFormat = RenderFormat(rawValue: format.lowercased())!
        let loaded = try selection.load(checking: options, file: try file.descriptor())

        let outFolder = URL(fileURLWithPath: out, isDirectory: true)
        try FileManager.default.createDirectory(at: outFolder, withIntermediateDirectories: true)
        let dumpFolder = dump.map { URL(fileURLWithPath: $0, isDirectory: true) }
        if let dumpFolder { try FileManager.default.createDirectory(at: dumpFolder, withIntermediateDirectories: true) }

        var failures = 0
        let decoder = decoding.decoder()
        for path in images {
            let url = URL(fileURLWithPath: path)
            let photo: RGBImage
            do { photo = try decoder.decode(contentsOf: url) } catch {
                printError("explain: \(path): \(error)")
                failures += 1
                continue
            }
            let stem = url.deletingPathExtension().lastPathComponent
            let panelURL = outFolder.appendingPathComponent("\(stem).panel.\(renderFormat.fileExtension)")
            var columns: [PanelColumn] = []
            var records: [[String: Any]] = []
            for model in loaded.models {
                let explanation = try model.explain(photo, options: options)
                let overlayURL = outFolder.appendingPathComponent("\(stem).\(model.name).png")
                try explanation.overlay.writePNG(to: overlayURL)
                columns.append(PanelColumn(title: model.name, label: explanation.top[0].label,
                                           confidence: explanation.confidence, image: explanation.overlay,
                                           topK: explanation.top.map { ($0.label, $0.probability) }))
                var record: [String: Any] = [
                    "image": path, "model": model.name, "method": explanation.method.rawValue, "layer": explanation.layer,
                    "target_index": explanation.targetIndex, "target_label": explanation.targetLabel,
                    "versus_index": explanation.versusIndex.map { $0 as Any } ?? NSNull(),
                    "versus_label": explanation.versusIndex.map { model.labels[$0] as Any } ?? NSNull(),
                    "top": explanation.top.map { ["index": $0.index, "label": $0.label, "probability": $0.probability] },
                    "confidence": explanation.confidence,
                    "elapsed_ms": explanation.elapsedMilliseconds,
                    "files": ["overlay": overlayURL.path, "panel": panelURL.path],
                ]
                if let dumpFolder {
                    let base = "\(stem).\(model.name)"
                    var files: [String: String] = [:]
                    for (kind, tensor) in [("input", explanation.input), ("logits", explanation.logits),
                                           ("cam", explanation.lowResolutionMap)] {
                        let url = dumpFolder.appendingPathComponent("\(base).\(kind).npy")
                        try NumpyFile.write(tensor, to: url)
                        files[kind] = url.path
                    }
                    record["dump"] = files
                }
                records.append(record)
                if !json {
                    print("\(path)  \(model.name)  \(explanation.top[0].label) \(String(format: "%.1f %%", explanation.confidence * 100))"
                        + "  → \(overlayURL.path)")
                }
            }
            let panel = Panel(photo: photo, photoTitle: url.lastPathComponent, columns: columns)
            try panel.write(to: panelURL, format: renderFormat)
            if json {
                for record in records {
                    let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys, .withoutEscapingSlashes])
                    print(String(decoding: data, as: UTF8.self))
                }
            } else {
                print("\(path)  panel  → \(panelURL.path)")
            }
        }
        if failures > 0 {
            printError("explain: \(failures) of \(images.count) image(s) could not be decoded")
        }
        if failures > 0 || loaded.failures > 0 { throw ExitCode(1) }
    }
}

/// A reason the run cannot go on, printed as `Error: …` with exit status 1.
struct RunError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
