/// A mistake found while loading `commands/` or `locales/`, pointing at where it is.
public struct GrammarDiagnostic: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// `commands/restart.cmd:7:12: unknown slot type 'resorce'`
    public var description: String { "\(file):\(line):\(column): \(message)" }
}

/// Loading failed; every mistake found is listed, not only the first.
public struct GrammarLoadError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [GrammarDiagnostic]

    public init(_ diagnostics: [GrammarDiagnostic]) { self.diagnostics = diagnostics }

    public var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }
}
