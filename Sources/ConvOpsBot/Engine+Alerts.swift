import ConvOpsAWS
import ConvOpsCore
import ConvOpsStore
import Foundation

/// Alerts, as the engine sees them: what an alarm is about, who may act on its message, and
/// the fix button, which enters the normal plan → confirm → approve flow.
extension Engine {
    static let alertReader = Person(id: AuditEntry.botActor, name: AuditEntry.botActor)

    /// The resource an alarm's dimensions name, looked up where the alarm lives (the bot's
    /// own account, or a configured one by its account id); nil when not found or not ours.
    public func alarmResource(_ alarm: Alarm) async -> ResourceRef? {
        guard let subject = alarm.subject, let region = alarm.region else { return nil }
        let alias: String?
        if let roles {
            guard let account = roles.accounts.first(where: { $0.accountID != nil && $0.accountID == alarm.account }) else { return nil }
            alias = account.alias
        } else {
            // One account: an alarm from another account (a shared topic) is not about ours, even
            // when a resource here has the same name; a fix button there would act on the wrong one.
            guard let account = alarm.account, account == (await ownAccountID()) else { return nil }
            alias = nil
        }
        guard let place = try? workspace(alias, region: region, for: Self.alertReader) else { return nil }
        let outcome = await search([place]).resolve(ResourceMention(subject.id, kind: subject.kind))
        switch outcome.resolution {
        case .found(let ref): return ref
        case .ambiguous(let refs): return refs.first { $0.container == subject.container }
        case .notFound: return nil
        }
    }

    /// The bot's own account id (STS GetCallerIdentity), asked once; a failure is asked again
    /// a minute later, not on every alert of a storm.
    func ownAccountID() async -> String? {
        if let known = ownAccount, known.id != nil || clock.now().timeIntervalSince(known.at) < 60 { return known.id }
        let arn = try? await aws.callerIdentity()
        // arn:aws:sts::123456789012:assumed-role/convops/session
        let id = arn.flatMap { a -> String? in
            let parts = a.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count >= 6, parts[4].count == 12, parts[4].allSatisfy(\.isNumber) else { return nil }
            return String(parts[4])
        }
        ownAccount = (id, clock.now())
        return id
    }

    /// The resource's environment name, as the policy reads it.
    public func environmentName(of resource: ResourceRef) -> String? { environment(of: resource).name }

    public enum AlertClick: Sendable, Hashable {
        case acknowledge, fix, snooze
    }

    /// A click on an alert's button. `card`: the message it sat on, which must be the one the
    /// episode was posted as. Acknowledging needs the right to see alarms where the resource
    /// lives; the fix is a plan like any typed request, with every check that has.
    public func alertClick(_ click: AlertClick, episodeID: String, card: AlertMessage, by person: Person,
                           from origin: Origin) async -> (replies: [Reply], changed: AlertEpisode?) {
        let m = messages(nil)
        guard let episode = try? store.episode(channel: card.channel, ts: card.ts), episode.id == episodeID else {
            await audit(refusal: "alert.\(click)", target: "-", by: person, why: "button not on that alert's message", requestID: nil)
            return ([.refused(m.text("alert.not_its_card"))], nil)
        }
        let target = Self.alertTarget(episode)
        let place: EnvironmentScope = episode.resource.map { EnvironmentScope(environment(of: $0)) } ?? .unknown
        switch click {
        case .acknowledge:
            guard access.allows(person.id, .alarms, environment: place, account: episode.resource?.account, channel: origin.channel,
                                standing: origin.standing) else {
                await audit(refusal: "alert.acknowledge", target: target, by: person, why: "policy: may not see alarms there", requestID: nil)
                return ([.refused(m.text("alert.ack_denied", ["alarm": episode.alarm.name]))], nil)
            }
            guard episode.isOpen else { return ([.refused(m.text("alert.ack_closed", ["alarm": episode.alarm.name]))], nil) }
            do {
                guard try store.acknowledge(episodeID: episode.id, by: person, at: clock.now(), target: target) else {
                    let who = episode.acknowledgedBy.map(store.displayName(pseudonym:)) ?? "-"
                    return ([.refused(m.text("alert.ack_already", ["alarm": episode.alarm.name, "person": who]))], nil)
                }
                return ([], try store.episode(id: episode.id))
            } catch {
                return ([.refused(m.text("error.internal"))], nil)
            }
        case .snooze:
            // Snooze 1h: what the alert is about (its resource, else the alarm), like the typed command.
            let target: SnoozeTarget = episode.resource.map { .resource(ResourceMention($0.id, kind: $0.kind)) } ?? .alarm(episode.alarm.name)
            let message = InboundMessage(text: "snooze", person: person, channel: origin.channel, standing: origin.standing)
            var q = Qualifiers()
            q.region = episode.resource?.region
            q.account = episode.resource?.account
            do {
                return (try await snooze(target, .seconds(3600), q, message: message, m), nil)
            } catch let error as EngineError {
                return ([.refused(m.text(error.key, error.arguments))], nil)
            } catch {
                return ([.refused(m.text("error.internal", ["id": "-"]))], nil)
            }
        case .fix:
            guard episode.isOpen, let resource = episode.resource, let verb = Self.fixVerb(resource.kind) else {
                return ([.refused(m.text("alert.no_fix", ["alarm": episode.alarm.name]))], nil)
            }
            // Named where it lives: the same name in another region or account is another resource.
            var text = "\(verb) \(resource.kind == .ec2Instance || resource.kind == .rdsInstance ? resource.id : (resource.name ?? resource.id))"
            text += " in \(resource.region)"
            if let account = resource.account { text += " on account \(account)" }
            let replies = await handle(InboundMessage(text: text, person: person, channel: origin.channel, locale: "en", standing: origin.standing))
            for case .request(let update) in replies where update.step == .planned {
                // The plan is an ordinary request; the audit log says which alert it came from.
                try? store.append([AuditEntry.Draft(at: clock.now(), actor: person, action: "alert.fix", target: target,
                                                    decision: .requested, outcome: "alert episode \(episode.id)",
                                                    requestID: update.request.id)])
            }
            return (replies, nil)
        }
    }

    /// The action that usually fixes an alarm on this kind of resource, as typed ("restart").
    public static func fixVerb(_ kind: ResourceKind) -> String? {
        switch kind {
        case .ec2Instance, .ecsService, .rdsInstance: "restart"
        case .autoScalingGroup: nil
        }
    }

    static func alertTarget(_ episode: AlertEpisode) -> String {
        episode.resource?.auditTarget ?? "alarm \(episode.alarm.name)"
    }
}
