/// Errors of the explain API that are about what the caller asked for.
public enum ExplainError: Error, CustomStringConvertible, Equatable {
    case invalidOption(String)
    case unknownModel(String, known: [String])

    public var description: String {
        switch self {
        case .invalidOption(let why): why
        case .unknownModel(let name, let known): "unknown model '\(name)'; models: \(known.joined(separator: ", "))"
        }
    }
}
