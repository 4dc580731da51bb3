import ConvOpsCore
import ConvOpsGrammar
import Testing

/// Commands written out in the person's language ("Name it, for example …", "to do it, type
/// …"): in each locale, for every intent that names a resource, the text reads back as the
/// very same command.
@Suite struct GrammarSpokenTests {
    static let commands: [Command] = {
        let target = ResourceMention("web-1")
        let intents: [Intent] = [.restart(target: target), .stop(target: target), .start(target: target), .status(target: target),
                                 .scale(target: ResourceMention("api"), change: .absolute(4)),
                                 .scale(target: ResourceMention("api"), change: .delta(2)),
                                 .scale(target: ResourceMention("api"), change: .delta(-3))]
        let places = [Qualifiers(), Qualifiers(environment: "prod"), Qualifiers(region: "eu-central-1")]
        return intents.flatMap { intent in places.map { Command(intent, qualifiers: $0) } }
    }()

    @Test(arguments: ["en", "de"])
    func everyCommandReadsBackAsItselfInItsLocale(locale: String) throws {
        for command in Self.commands {
            let text = grammar.spoken(command, locale: locale)
            let parsed = try grammar.parse(text, locale: locale).get()
            #expect(parsed.command == command, "\(locale): “\(text)” → \(parsed.command)")
        }
    }

    /// From a follow-up: the target was recalled and has a kind. What is written out keeps
    /// the kind ("api service") and reads back as the command the person would type.
    @Test(arguments: ["en", "de"])
    func aRecalledTargetWithAKindIsWrittenWithItsKindNoun(locale: String) throws {
        for kind in [ResourceKind.ecsService, .rdsInstance, .ec2Instance] {
            var target = ResourceMention("api", kind: kind)
            target.recalled = .earlier
            let command = Command(.restart(target: target), qualifiers: Qualifiers(environment: "prod"))
            let text = grammar.spoken(command, locale: locale)
            let parsed = try grammar.parse(text, locale: locale).get()
            #expect(parsed.command.intent.target?.kind == kind && parsed.command.intent.target?.text == "api", "\(locale): “\(text)”")
            #expect(parsed.command.qualifiers.environment == "prod", "\(text)")
        }
        var plain = ResourceMention("web-1")
        plain.recalled = .earlier
        #expect(grammar.spoken(Command(.stop(target: plain)), locale: "en") == "stop web-1")
    }

    @Test func theLocalesOwnWords() throws {
        let restart = Command(.restart(target: ResourceMention("web-1")))
        #expect(grammar.spoken(restart, locale: "en") == "restart web-1")
        let german = grammar.spoken(restart, locale: "de")
        #expect(german.hasPrefix("starte web-1") && german.hasSuffix("neu"), "\(german)")
        let scale = Command(.scale(target: ResourceMention("api"), change: .absolute(4)), qualifiers: Qualifiers(environment: "prod"))
        #expect(grammar.spoken(scale, locale: "en") == "scale api to 4 in prod")
        #expect(grammar.spoken(scale, locale: "de").contains("auf 4"), "\(grammar.spoken(scale, locale: "de"))")
        // An unknown locale is the default one.
        #expect(grammar.spoken(restart, locale: "xx") == "restart web-1")
        // A name with "<" in it is written into a rule like any other, count and place kept.
        let odd = Command(.scale(target: ResourceMention("a<b"), change: .absolute(4)), qualifiers: Qualifiers(environment: "prod"))
        let written = grammar.spoken(odd, locale: "en")
        #expect(written.contains("a<b") && written.contains("4") && written.contains("prod"), "\(written)")
    }
}
