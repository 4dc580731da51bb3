import ConvOpsStore
import ConvOpsHTTP
import ConvOpsWhatsApp
import Foundation
import Logging

extension Runtime {
    /// The WhatsApp channel when the config has a `whatsapp` section: the access token, the
    /// app secret and the verify token from the environment only (never a file, never the store).
    public func whatsApp(environment: [String: String], logger: Logger) throws -> WhatsAppChannel? {
        guard let settings = configuration.whatsApp else { return nil }
        let (api, secret, verify) = try whatsAppParts(settings, environment: environment, logger: logger)
        return WhatsAppChannel(settings: settings, api: api, appSecret: secret, verifyToken: verify, engine: engine, store: store,
                               messages: grammar.messages(for: configuration.locale), hub: hub, logger: logger)
    }

    /// What `convops check` says about WhatsApp: the settings, the secrets' presence, whether
    /// the token may use the number (one GET to the Graph API), and what waits in the store.
    public func whatsAppStatus(environment: [String: String], logger: Logger) async -> [String]? {
        guard let settings = configuration.whatsApp else { return nil }
        var lines = ["number id \(settings.phoneNumberID), \(settings.version), \(settings.people.count) people, webhook on \(settings.interface):\(settings.port)\(settings.path)"]
        do {
            let (api, _, _) = try whatsAppParts(settings, environment: environment, logger: logger)
            do {
                try await api.checkNumber()
                lines.append("token ok for this number")
            } catch {
                lines.append(error.kind == .tokenExpired
                    ? "TOKEN EXPIRED or revoked (#190): set a new system-user token in WHATSAPP_TOKEN and restart"
                    : "the Graph API did not confirm the number: \(error)")
            }
        } catch {
            lines.append("\(error)")
        }
        let waiting = (try? store.pendingWebhooks(limit: 100_000).count) ?? 0
        let unreadable = ((try? store.unreadableWebhooks()) ?? 0) + ((try? store.stuckWebhooks()) ?? 0)
        let alerts = (try? store.whatsAppAlertCounts()) ?? (queued: 0, sent: 0, givenUp: 0)
        lines.append("\(waiting) webhook\(waiting == 1 ? "" : "s") waiting, \(unreadable) unreadable or failed five times; alerts \(alerts.sent) sent, \(alerts.givenUp) given up, \(alerts.queued - alerts.sent - alerts.givenUp) queued")
        let undelivered = (try? store.undeliveredCount()) ?? 0
        if undelivered > 0 { lines.append("\(undelivered) message\(undelivered == 1 ? "" : "s") Meta would not deliver: `convops whatsapp undelivered` says to whom and what to do") }
        return lines
    }

    func whatsAppParts(_ settings: WhatsAppSettings, environment: [String: String], logger: Logger) throws -> (GraphAPI, WhatsAppSecret, WhatsAppSecret) {
        guard let token = WhatsAppSecret(environment["WHATSAPP_TOKEN"], kind: "access token") else {
            throw ConfigurationError("WHATSAPP_TOKEN must be set to a system-user access token with whatsapp_business_messaging (Business Settings → System users); see “WhatsApp” in the README")
        }
        guard let secret = WhatsAppSecret(environment["WHATSAPP_APP_SECRET"], kind: "app secret") else {
            throw ConfigurationError("WHATSAPP_APP_SECRET must be set to the Meta app's secret (App Dashboard → App settings → Basic): it checks every webhook's signature")
        }
        guard let verify = WhatsAppSecret(environment["WHATSAPP_VERIFY_TOKEN"], kind: "verify token") else {
            throw ConfigurationError("WHATSAPP_VERIFY_TOKEN must be set to the verify token you enter with the callback URL (App Dashboard → WhatsApp → Configuration)")
        }
        let egress = EgressPolicy.production.allowing(endpoint: settings.apiURL)
        let http = HTTPClient(configuration: HTTPClientConfiguration(egress: egress, proxy: configuration.proxy), logger: logger)
        let api = GraphAPI(http: http, baseURL: settings.apiURL, version: settings.version, phoneNumberID: settings.phoneNumberID,
                           token: token, logger: logger)
        return (api, secret, verify)
    }
}

extension Runtime {
    /// Who each WhatsApp conversation is, for the CLI: "Name (+49…567)", by the conversation's
    /// opaque name; numbers changed since the config was written are followed.
    public func whatsAppNames() -> [String: String] { Self.whatsAppNames(configuration, store: store) }

    /// The same from the config and the store alone (the CLI needs no AWS, no engine for it).
    public static func whatsAppNames(_ configuration: Configuration, store: Store) -> [String: String] {
        guard let settings = configuration.whatsApp else { return [:] }
        let changed = (try? store.changedNumbers()) ?? [:]
        var out: [String: String] = [:]
        for contact in settings.people {
            let number = changed[contact.personID] ?? contact.number
            out[store.whatsAppChannel(waID: String(number.dropFirst()))] = "\(contact.name) (\(number.prefix(3))…\(number.suffix(3)))"
        }
        return out
    }
}

extension Runtime {
    /// Said at the start of a WhatsApp-only process whose policy wants approvals that no one
    /// on WhatsApp may give (those requests would wait until they expire), or that only one
    /// person may give (never for their own requests). Without Slack everyone there stands
    /// as a guest: only what the policy names them for counts.
    public func approvalsWithoutSlack() -> String? {
        guard let settings = configuration.whatsApp, configuration.policy.approval != nil else { return nil }
        let approvers = settings.people.filter { configuration.policy.mayApprove($0.personID, standing: .guest) }
        let how = "name approvers in the policy by their Slack id (people with \"slack\") or their number (people without), not by \"*\""
        if approvers.isEmpty {
            return "the policy asks for approvals, but nobody in whatsapp.people is an approver, and Slack is not connected: requests that need approval will expire unapproved; \(how)"
        }
        if approvers.count == 1 {
            return "the policy asks for approvals, and only \(approvers[0].name) on WhatsApp may give them: their own requests that need approval will expire unapproved; \(how)"
        }
        return nil
    }
}
