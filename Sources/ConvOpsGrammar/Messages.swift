import Foundation

/// Every sentence the bot says, per locale, from `locales/LOCALE.json`:
/// `{"locale": "en", "messages": {"key": "text with {placeholders}"}}`.
public struct Messages: Sendable {
    public let locale: String
    private let table: [String: String]
    /// Each template split once into literal text and placeholder names.
    private let segments: [String: [Segment]]

    enum Segment: Sendable {
        case literal(String)
        case placeholder(String)
    }

    init(locale: String, table: [String: String]) {
        self.locale = locale
        self.table = table
        segments = table.mapValues(Self.split)
    }

    static func split(_ template: String) -> [Segment] {
        var out: [Segment] = []
        var literal: [UInt8] = []
        let bytes = Array(template.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0x7B, let close = bytes[(i + 1)...].firstIndex(of: 0x7D), close > i + 1,
               bytes[(i + 1)..<close].allSatisfy({ $0 == 0x5F || Tokenizer.isAlnum($0) }) {
                if !literal.isEmpty { out.append(.literal(String(decoding: literal, as: UTF8.self))); literal = [] }
                out.append(.placeholder(String(decoding: bytes[(i + 1)..<close], as: UTF8.self)))
                i = close + 1
            } else {
                literal.append(bytes[i])
                i += 1
            }
        }
        if !literal.isEmpty { out.append(.literal(String(decoding: literal, as: UTF8.self))) }
        return out
    }

    public func has(_ key: String) -> Bool { table[key] != nil }

    public var keys: Set<String> { Set(table.keys) }

    /// The message for `key` with `{name}` placeholders filled in. A missing key renders as
    /// the key itself so nothing is silently dropped; `Grammar.load` checks keys up front.
    /// 10000 as this locale writes it: "10,000" in English, "10.000" in German (the locale's
    /// `number.group_separator`), with no locale data loaded.
    public func number(_ n: Int) -> String {
        let separator = table["number.group_separator"] ?? ","
        let digits = String(n.magnitude)
        var out = n < 0 ? "-" : ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out += separator }
            out.append(c)
        }
        return out
    }

    public func text(_ key: String, _ arguments: [String: String] = [:]) -> String {
        guard let parts = segments[key] else { return key }
        if arguments.isEmpty { return table[key]! }
        var out = ""
        for part in parts {
            switch part {
            case .literal(let text): out += text
            case .placeholder(let name): out += arguments[name] ?? "{\(name)}"
            }
        }
        return out
    }

    static func load(path: String, diagnostics: inout [GrammarDiagnostic]) -> (Messages, Lexicon)? {
        let name = (path as NSString).lastPathComponent
        let expected = (name as NSString).deletingPathExtension
        guard let data = FileManager.default.contents(atPath: path) else {
            diagnostics.append(GrammarDiagnostic(file: path, line: 1, column: 1, message: "cannot read the file"))
            return nil
        }
        struct File: Decodable { var locale: String; var messages: [String: String]; var grammar: Lexicon? }
        do {
            let file = try JSONDecoder().decode(File.self, from: data)
            guard file.locale == expected else {
                diagnostics.append(GrammarDiagnostic(file: path, line: 1, column: 1,
                    message: "file says locale '\(file.locale)' but is named '\(name)'"))
                return nil
            }
            return (Messages(locale: file.locale, table: file.messages), file.grammar ?? Lexicon())
        } catch {
            // JSONSerialization reports where the syntax breaks; JSONDecoder on Linux does not.
            // Asked only when decoding failed: reading every file twice cost start-up time.
            do {
                _ = try JSONSerialization.jsonObject(with: data)
            } catch {
                let (line, column) = Self.position(of: error, in: data)
                diagnostics.append(GrammarDiagnostic(file: path, line: line, column: column, message: "not valid JSON"))
                return nil
            }
            let (line, column) = Self.position(of: error, in: data)
            diagnostics.append(GrammarDiagnostic(file: path, line: line, column: column,
                message: "not a locale file ({\"locale\": …, \"messages\": {…}, \"grammar\": {…}}): \(Self.describe(error))"))
            return nil
        }
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let c): c.underlyingError.map { "\($0.localizedDescription)" } ?? c.debugDescription
        case DecodingError.keyNotFound(let key, _): "missing key '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let c): "wrong type at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
        default: "\(error)"
        }
    }

    /// Foundation reports JSON syntax errors with a character offset in the message; turn it
    /// into a line and column where we can.
    private static func position(of error: Error, in data: Data) -> (Int, Int) {
        let text = "\(error) \((error as NSError).userInfo)"
        guard let r = text.range(of: #"character (\d+)"#, options: .regularExpression),
              let offset = Int(text[r].dropFirst("character ".count)) else { return (1, 1) }
        var line = 1, column = 1
        for (i, byte) in data.enumerated() where i < offset {
            if byte == UInt8(ascii: "\n") { line += 1; column = 1 } else { column += 1 }
        }
        return (line, column)
    }
}
