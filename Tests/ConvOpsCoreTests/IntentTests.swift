import ConvOpsCore
import Testing

@Suite struct IntentTests {
    @Test func commandsAreBuiltFromSlots() throws {
        #expect(try Command(kind: .restart, slots: ["target": .text("web-1")]).intent == .restart(target: ResourceMention("web-1")))
        #expect(try Command(kind: .status, slots: [:]).intent == .status(target: nil))
        #expect(try Command(kind: .scale, slots: ["target": .text("api"), "delta": .number(-2)]).intent
            == .scale(target: ResourceMention("api"), change: .delta(-2)))
        let qualified = try Command(kind: .restart, slots: ["target": .text("web-1"), "env": .text("prod"), "region": .text("eu-central-1")])
        #expect(qualified.qualifiers == Qualifiers(environment: "prod", region: "eu-central-1"))
    }

    @Test func aMissingRequiredSlotNamesIt() {
        #expect(throws: IntentError(kind: .restart, missingSlot: "target")) { try Command(kind: .restart, slots: [:]) }
        #expect(throws: IntentError(kind: .scale, missingSlot: "count")) { try Command(kind: .scale, slots: ["target": .text("api")]) }
    }

    @Test func onlyTheMutatingIntentsAreMutating() {
        #expect(IntentKind.allCases.filter { $0.risk == .mutating } == [.restart, .stop, .start, .scale])
    }

    @Test func mentionsKnowTheirForm() {
        #expect(ResourceMention("i-0123456789abcdef0").form == .instanceID)
        #expect(ResourceMention("i-01234567").form == .instanceID)
        #expect(ResourceMention("i-0123").form == .name)
        #expect(ResourceMention("arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0").form == .arn)
        #expect(ResourceMention("web-1").form == .name)
    }

    @Test func plansRenderBackToCanonicalText() {
        let r = ResourceRef(kind: .ec2Instance, id: "i-0123456789abcdef0", name: "web-1", region: "eu-west-1")
        let call = APICall(service: "ec2", operation: "RebootInstances", parameters: ["InstanceIds": r.id])
        #expect(Plan(action: .rebootInstance, resource: r, risk: .mutating, apiCalls: [call]).canonicalText == "restart web-1")
        #expect(call.description == "ec2:RebootInstances InstanceIds=i-0123456789abcdef0")
        #expect(r.label == "web-1 (i-0123456789abcdef0)")
    }
}
