/// Stops the fuzzer when a reader fails in a way it promises never to: an error of a type
/// other than its documented one, or a message that does not name the input. libFuzzer
/// keeps such an input as a crash, like any trap.
public func expectClearError<E: Error & CustomStringConvertible>(_ error: Error, as type: E.Type, naming name: String) {
    guard let typed = error as? E else {
        fatalError("unexpected error type \(Swift.type(of: error)): \(error)")
    }
    guard typed.description.contains(name) else {
        fatalError("the error does not name the input '\(name)': \(typed.description)")
    }
}

/// Stops the fuzzer when a promise about a successful result is broken.
public func expect(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
