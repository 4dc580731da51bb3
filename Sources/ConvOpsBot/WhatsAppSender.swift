import ConvOpsWhatsApp
import Foundation
import Logging

/// Sends to WhatsApp for the channel and the alert desk, branching on what Meta answers:
/// outside the 24-hour window a text goes again as the notice template; the throughput and
/// pair-rate limits are waited out (1, 4, 16 s: Meta's 4^n); an expired token stops all
/// sending, says so in the log and in `check`; a message Meta will not deliver (131026 and
/// its kin) or refuses is given up with the code, for the channel to park.
actor WhatsAppSender {
    let api: GraphAPI
    let settings: WhatsAppSettings
    let logger: Logger
    let sleep: @Sendable (Duration) async -> Void
    /// Why nothing can be sent (an expired token), once it happened.
    private(set) var stopped: String?
    /// Messages given up, by Meta's code: for `check` and the tests.
    private(set) var givenUp: [Int: Int] = [:]

    init(api: GraphAPI, settings: WhatsAppSettings, logger: Logger,
         sleep: @escaping @Sendable (Duration) async -> Void = { try? await Task.sleep(for: $0) }) {
        self.api = api
        self.settings = settings
        self.logger = logger
        self.sleep = sleep
    }

    /// How a send ended, for a sender that keeps what did not go (the alert queue).
    enum Outcome: Sendable {
        case sent(GraphAPI.Sent)
        /// This person cannot get it (or Meta refuses the message itself): trying again will not
        /// help. Meta's code (0: no answer of Meta's) and title.
        case givenUp(code: Int, reason: String)
        /// Not now (limits, Meta or the network down, the token expired): keep it and try later.
        case later(reason: String)
    }

    /// Sends `message`; `template`: what to send instead if the person is outside the 24-hour
    /// window (nil: a message that makes no sense late, such as a plan's buttons).
    func send(_ message: OutboundMessage, orTemplate template: OutboundMessage?) async -> GraphAPI.Sent? {
        if case .sent(let sent) = await attempt(message, orTemplate: template) { return sent }
        return nil
    }

    func attempt(_ message: OutboundMessage, orTemplate template: OutboundMessage?) async -> Outcome {
        if let stopped {
            logger.error("whatsapp.not_sent", metadata: ["whatsapp.reason": "\(stopped)"])
            return .later(reason: stopped)
        }
        var message = message
        var fellBack = false
        for attempt in 0..<4 {
            do {
                return .sent(try await api.send(message))
            } catch {
                switch error.kind {
                case .reengage:
                    guard !fellBack, let template else { return giveUp(error, message) }
                    // Outside the 24-hour window: only an approved template may go.
                    message = template
                    fellBack = true
                case .throttled:
                    await sleep(.seconds(1 << (2 * attempt)))
                case .transient:
                    await sleep(.seconds(1 << attempt))
                case .tokenExpired:
                    stopped = "the WhatsApp access token expired or was revoked (#190): set a new system-user token in WHATSAPP_TOKEN and restart"
                    logger.critical("whatsapp.token_expired", metadata: ["whatsapp.reason": "\(stopped!)"])
                    return .later(reason: stopped!)
                case .undeliverable, .refused:
                    return giveUp(error, message)
                }
            }
        }
        logger.error("whatsapp.not_sent", metadata: ["whatsapp.reason": "still limited or unreachable after four tries"])
        return .later(reason: "Meta still limited or unreachable after four tries")
    }

    private func giveUp(_ error: WhatsAppAPIError, _ message: OutboundMessage) -> Outcome {
        let code = error.detail?.code ?? 0
        givenUp[code, default: 0] += 1
        let reason = Self.withoutNumbers(error.detail?.title ?? "HTTP \(error.status)")
        // The number stays out of the log: the code and what kind of message say enough.
        logger.error("whatsapp.given_up", metadata: ["whatsapp.code": "\(code)", "whatsapp.error": "\(reason)"])
        return .givenUp(code: code, reason: reason)
    }

    /// Meta's titles name no one, but a reason is stored and shown: any run of seven or more
    /// digits (a phone number, a wa_id), spaces, dashes and brackets between them included, is
    /// masked all the same.
    static func withoutNumbers(_ text: String) -> String {
        var out = "", run = "", digits = 0, tail = ""
        func flush() {
            out += digits >= 7 ? "…" + tail : run + tail
            run = ""; digits = 0; tail = ""
        }
        for c in text {
            if c.isASCII, c.isNumber {
                run += tail
                tail = ""
                run.append(c)
                digits += 1
            } else if digits > 0, " -().".contains(c) {
                // Maybe inside a number: kept aside until the next digit says so.
                tail.append(c)
            } else if digits == 0, c == "(" || c == "+" {
                out.append(c)
            } else {
                flush()
                out.append(c)
            }
        }
        flush()
        return out
    }
}
