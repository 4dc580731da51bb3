import ArgumentParser
import ConvOpsBot
import ConvOpsCore
import ConvOpsStore
import ConvOpsWhatsApp
import Foundation

/// `convops whatsapp undelivered|forget`: messages Meta would not deliver, with what to do.
struct WhatsAppCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "whatsapp", abstract: "WhatsApp messages that were not delivered.",
                                                    subcommands: [Undelivered.self, Forget.self])

    struct Undelivered: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the messages Meta would not deliver (kept \(Store.undeliveredDays) days), newest first, with what to do.")
        @Flag(help: "One JSON object per line.") var json = false
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let context = try Context(global)
            let store = try Audit.store(context)
            let names = Runtime.whatsAppNames(context.configuration, store: store)
            let parked = try store.undeliveredWhatsApp()
            if json {
                for u in parked {
                    let line: JSON = ["id": .string(u.id), "at": .string(Timestamp.format(u.at)), "to": .string(names[u.channel] ?? u.channel),
                                      "what": .string(u.what), "code": .number(Double(u.code)), "reason": .string(u.reason),
                                      "advice": .string(WhatsAppErrorAdvice.forCode(u.code))]
                    emit(line.text)
                }
                return
            }
            guard !parked.isEmpty else {
                emit("no undelivered WhatsApp messages")
                return
            }
            for u in parked {
                let who = names[u.channel] ?? "someone not in whatsapp.people"
                emit("\(u.id)  \(Timestamp.format(u.at))  to \(terminalLine(who))  \(terminalLine(u.what))  #\(u.code) \(terminalLine(u.reason))")
                emit("    → \(WhatsAppErrorAdvice.forCode(u.code))")
            }
            emit("\(parked.count) undelivered; nothing is retried. `convops whatsapp forget ID` (or --all) once dealt with")
        }
    }

    struct Forget: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Forget undelivered messages once dealt with.")
        @Argument(help: "The id from `convops whatsapp undelivered`.") var id: String?
        @Flag(help: "Forget all of them.") var all = false
        @OptionGroup var global: GlobalOptions

        func validate() throws {
            guard (id == nil) == all else { throw ValidationError("give one id, or --all") }
        }

        func run() async throws {
            let store = try Audit.store(try Context(global))
            let n = try store.forgetUndelivered(id: all ? nil : id)
            guard n > 0 || all else {
                Context.fail("no undelivered message '\(id ?? "")'; `convops whatsapp undelivered` lists them")
                throw Exit.refused
            }
            emit("forgot \(n) undelivered message\(n == 1 ? "" : "s")")
        }
    }
}
