import ConvOpsAWS
import ConvOpsCore
import ConvOpsGrammar
import ConvOpsHTTP
import ConvOpsStore
import Foundation
import Logging

/// Builds the running parts from configuration, in dependency order.
public struct Runtime: Sendable {
    public let configuration: Configuration
    public let grammar: Grammar
    public let store: Store
    public let aws: AWSClient
    public let engine: Engine

    public static func grammar(_ configuration: Configuration) throws(GrammarLoadError) -> Grammar {
        try Grammar.load(commandsDirectory: configuration.commandsDirectory, localesDirectory: configuration.localesDirectory,
                         requiredMessageKeys: Engine.requiredMessageKeys, defaultLocale: "en")
    }

    public static func start(_ configuration: Configuration, environment: [String: String], logger: Logger) throws -> Runtime {
        let grammar = try grammar(configuration)
        let store = try Store(path: configuration.databasePath)
        var egress = EgressPolicy.production
        if let endpoint = configuration.aws.endpoint { egress = egress.allowing(endpoint: endpoint) }
        let http = HTTPClient(configuration: HTTPClientConfiguration(egress: egress), logger: logger)
        let credentials: any CredentialsProvider = AWSCredentials.fromEnvironment(environment).map(StaticCredentialsProvider.init)
            ?? MissingCredentialsProvider()
        let aws = AWSClient(configuration: configuration.aws, credentials: credentials, http: http, logger: logger)
        let engine = Engine(grammar: grammar, store: store, aws: aws,
                            policy: RequestPolicy(approvalRequired: false, expiry: configuration.confirmationTimeout),
                            locale: configuration.locale, logger: logger)
        return Runtime(configuration: configuration, grammar: grammar, store: store, aws: aws, engine: engine)
    }
}
