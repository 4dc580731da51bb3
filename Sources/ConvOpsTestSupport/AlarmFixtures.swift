import Foundation

/// Real CloudWatch alarm payloads in `AlarmFixtures/` (SNS envelope, raw delivery, metric
/// math, anomaly, composite, EventBridge, custom notifications; see its SOURCES.md).
public enum AlarmFixtures {
    public static func text(_ name: String) throws -> String {
        guard let url = Bundle.module.url(forResource: "AlarmFixtures/\(name)", withExtension: nil)
            ?? Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "AlarmFixtures") else {
            throw TestSupportError("no alarm fixture named \(name)")
        }
        return try String(contentsOf: url, encoding: .utf8)
    }

    public static func names() throws -> [String] {
        guard let dir = Bundle.module.url(forResource: "AlarmFixtures", withExtension: nil) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") }.sorted()
    }
}
