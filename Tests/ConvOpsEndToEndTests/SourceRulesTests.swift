import Foundation
import Testing

/// Shapes of code that this toolchain compiles wrongly at -O, kept out of the sources.
@Suite struct SourceRulesTests {
    /// `return (index, .success(try await f()))` in a task child or `Task {}` body loses the
    /// parts of the tuple stored before the await in the release build (Result+Awaiting.swift).
    @Test func noTupleIsBuiltAroundAnAwait() throws {
        var offenders: [String] = []
        var scanned: [String] = []
        for directory in ["Sources", "Benchmarks"] {
            let base = repositoryRoot + "/" + directory
            let walker = try #require(FileManager.default.enumerator(atPath: base), "\(base) cannot be read")
            for case let path as String in walker where path.hasSuffix(".swift") {
                scanned.append(path)
                let text = try String(contentsOfFile: base + "/" + path, encoding: .utf8)
                offenders += TupleAroundAwait.find(in: text).map { "\(directory)/\(path): \($0)" }
            }
        }
        #expect(scanned.contains("ConvOpsAWS/ResourceSearch.swift"), "the scan read \(scanned.count) files")
        #expect(scanned.count > 100)
        #expect(offenders.isEmpty, "await into a local first, then build the tuple:\n\(offenders.joined(separator: "\n"))")
    }

    @Test func theScannerSeesTheShapeInEverySpelling() {
        let bad = [
            "do throws(E) { return (index, .success(try await body(place))) }",
            "let pair = (i, try await fetch(i))",
            "return (index,\n    .success(try await f()))",
            "return try (index, await f())",
            "return await (index, f())",
            "return (Int(i), try await f())",
            "group.addTask { (i, try await f()) }",
            "items.map { x in (x, await f(x)) }",
        ]
        for code in bad { #expect(!TupleAroundAwait.find(in: code).isEmpty, "\(code)") }
        let fine = [
            "let result = await Result { try await f() }; return (index, result)",
            "return (index, result)",
            "try await send(method, body, token: botToken)",
            "call(a, try await f())",
            "// return (index, try await f())",
            "let s = \"return (a, await b)\"",
        ]
        for code in fine { #expect(TupleAroundAwait.find(in: code).isEmpty, "\(code)") }
    }
}

/// Finds tuple literals with `await` after their first element: `(a, await b)` where the
/// parenthesis opens a value (after `return`, `=`, `{`, `in`, optionally `try`/`await`), not
/// a call's arguments. Comments and string literals are blanked first; parentheses are
/// balanced across lines.
enum TupleAroundAwait {
    static func find(in source: String) -> [String] {
        let code = Array(blankCommentsAndStrings(source))
        var found: [String] = []
        var i = 0
        while i < code.count {
            guard code[i] == "(", let awaited = opensValue(code, before: i) else { i += 1; continue }
            // Scan to the matching parenthesis, noting a top-level comma and an await after it.
            var depth = 0, j = i, comma = false, awaitAfterComma = false
            while j < code.count {
                let c = code[j]
                if c == "(" || c == "[" || c == "{" { depth += 1 }
                if c == ")" || c == "]" || c == "}" { depth -= 1; if depth == 0 { break } }
                if c == ",", depth == 1 { comma = true }
                if comma, word(code, at: j) == "await" { awaitAfterComma = true }
                j += 1
            }
            // `await (index, f())`: the await covers every element, so any comma counts.
            if awaitAfterComma || (awaited && comma) {
                let line = code[..<i].filter { $0 == "\n" }.count + 1
                found.append("line \(line): \(String(code[i..<min(j + 1, code.count)]).split(separator: "\n").joined(separator: " "))")
            }
            i += 1
        }
        return found
    }

    /// Whether the `(` at `index` starts a value rather than a call's argument list: nil if
    /// not, else whether an `await` stands before it (`return await (…)`).
    private static func opensValue(_ code: [Character], before index: Int, awaited: Bool = false) -> Bool? {
        var k = index - 1
        while k >= 0, code[k] == " " || code[k] == "\n" || code[k] == "\t" { k -= 1 }
        guard k >= 0 else { return awaited }
        if code[k] == "=" || code[k] == "{" { return awaited }
        var start = k
        while start > 0, code[start - 1].isLetter { start -= 1 }
        let previous = String(code[start...k])
        if previous == "try" || previous == "await" { return opensValue(code, before: start, awaited: awaited || previous == "await") }
        return previous == "return" || previous == "in" ? awaited : nil
    }

    private static func word(_ code: [Character], at j: Int) -> String? {
        guard code[j] == "a", j == 0 || !(code[j - 1].isLetter || code[j - 1].isNumber || code[j - 1] == "_") else { return nil }
        let end = j + 5
        guard end <= code.count, String(code[j..<end]) == "await", end == code.count || !(code[end].isLetter || code[end].isNumber) else { return nil }
        return "await"
    }

    /// The source with comments and string contents replaced by spaces (newlines kept).
    static func blankCommentsAndStrings(_ source: String) -> String {
        var out = ""
        var chars = Array(source)[...]
        var inString = false
        while let c = chars.first {
            if !inString, c == "/", chars.dropFirst().first == "/" {
                while let d = chars.first, d != "\n" { out.append(" "); chars = chars.dropFirst() }
                continue
            }
            if !inString, c == "/", chars.dropFirst().first == "*" {
                while !chars.isEmpty, !(chars.first == "*" && chars.dropFirst().first == "/") {
                    out.append(chars.first == "\n" ? "\n" : " ")
                    chars = chars.dropFirst()
                }
                chars = chars.dropFirst(2)
                out += "  "
                continue
            }
            if c == "\"" { inString.toggle(); out.append("\""); chars = chars.dropFirst(); continue }
            if inString, c == "\\" { out += "  "; chars = chars.dropFirst(2); continue }
            out.append(inString && c != "\n" ? " " : c)
            chars = chars.dropFirst()
        }
        return out
    }
}
