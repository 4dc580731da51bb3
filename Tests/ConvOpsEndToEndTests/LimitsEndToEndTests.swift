import ConvOpsTestSupport
import Foundation
import Testing

/// One person cannot flood ConvOps: an overlong message is refused by its length, and past
/// 30 requests in a minute they are asked to wait (the 31st is refused, nothing is lost).
@Suite struct LimitsEndToEndTests {
    @Test func floodsAndOverlongMessagesAreRefusedPolitely() async throws {
        let moto = try await SeededMoto.shared.get()
        let s = try Scenario(moto: moto)
        defer { s.remove() }
        let long = "status " + String(repeating: "web-1 ", count: 250)
        let script = ([long] + Array(repeating: "whoami", count: 31)).joined(separator: "\n") + "\n"
        let out = try await convops(["chat", "--as", "mallory"], stdin: script, environment: s.environment).stdout
        #expect(out.contains("convops: That message is 1506 characters long; I read at most 1000. Ask in fewer words."), "\(out.prefix(600))")
        #expect(out.components(separatedBy: "convops: You are mallory").count == 31, "30 answered")
        #expect(out.contains(#/convops: That is more than 30 requests from you in a minute; wait \d+ seconds, then ask again\./#))
    }
}
