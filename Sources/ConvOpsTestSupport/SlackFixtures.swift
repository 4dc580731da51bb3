import ConvOpsCore
import ConvOpsSlack
import Foundation

/// The real Slack payloads in `SlackFixtures/` (see its SOURCES.md), for the emulator and tests.
public enum SlackFixtures {
    public static func text(_ name: String) throws -> String {
        guard let url = Bundle.module.url(forResource: "SlackFixtures/\(name)", withExtension: nil)
            ?? Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "SlackFixtures") else {
            throw TestSupportError("no Slack fixture named \(name)")
        }
        return try String(contentsOf: url, encoding: .utf8)
    }

    public static func json(_ name: String) throws -> JSON {
        guard let value = JSON.parse(try text(name)) else { throw TestSupportError("the Slack fixture \(name) is not JSON") }
        return value
    }

    /// Every fixture file name.
    public static func names() throws -> [String] {
        guard let dir = Bundle.module.url(forResource: "SlackFixtures", withExtension: nil) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") }.sorted()
    }
}

extension JSON {
    /// A copy with the value at a path of object keys replaced (made where missing).
    func setting(path: [String], _ value: JSON) -> JSON {
        guard let first = path.first else { return value }
        let child = self[first] ?? [:]
        return setting(first, child.setting(path: Array(path.dropFirst()), value))
    }
}
