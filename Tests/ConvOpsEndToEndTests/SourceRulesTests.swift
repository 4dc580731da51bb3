import Foundation
import Testing

/// Shapes of code that this toolchain compiles wrongly at -O, kept out of the sources.
@Suite struct SourceRulesTests {
    /// `return (index, .success(try await f()))` in a task child or `Task {}` body loses the
    /// parts of the tuple stored before the await in the release build (Result+Awaiting.swift).
    @Test func noTupleIsBuiltAroundAnAwait() throws {
        // A tuple literal (an opening parenthesis followed by a comma before the await) that is
        // returned or assigned, with `await` inside it.
        let shape = try Regex(#"(return|=)\s*\([^()\n]*,[^\n]*\bawait\b"#)
        var offenders: [String] = []
        let root = repositoryRoot
        for directory in ["Sources", "Benchmarks"] {
            let base = root + "/" + directory
            guard let walker = FileManager.default.enumerator(atPath: base) else { continue }
            for case let path as String in walker where path.hasSuffix(".swift") {
                let text = try String(contentsOfFile: base + "/" + path, encoding: .utf8)
                for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    let code = line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                    if code.contains(shape) { offenders.append("\(directory)/\(path):\(number + 1): \(line.trimmingCharacters(in: .whitespaces))") }
                }
            }
        }
        #expect(offenders.isEmpty, "await into a local first, then build the tuple:\n\(offenders.joined(separator: "\n"))")
    }

    @Test func theRuleSeesTheShapeItForbids() throws {
        let shape = try Regex(#"(return|=)\s*\([^()\n]*,[^\n]*\bawait\b"#)
        #expect("do throws(E) { return (index, .success(try await body(place))) }".contains(shape))
        #expect("let pair = (i, try await fetch(i))".contains(shape))
        #expect(!"let result = await Result { try await f() }".contains(shape))
        #expect(!"return (index, result)".contains(shape))
    }
}
