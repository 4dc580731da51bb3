import ConvOpsCore
import ConvOpsTestSupport
import Foundation

/// The WhatsApp Cloud API emulator as a process, for trying ConvOps on WhatsApp without Meta:
///   convops-whatsapp-emulator --env FILE --config FILE
/// It writes the environment and the config `convops run` needs (a Slack emulator comes along,
/// since `convops run` serves Slack too), then reads what you type as Alice's phone:
///   TEXT                 a WhatsApp message from Alice (+491701234567)
///   tap LABEL            tap the button with that label (Confirm, Cancel, Approve, Acknowledge…)
///                        on the newest message that has it
///   /quit
/// and shows every message ConvOps sends to WhatsApp.

let arguments = Array(CommandLine.arguments.dropFirst())
@MainActor func option(_ name: String) -> String? {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
}

let alice = "491701234567"
let wa = try WhatsAppEmulator()
let slack = try SlackEmulator()
slack.addUser("U111", name: "Alice")
let port = try FreePort.pick()
let webhook = "http://127.0.0.1:\(port)/whatsapp/webhook"
let environment = """
    SLACK_API_URL=\(slack.apiURL)
    SLACK_APP_TOKEN=\(SlackEmulator.appToken)
    SLACK_BOT_TOKEN=\(SlackEmulator.botToken)
    WHATSAPP_TOKEN=\(WhatsAppEmulator.token)
    WHATSAPP_APP_SECRET=\(WhatsAppEmulator.appSecret)
    WHATSAPP_VERIFY_TOKEN=\(WhatsAppEmulator.verifyToken)

    """
let config = """
    {"policy": {"mode": "solo", "rules": [{"who": ["*"], "intents": ["*"], "environments": ["*"]}]},
     "whatsapp": {"phone_number_id": "\(WhatsAppEmulator.phoneNumberID)", "version": "\(WhatsAppEmulator.version)", "api_url": "\(wa.apiURL)",
                  "listen": "127.0.0.1:\(port)", "people": [{"number": "+\(alice)", "name": "Alice", "slack": "U111"}]}}
    """
guard let envFile = option("--env"), let configFile = option("--config") else {
    print("usage: convops-whatsapp-emulator --env FILE --config FILE")
    exit(2)
}
try config.write(toFile: configFile, atomically: true, encoding: .utf8)
try environment.write(toFile: envFile, atomically: true, encoding: .utf8)

/// Prints what ConvOps sent since last time.
final class Printer: @unchecked Sendable {
    // Used from the one printing task only.
    var seen = 0

    func flush() {
        let sends = wa.sends
        for s in sends.dropFirst(seen) {
            if let code = s.refused { print("  (WhatsApp refused a \(s.type) message: #\(code))"); continue }
            switch s.type {
            case "text": print("convops: \(s.body["text"]?["body"]?.string ?? "")")
            case "interactive":
                let i = s.body["interactive"]
                let labels = (i?["action"]?["buttons"]?.array ?? []).compactMap { $0["reply"]?["title"]?.string }
                print("convops: \(i?["body"]?["text"]?.string ?? "")\n  [\(labels.joined(separator: "] ["))]")
            case "template":
                let t = s.body["template"]
                let params = (t?["components"]?[0]?["parameters"]?.array ?? []).compactMap { $0["text"]?.string }
                let replies = (t?["components"]?.array ?? []).compactMap { $0["parameters"]?[0]?["payload"]?.string }
                print("convops (template \(t?["name"]?.string ?? "-")): \(params.joined(separator: " · "))  [\(replies.joined(separator: "] ["))]")
            default: print("convops: a \(s.type) message")
            }
        }
        seen = sends.count
    }
}
let printer = Printer()
let watcher = Task {
    while !Task.isCancelled {
        printer.flush()
        try? await Task.sleep(for: .milliseconds(100))
    }
}

print("waiting for convops run to listen on \(webhook)…")
let probe = Data(#"{"object":"whatsapp_business_account","entry":[]}"#.utf8)
var listening = false
for _ in 0..<1200 where !listening {
    listening = ((try? await wa.post(probe, to: webhook)) ?? 0) == 200
    if !listening { try? await Task.sleep(for: .milliseconds(100)) }
}
guard listening else {
    print("convops run did not listen within 2 minutes; see .demo/convops.log")
    exit(1)
}
print("connected. You are Alice's phone (+\(alice)). Type “restart web-1”, then “tap Confirm”. /quit leaves.")

while let line = readLine(strippingNewline: true)?.trimmingCharacters(in: .whitespaces) {
    do {
        if line.isEmpty { continue }
        if line == "/quit" || line == "/exit" { exit(0) }
        if line.hasPrefix("tap ") {
            let label = String(line.dropFirst(4)).trimmingCharacters(in: .whitespaces).lowercased()
            let found = wa.accepted.reversed().lazy.compactMap { s -> (String, String, Bool)? in
                if s.type == "interactive" {
                    for b in s.body["interactive"]?["action"]?["buttons"]?.array ?? [] where b["reply"]?["title"]?.string?.lowercased() == label {
                        if let id = b["reply"]?["id"]?.string, let wamid = s.messageID { return (id, wamid, false) }
                    }
                }
                if s.type == "template" {
                    for c in s.body["template"]?["components"]?.array ?? [] {
                        if let payload = c["parameters"]?[0]?["payload"]?.string, payload.lowercased().hasPrefix(label), let wamid = s.messageID {
                            return (payload, wamid, true)
                        }
                    }
                }
                return nil
            }.first
            guard let (id, wamid, template) = found else { print("no message with a “\(label)” button"); continue }
            let body = template ? try wa.templateButtonWebhook(from: alice, payload: id, text: label, context: wamid)
                                : try wa.buttonWebhook(from: alice, buttonID: id, title: label, context: wamid)
            _ = try await wa.post(body, to: webhook)
        } else {
            _ = try await wa.post(try wa.textWebhook(from: alice, text: line, name: "Alice"), to: webhook)
        }
    } catch {
        print("emulator: \(error)")
    }
    try? await Task.sleep(for: .milliseconds(500))
    printer.flush()
}
watcher.cancel()
