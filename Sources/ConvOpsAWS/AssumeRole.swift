import ConvOpsCore
import Foundation
import Synchronization

/// An account ConvOps acts in: the role it assumes there, with the ExternalId the role's trust
/// policy requires, and the regions it may act in.
public struct TargetAccount: Sendable, Hashable {
    public var alias: String
    public var roleARN: String
    public var externalID: String?
    public var regions: [String]
    /// How long assumed credentials last: 900–3600 seconds.
    public var durationSeconds: Int
    /// The environment of what lives here ("prod"), unless a resource's tag says otherwise.
    public var environment: String?

    public init(alias: String, roleARN: String, externalID: String?, regions: [String], durationSeconds: Int = 900,
                environment: String? = nil) {
        self.environment = environment
        self.alias = alias
        self.roleARN = roleARN
        self.externalID = externalID
        self.regions = regions
        self.durationSeconds = min(3600, max(900, durationSeconds))
    }

    /// The account id in the role ARN (arn:aws:iam::123456789012:role/convops).
    public var accountID: String? {
        let parts = roleARN.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count >= 5 ? String(parts[4]) : nil
    }
}

public enum AssumeRole {
    /// A RoleSessionName that names the person in CloudTrail: `convops-`, their stable chat id
    /// (a display name can be changed to anyone's, so it is never the identity) and their
    /// handle, cut to AWS's 64 characters and its alphabet ([\w+=,.@-]).
    public static func sessionName(for handle: String, id: String) -> String {
        let name = clean(handle)
        return String(("convops-" + clean(id) + (name.isEmpty ? "" : "-" + name)).prefix(64))
    }

    /// `text` with every session name of this person (`convops-<id>` and whatever handle
    /// followed it, under any display name they had) replaced: what AWS's error messages and
    /// ARNs say of a person, before it is stored.
    public static func maskingSessions(in text: String, id: String, with replacement: String) -> String {
        // Cut as the session name is: a long id fills the 64 characters on its own.
        let prefix = String(("convops-" + clean(id)).prefix(64))
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+=,.@-")
        var out = ""
        var rest = Substring(text)
        while let range = rest.range(of: prefix) {
            out += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...].drop { allowed.contains($0) }
        }
        return out + rest
    }

    static func clean(_ text: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+=,.@-")
        var cleaned = String(text.map { allowed.contains($0) ? $0 : "-" })
        while cleaned.contains("--") { cleaned = cleaned.replacingOccurrences(of: "--", with: "-") }
        return cleaned.trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    }

    /// Credentials from an STS answer's `<Credentials>` (AssumeRole and AssumeRoleWithWebIdentity).
    static func credentials(from tree: XMLTree, result: String, operation: String) throws(AWSError) -> AWSCredentials {
        guard let c = tree.at(result, "Credentials"), let id = c.string("AccessKeyId"), let secret = c.string("SecretAccessKey"),
              let token = c.string("SessionToken") else {
            throw AWSError(kind: .malformedResponse, operation: operation, code: "", message: "no Credentials in the answer")
        }
        guard let expiration = c.string("Expiration").flatMap(parseDate) else {
            throw AWSError(kind: .malformedResponse, operation: operation, code: "", message: "no readable Expiration in the answer")
        }
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token, expiration: expiration,
                              principal: tree.string(result, "AssumedRoleUser", "Arn"))
    }

    /// ISO 8601 with or without fractional seconds, as STS, ECS and IMDS write it.
    static func parseDate(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let d = plain.date(from: text) { return d }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}

/// The accounts ConvOps acts in, and a client per (account, person): each assumes the
/// account's role with a session named for the person, keeps the credentials in memory, and
/// assumes again 5 minutes before they expire.
public final class AssumedRoles: Sendable {
    public let accounts: [TargetAccount]
    private let base: AWSClient
    private let clock: any WallClock
    private let clients = Mutex([String: AWSClient]())

    /// `base`: the bot's own identity (from the credential chain), which calls sts:AssumeRole.
    public init(base: AWSClient, accounts: [TargetAccount], clock: any WallClock = SystemClock()) {
        self.base = base
        self.accounts = accounts
        self.clock = clock
    }

    public func account(_ alias: String?) -> TargetAccount? {
        guard let alias else { return accounts.first }
        return accounts.first { $0.alias.lowercased() == alias.lowercased() || $0.accountID == alias }
    }

    /// The client acting in `account` for this person, cached by their stable id and the
    /// session name: a new display name gets a new session, so CloudTrail shows the name of now.
    public func client(for account: TargetAccount, personID: String, handle: String) -> AWSClient {
        let session = AssumeRole.sessionName(for: handle, id: personID)
        let person = "\(account.alias)\u{0}\(personID)\u{0}"
        let key = person + session
        return clients.withLock { clients in
            if let existing = clients[key] { return existing }
            // The session under an older name is not kept.
            for old in clients.keys where old.hasPrefix(person) { clients[old] = nil }
            let base = self.base
            let provider = TemporaryCredentialsProvider(clock: clock, source: "sts:AssumeRole \(account.roleARN)") { () async throws(AWSError) in
                var parameters = [("RoleArn", account.roleARN), ("RoleSessionName", session),
                                  ("DurationSeconds", String(account.durationSeconds))]
                if let externalID = account.externalID { parameters.append(("ExternalId", externalID)) }
                let tree = try await base.query(.sts, action: "AssumeRole", parameters: parameters, idempotent: true)
                return try AssumeRole.credentials(from: tree, result: "AssumeRoleResult", operation: "sts:AssumeRole")
            }
            var configuration = base.configuration
            configuration.region = account.regions.first ?? configuration.region
            let client = AWSClient(configuration: configuration, credentials: provider, http: base.http, clock: clock, logger: base.logger)
            clients[key] = client
            return client
        }
    }
}
