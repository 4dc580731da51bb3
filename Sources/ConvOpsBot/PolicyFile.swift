import ConvOpsCore
import Foundation

/// Reads the `policy` section of the config file, checking everything and saying what to fix.
///
/// ```json
/// "policy": {
///   "mode": "team",
///   "groups": {"oncall": ["U024BE7LH", "console:alice"], "leads": ["U0G9QF9C6"]},
///   "rules": [
///     {"who": ["*"], "intents": ["status", "alarms", "logs", "history", "help", "whoami", "cancel", "approve", "reject"]},
///     {"who": ["group:oncall"], "intents": ["restart", "stop", "start", "scale"], "environments": ["staging", "prod"]}
///   ],
///   "channels": {"C0PUBLIC1": ["status", "help"]},
///   "approval": {"risks": ["mutating"], "environments": ["prod"], "approvers": ["group:leads"]},
///   "expiry_seconds": 600, "warning_seconds": 120
/// }
/// ```
enum PolicyFile {
    static func parse(_ object: Any, source: String) throws(ConfigurationError) -> AccessPolicy {
        func fail(_ what: String) -> ConfigurationError { ConfigurationError("\(source): policy: \(what)") }
        guard let o = object as? [String: Any] else { throw fail("must be a JSON object") }
        let known: Set = ["mode", "groups", "rules", "channels", "approval", "expiry_seconds", "warning_seconds"]
        if let unknown = o.keys.first(where: { !known.contains($0) }) {
            throw fail("unknown key '\(unknown)' (known: \(known.sorted().joined(separator: ", ")))")
        }
        guard let modeText = o["mode"] as? String, let mode = AccessPolicy.Mode(rawValue: modeText) else {
            throw fail("'mode' must be \"solo\" or \"team\"")
        }
        func strings(_ value: Any?, _ what: String) throws(ConfigurationError) -> [String] {
            guard let list = value as? [String] else { throw fail("\(what) must be a list of strings") }
            return list
        }
        func intents(_ value: Any?, _ what: String) throws(ConfigurationError) -> Set<IntentKind> {
            var out: Set<IntentKind> = []
            for name in try strings(value, what) {
                if name == "*" { return Set(IntentKind.allCases) }
                guard let kind = IntentKind(rawValue: name) else {
                    throw fail("\(what): unknown intent '\(name)' (known: \(IntentKind.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                out.insert(kind)
            }
            return out
        }
        var groups: [String: [String]] = [:]
        if let g = o["groups"] {
            guard let dict = g as? [String: Any] else { throw fail("'groups' must map names to lists of user ids") }
            for (name, members) in dict { groups[name] = try strings(members, "groups.\(name)") }
        }
        func checkWho(_ who: [String], _ what: String) throws(ConfigurationError) {
            for entry in who where entry.hasPrefix("group:") && groups[String(entry.dropFirst(6))] == nil {
                throw fail("\(what) names \(entry), which 'groups' does not define")
            }
        }
        guard let ruleList = o["rules"] as? [Any], !ruleList.isEmpty else {
            throw fail("'rules' must list at least one rule, as in {\"who\": [\"*\"], \"intents\": [\"status\"]}")
        }
        var rules: [AccessPolicy.Rule] = []
        for (i, raw) in ruleList.enumerated() {
            guard let r = raw as? [String: Any] else { throw fail("rules[\(i)] must be an object") }
            let who = try strings(r["who"], "rules[\(i)].who")
            try checkWho(who, "rules[\(i)].who")
            rules.append(AccessPolicy.Rule(who: who, intents: try intents(r["intents"], "rules[\(i)].intents"),
                                           environments: r["environments"] == nil ? ["*"] : try strings(r["environments"], "rules[\(i)].environments"),
                                           accounts: r["accounts"] == nil ? ["*"] : try strings(r["accounts"], "rules[\(i)].accounts")))
        }
        var caps: [String: Set<IntentKind>] = [:]
        if let c = o["channels"] {
            guard let dict = c as? [String: Any] else { throw fail("'channels' must map channel ids to lists of intents") }
            for (channel, list) in dict { caps[channel] = try intents(list, "channels.\(channel)") }
        }
        var approval: AccessPolicy.Approval?
        if let a = o["approval"] {
            guard let dict = a as? [String: Any] else { throw fail("'approval' must be an object") }
            var risks: Set<Risk> = []
            for name in try strings(dict["risks"] ?? ["mutating"], "approval.risks") {
                guard let risk = Risk(rawValue: name) else { throw fail("approval.risks: '\(name)' is not read-only or mutating") }
                risks.insert(risk)
            }
            let approvers = try strings(dict["approvers"], "approval.approvers")
            guard !approvers.isEmpty else { throw fail("approval.approvers must name at least one person or group") }
            try checkWho(approvers, "approval.approvers")
            approval = AccessPolicy.Approval(risks: risks, environments: try strings(dict["environments"] ?? ["*"], "approval.environments"),
                                             approvers: approvers)
        }
        if mode == .team, approval == nil { throw fail("team mode needs an 'approval' section (or use \"mode\": \"solo\")") }
        let expiry = (o["expiry_seconds"] as? NSNumber)?.doubleValue ?? 600
        let warning = (o["warning_seconds"] as? NSNumber)?.doubleValue ?? 120
        guard expiry >= 30, expiry <= 86_400 else { throw fail("expiry_seconds must be from 30 to 86400") }
        guard warning >= 0, warning < expiry else { throw fail("warning_seconds must be from 0 to less than expiry_seconds") }
        return AccessPolicy(mode: mode, groups: groups, rules: rules, channelCaps: caps, approval: approval, expiry: expiry, warning: warning)
    }
}
