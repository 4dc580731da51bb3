import ConvOpsCore
import ConvOpsStore
import ConvOpsTestSupport
import Foundation
import Testing

/// Kills a real `convops chat` with SIGKILL at random moments while it plans, confirms and
/// executes a reboot, then starts it again. Whatever the moment: nothing runs twice, nothing
/// is left executing, and the audit chain verifies.
@Suite(.serialized) struct CrashSafetyTests {
    @Test func fiftyKillsAtRandomPoints() async throws {
        let moto = try await SeededMoto.shared.get()
        let scenario = try Scenario(moto: moto)
        defer { scenario.remove() }
        var rng = SystemRandomNumberGenerator()
        var outcomes: [RequestState: Int] = [:]
        var seen: Set<String> = []
        for round in 1...50 {
            try await moto.startRecording()
            // Plan and confirm in one go; kill somewhere between start and well after the reboot.
            let process = Process()
            process.executableURL = URL(fileURLWithPath: convopsBinary)
            process.arguments = ["chat", "--as", "kim"]
            var env = scenario.environment
            env["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
            process.environment = env
            process.currentDirectoryURL = URL(fileURLWithPath: repositoryRoot)
            let input = Pipe()
            process.standardInput = input
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            input.fileHandleForWriting.write(Data("restart web-1\nconfirm\n".utf8))
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...600, using: &rng)))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            try? input.fileHandleForWriting.close()

            // Start again: recovery runs, then the input ends.
            let restart = try await convops(["chat", "--as", "kim"], stdin: "", environment: scenario.environment)
            #expect(restart.status == 0, "round \(round): \(restart.stderr)")

            let store = try scenario.store()
            let all = try store.requests(in: RequestState.allCases)
            #expect(!all.contains { $0.state == .executing }, "round \(round): a request was left executing")
            let reboots = try await moto.recordedBodies().filter { $0.contains("Action=RebootInstances") }.count
            // This round's request (if the kill came after it was stored): at most one reboot,
            // exactly one if it succeeded, none if it never got past confirmation.
            let new = all.filter { !seen.contains($0.id) }
            seen.formUnion(new.map(\.id))
            #expect(new.count <= 1, "round \(round): \(new.count) new requests")
            if let request = new.first {
                outcomes[request.state, default: 0] += 1
                #expect(reboots <= 1, "round \(round): \(reboots) reboots")
                if request.state == .succeeded { #expect(reboots == 1, "round \(round)") }
                if request.state == .awaitingConfirmation { #expect(reboots == 0, "round \(round)") }
            } else {
                outcomes[.awaitingConfirmation, default: 0] += 0
                #expect(reboots == 0, "round \(round): a reboot with no request")
            }
            if case .broken(let seq, let reason) = try store.verifyAudit() {
                Issue.record("round \(round): the audit chain broke at \(seq): \(reason)")
            }
            // Clear the plan a kill left waiting, so the next round's "confirm" is not ambiguous.
            _ = try await convops(["chat", "--as", "kim"], stdin: "cancel\n", environment: scenario.environment)
        }
        // The kills landed in different phases (logged for the record).
        print("crash-safety outcomes over 50 kills:", outcomes.map { "\($0.key.rawValue)=\($0.value)" }.sorted().joined(separator: " "))
    }
}
