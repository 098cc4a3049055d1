import Foundation

/// Comma-separated values as RFC 4180 has them: fields in double quotes may hold commas,
/// line breaks and doubled quotes (`""`). Used to read label files and write `results.csv`.
public enum CSV {
    /// One parsed row and the line of the file it starts on (1-based).
    public struct Row: Equatable, Sendable {
        public var fields: [String]
        public var line: Int
    }

    public struct ParseError: Error, Equatable, Sendable {
        public var line: Int
        public var reason: String
    }

    /// Parses `text` into rows; blank lines are skipped. A leading byte-order mark and CRLF
    /// line ends are accepted.
    public static func parse(_ text: String) throws -> [Row] {
        var rows: [Row] = []
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var fieldWasQuoted = false
        var afterQuote = false
        var line = 1
        var rowLine = 1
        var quoteLine = 1
        var scalars = Array(text.unicodeScalars)
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        var i = 0

        func endRow() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty && !fieldWasQuoted) {
                rows.append(Row(fields: fields, line: rowLine))
            }
            fields = []; field = ""; fieldWasQuoted = false; afterQuote = false
        }

        while i < scalars.count {
            let c = scalars[i]
            if inQuotes {
                if c == "\"" {
                    if i + 1 < scalars.count && scalars[i + 1] == "\"" {
                        field.unicodeScalars.append("\""); i += 1
                    } else {
                        inQuotes = false; afterQuote = true
                    }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
            } else {
                switch c {
                case ",":
                    fields.append(field); field = ""; fieldWasQuoted = false; afterQuote = false
                case "\r" where i + 1 < scalars.count && scalars[i + 1] == "\n":
                    break
                case "\n", "\r":
                    endRow(); line += 1; rowLine = line
                case "\"":
                    guard field.isEmpty && !fieldWasQuoted else {
                        throw ParseError(line: line, reason: "a quote inside an unquoted field (quote the whole field and double the quote)")
                    }
                    inQuotes = true; fieldWasQuoted = true; quoteLine = line
                default:
                    guard !afterQuote else {
                        throw ParseError(line: line, reason: "text after the closing quote of a field")
                    }
                    field.unicodeScalars.append(c)
                }
            }
            i += 1
        }
        if inQuotes { throw ParseError(line: quoteLine, reason: "a quoted field is never closed") }
        if !field.isEmpty || !fields.isEmpty || fieldWasQuoted { endRow() }
        return rows
    }

    /// One field as written: quoted when it holds a comma, quote or line break.
    public static func escape(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A row of fields, ending in a line break.
    public static func line(_ fields: [String]) -> String {
        fields.map(escape).joined(separator: ",") + "\n"
    }
}
