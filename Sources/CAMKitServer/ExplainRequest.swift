import CAMKit
import Foundation
import Hummingbird

/// What `POST /explain` asks for, from its query parameters (the CLI's options, snake_case).
public struct ExplainRequest: Equatable, Sendable {
    public enum Format: String, Sendable, CaseIterable { case json, png }

    /// Model names; empty means every loaded model.
    public var models: [String] = []
    public var options = ExplainOptions()
    public var format: Format = .json

    public static let parameterNames = ["models", "model", "method", "layer", "target", "top_k", "aug_smooth",
                                        "eigen_smooth", "alpha", "compare", "finer_alpha", "format"]

    public init() {}

    /// Parses query parameters; unknown names and bad values are errors naming them.
    public init(query: [(key: String, value: String)]) throws {
        var seen = Set<String>()
        for (key, value) in query {
            guard Self.parameterNames.contains(key) else {
                throw APIError(.badRequest, "unknown parameter '\(key)'; parameters: \(Self.parameterNames.joined(separator: ", "))")
            }
            guard seen.insert(key).inserted else { throw APIError(.badRequest, "parameter '\(key)' given twice") }
            switch key {
            case "models", "model":
                let names = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                models = names == ["all"] ? [] : names
            case "method":
                options.method = try CAMMethodName(parsing: value)
            case "layer":
                options.layer = value.isEmpty ? nil : value
            case "target":
                options.target = try TargetSpec(parsing: value)
            case "top_k":
                guard let k = Int(value) else { throw APIError(.badRequest, "top_k must be an integer, got '\(value)'") }
                options.topK = k
            case "aug_smooth":
                options.augSmooth = try Self.bool(key, value)
            case "eigen_smooth":
                options.eigenSmooth = try Self.bool(key, value)
            case "alpha":
                guard let alpha = Float(value), alpha.isFinite else {
                    throw APIError(.badRequest, "alpha must be a number in [0, 1], got '\(value)'")
                }
                options.alpha = alpha
            case "compare":
                options.finer.comparisonRanks = try FinerSettings.ranks(parsing: value)
            case "finer_alpha":
                guard let alpha = Float(value), alpha.isFinite else {
                    throw APIError(.badRequest, "finer_alpha must be a number, got '\(value)'")
                }
                options.finer.alpha = alpha
            case "format":
                guard let format = Format(rawValue: value.lowercased()) else {
                    throw APIError(.badRequest, "format must be json or png, got '\(value)'")
                }
                self.format = format
            default:
                break
            }
        }
        if seen.contains("models") && seen.contains("model") {
            throw APIError(.badRequest, "give either 'models' or 'model', not both")
        }
        do {
            try options.validate()
        } catch let error as ExplainError {
            // The options name CLI flags (--top-k); answer with the parameter names.
            throw APIError(.badRequest, error.description.replacingOccurrences(of: "--top-k", with: "top_k")
                .replacingOccurrences(of: "--alpha", with: "alpha")
                .replacingOccurrences(of: "--finer-alpha", with: "finer_alpha").replacingOccurrences(of: "--compare", with: "compare"))
        }
    }

    /// `aug_smooth`, `aug_smooth=true|false|1|0|yes|no|on|off`.
    static func bool(_ key: String, _ value: String) throws -> Bool {
        switch value.lowercased() {
        case "", "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw APIError(.badRequest, "\(key) must be true or false, got '\(value)'")
        }
    }
}
