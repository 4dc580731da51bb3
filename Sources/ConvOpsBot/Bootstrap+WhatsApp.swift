import ConvOpsHTTP
import ConvOpsWhatsApp
import Foundation
import Logging

extension Runtime {
    /// The WhatsApp channel when the config has a `whatsapp` section: the access token, the
    /// app secret and the verify token from the environment only (never a file, never the store).
    public func whatsApp(environment: [String: String], logger: Logger) throws -> WhatsAppChannel? {
        guard let settings = configuration.whatsApp else { return nil }
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
        return WhatsAppChannel(settings: settings, api: api, appSecret: secret, verifyToken: verify, engine: engine, store: store,
                               messages: grammar.messages(for: configuration.locale), hub: hub, logger: logger)
    }
}
