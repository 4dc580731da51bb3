import ArgumentParser
import ConvOpsBot
import ConvOpsCore
import ConvOpsStore
import Foundation

/// `convops alerts failed|retry|drop`: the messages from the alarm queue that could not be read.
struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "alerts", abstract: "Alarm queue messages that could not be read.",
                                                    subcommands: [Failed.self, Retry.self, Drop.self])

    struct Failed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the parked messages with why each was parked.")
        @Option(help: "Print this parked message's body as it arrived (control characters shown as \\u{…}).") var show: String?
        @Flag(help: "One JSON object per line.") var json = false
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let store = try Audit.store(try Context(global))
            if let show {
                guard let body = try store.parkedBody(id: show) else {
                    Context.fail("no parked message '\(show)'; `convops alerts failed` lists them")
                    throw Exit.refused
                }
                emit(terminalSafe(body))
                return
            }
            let parked = try store.parkedAlerts()
            if json {
                for p in parked {
                    let line: JSON = ["id": .string(p.id), "received": .string(Timestamp.format(p.receivedAt)),
                                      "attempts": .number(Double(p.attempts)), "reason": .string(p.reason)]
                    emit(line.text)
                }
                return
            }
            guard !parked.isEmpty else {
                emit("no parked alarm messages")
                return
            }
            for p in parked {
                emit("\(p.id)  \(Timestamp.format(p.receivedAt))  \(p.attempts)×  \(terminalSafe(p.reason))")
            }
            emit("\(parked.count) parked; `convops alerts retry ID` reads one again, `convops alerts drop ID` forgets it")
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read a parked message again; if it reads now, the running convops shows it.")
        @Argument(help: "The parked message's id (from `convops alerts failed`).") var id: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let store = try Audit.store(try Context(global))
            guard let body = try store.parkedBody(id: id), let parked = try store.parkedAlerts(limit: 100_000).first(where: { $0.id == id }) else {
                Context.fail("no parked message '\(id)'; `convops alerts failed` lists them")
                throw Exit.refused
            }
            do {
                var alarm = try Alarm.parse(body, receivedAt: Date())
                if alarm.deliveryID == nil { alarm.deliveryID = parked.deliveryID }
                switch try store.admit(alarm, id: AlertDesk.newID("al"), receivedAt: Date()) {
                case .new: emit("\(id) reads now (\(terminalSafe(alarm.name)), \(alarm.state.rawValue)): the running convops shows it within seconds")
                case .seen(let a): emit("\(id) reads now, and is the same state change as alert \(a.id), already \(a.disposition.rawValue): nothing more to show")
                }
                try store.unpark(id: id)
            } catch let error as AlarmParseError {
                _ = try store.park(body: body, deliveryID: parked.deliveryID, reason: error.description, id: id, at: Date())
                Context.fail("\(id) still cannot be read: \(terminalSafe(error.description)); fix its sender, or `convops alerts drop \(id)`")
                throw Exit.refused
            }
        }
    }

    struct Drop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Forget a parked message (recorded in the audit log).")
        @Argument(help: "The parked message's id (from `convops alerts failed`).") var id: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let store = try Audit.store(try Context(global))
            guard let parked = try store.parkedAlerts(limit: 100_000).first(where: { $0.id == id }) else {
                Context.fail("no parked message '\(id)'; `convops alerts failed` lists them")
                throw Exit.refused
            }
            try store.unpark(id: id)
            try store.append([AuditEntry.Draft(at: Date(), actor: nil, action: "alert.drop", target: "parked \(id)", decision: .cancelled,
                                               outcome: "dropped with `convops alerts drop`: \(parked.reason)")])
            emit("dropped \(id)")
        }
    }
}
