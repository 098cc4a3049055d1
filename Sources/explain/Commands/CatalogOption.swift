import ArgumentParser
import CAMKit
import Foundation

/// `--zoo FILE`, shared by the commands that name models.
struct CatalogOption: ParsableArguments {
    @Option(name: .customLong("zoo"), help: ArgumentHelp("A zoo file (JSON) adding your own models to the built-in ones.", valueName: "file"))
    var zooFile: String?

    func catalog() throws -> ModelCatalog {
        try ModelCatalog(zooFile: zooFile.map { try ZooFile(contentsOf: URL(fileURLWithPath: $0)) })
    }
}

/// Prints to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
