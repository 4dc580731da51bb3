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

/// A burst far past what is worked on at once (256 envelopes in flight, 64 requests), each
/// from another person: every envelope is acknowledged at once and gets exactly one answer, a
/// real one or "busy, try again in a few seconds", never silence; one person's flood cannot
/// fill the queue of those waiting to be told (30 of theirs at most).
extension SlackEndToEnd {
@Suite struct BurstEndToEndTests {
    @Test func aBurstPastTheBoundIsAckedAndEveryPersonAnsweredOnce() async throws {
        let moto = try await SeededMoto.shared.get("Burst")
        let rig = try await SlackRig.start(moto: moto, config: openMode)
        defer { Task { await rig.stop() } }
        let e = rig.emulator
        let count = 800
        var sent: [String] = []
        for i in 0..<count {
            e.addUser("UB\(i)", name: "Person \(i)")
            sent.append(try e.slashCommand("status web-\(1000 + i % 40)", user: "UB\(i)", channel: "CBURST"))
        }
        let all = sent
        try await e.wait("every envelope acknowledged", timeout: .seconds(30)) { all.allSatisfy(e.acked) }
        try await e.wait("every envelope answered", timeout: .seconds(120)) { all.allSatisfy { !e.responses(to: $0).isEmpty } }
        try await Task.sleep(for: .milliseconds(300))
        #expect(all.allSatisfy { e.responses(to: $0).count == 1 }, "one answer each")
        let answers = all.compactMap { e.responses(to: $0).first }
        #expect(answers.contains { $0.contains("ConvOps is working on 256 requests right now") }, "the ones past the bound are told so")
        #expect(answers.contains { $0.contains("can't find anything called") }, "the others are answered")
        // One person flooding past the bound: at most 30 of theirs wait at a time to be told
        // "busy" (a few more get through as those are told), not all 600.
        var flood: [String] = []
        for _ in 0..<600 { flood.append(try e.slashCommand("status web-1", user: "UB0", channel: "CFLOOD")) }
        let flooded = flood
        try await e.wait("every envelope of the flood acknowledged", timeout: .seconds(30)) { flooded.allSatisfy(e.acked) }
        try await Task.sleep(for: .seconds(3))
        // (Those the engine took are each answered by it: the per-person limits say so. How many
        // reach the bound at all depends on how fast the build works them off: the release
        // binary often keeps up with this flood; the cap is what is checked.)
        #expect(flood.allSatisfy { e.responses(to: $0).count <= 1 }, "never two answers to one envelope")
        let shed = flood.flatMap { e.responses(to: $0) }.filter { $0.contains("working on 256 requests") }.count
        #expect(shed <= 120, "\(shed) busy notices for one person's flood past the bound")
    }
}
}
