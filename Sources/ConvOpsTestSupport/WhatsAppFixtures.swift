import Foundation

/// Real WhatsApp Cloud API payloads (webhooks, requests, responses, errors), copied from
/// ../shared/fixtures/whatsapp with their sources in WhatsAppFixtures/SOURCES.md.
public enum WhatsAppFixtures {
    public static func data(_ name: String) throws -> Data {
        guard let url = Bundle.module.url(forResource: "WhatsAppFixtures/\(name)", withExtension: nil)
            ?? Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "WhatsAppFixtures") else {
            throw TestSupportError("no WhatsApp fixture named \(name)")
        }
        return try Data(contentsOf: url)
    }

    public static func names() throws -> [String] {
        guard let dir = Bundle.module.url(forResource: "WhatsAppFixtures", withExtension: nil) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") }.sorted()
    }
}
