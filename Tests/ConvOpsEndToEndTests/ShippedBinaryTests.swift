import ConvOpsSlack
import ConvOpsTestSupport
import Foundation
import Testing

/// The demo and the Slack flow, done by the `convops` binary as a customer runs it. scripts/test
/// runs this suite a second time with CONVOPS_TEST_BINARY set to the release build, so an
/// optimizer-only failure (issue 11: every named resource crashed at -O) fails CI.
@Suite(.serialized) struct ShippedBinaryTests {
    /// An Auto Scaling group beside the demo's instances, so that `scale` has something to act on.
    static let group = """
        import boto3, sys
        kw = dict(region_name="eu-west-1", endpoint_url=sys.argv[1], aws_access_key_id="testing", aws_secret_access_key="testing")
        ec2 = boto3.client("ec2", **kw)
        ami = ec2.describe_images()["Images"][0]["ImageId"]
        ec2.create_launch_template(LaunchTemplateName="web", LaunchTemplateData={"ImageId": ami, "InstanceType": "t3.micro"})
        boto3.client("autoscaling", **kw).create_auto_scaling_group(AutoScalingGroupName="web-asg", LaunchTemplate={"LaunchTemplateName": "web"},
                                      MinSize=1, MaxSize=4, DesiredCapacity=1, AvailabilityZones=["eu-west-1a"])
        """

    static func moto() async throws -> MotoServer {
        try await SeededMoto.shared.get("ShippedBinaryTests", also: group)
    }

    @Test func theDemoInTheConsole() async throws {
        let moto = try await Self.moto()
        let scenario = try Scenario(moto: moto, extra: ["CONVOPS_WAIT_POLL_SECONDS": "0.2", "CONVOPS_WAIT_TIMEOUT_SECONDS": "20"])
        defer { scenario.remove() }
        try await moto.startRecording()
        let script = """
            how is web-1 doing?
            restart web-1
            confirm
            stop web-2
            confirm
            start web-2
            confirm
            scale web-asg to 3
            confirm
            logs web-1 since 999999 weeks
            logs web-1 last 600000h
            logs web-1 seit 999999 wochen
            scale web-asg to 2147483648
            scale web-asg +99999999999999999999
            status web-1
            """
        let result = try await convops(["chat", "--as", "alice"], stdin: script + "\n", environment: scenario.environment)
        #expect(result.status == 0, "binary \(convopsBinary) exited \(result.status): \(result.stderr.suffix(3000))")
        let out = result.stdout
        // The status question, asked first and last: the process answered every line between.
        #expect(out.components(separatedBy: ") is running — EC2 instance in eu-west-1.").count == 3, "\(out)")
        #expect(out.contains("convops: web-1 (i-"))
        #expect(out.contains("what:     reboot EC2 instance web-1 (i-"))
        #expect(out.contains("was rebooted (as arn:aws:sts::123456789012:user/moto)."))
        #expect(out.contains("what:     stop EC2 instance web-2 (i-"))
        #expect(out.contains("what:     start EC2 instance web-2 (i-"))
        #expect(out.contains("calls:    autoscaling:SetDesiredCapacity AutoScalingGroupName=web-asg DesiredCapacity=3"))
        // Numbers too large for any limit are refused by name, in the person's language.
        #expect(out.contains("I can look back at most 90 days (and at least a second), and “since 999999 weeks” is outside that."))
        #expect(out.contains("I can look back at most 90 days (and at least a second), and “last 600000h” is outside that."))
        #expect(out.contains("Ich kann höchstens 90 Tage (und mindestens eine Sekunde) zurückschauen, und „seit 999999 wochen“ liegt außerhalb."))
        #expect(out.contains("I can scale to at most 10,000, and “2147483648” is more than that."))
        #expect(out.contains("I can change a count by at most 10,000 at once, and “+99999999999999999999” is more than that."))
        let bodies = try await moto.recordedBodies()
        #expect(bodies.filter { $0.contains("Action=RebootInstances") }.count == 1)
        #expect(bodies.filter { $0.contains("Action=StopInstances") }.count == 1)
        #expect(bodies.filter { $0.contains("Action=StartInstances") }.count == 1)
        #expect(bodies.filter { $0.contains("Action=SetDesiredCapacity") && $0.contains("DesiredCapacity=3") }.count == 1)
        let plan = try await convops(["plan", "restart web-1"], environment: scenario.environment)
        #expect(plan.status == 0, "\(plan.stderr.suffix(2000))")
        #expect(plan.stdout.contains("calls:    ec2:RebootInstances InstanceIds=i-"))
    }

    @Test func aSlashCommandAConfirmClickAndTheCardUpdatedUnderConvopsRun() async throws {
        let moto = try await Self.moto()
        let emulator = try SlackEmulator()
        defer { emulator.shutdown() }
        emulator.addUser("U111", name: "Alice")
        let scenario = try Scenario(moto: moto, config: #"{"policy": {"mode": "solo", "rules": [{"who": ["U111"], "intents": ["*"], "environments": ["*"]}]}}"#)
        defer { scenario.remove() }
        var env = scenario.environment.merging(["SLACK_API_URL": emulator.apiURL, "SLACK_APP_TOKEN": SlackEmulator.appToken,
                                                "SLACK_BOT_TOKEN": SlackEmulator.botToken]) { $1 }
        env["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        env["HOME"] = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
        // An inherited proxy goes nowhere (libwebsockets would follow http_proxy for Socket Mode).
        let deadProxy = "http://127.0.0.1:\(try FreePort.pick())"
        for name in ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "ALL_PROXY"] { env[name] = deadProxy }
        let process = try RunningProcess(convopsBinary, ["run"], environment: env, currentDirectory: repositoryRoot)
        try await emulator.wait("two sockets from convops run", timeout: .seconds(30)) { emulator.openSockets.count == 2 }
        try await moto.startRecording()
        // No core file can hold the tokens: the core size limit is 0, soft and hard.
        let limits = try String(contentsOfFile: "/proc/\(process.pid)/limits", encoding: .utf8)
        let core = try #require(limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") })
        #expect(core.split(separator: " ", omittingEmptySubsequences: true).dropFirst(4).prefix(2) == ["0", "0"], "\(core)")

        // Messages that once trapped the process: each is answered, and the process stays up.
        for hostile in ["logs web-1 since 999999 weeks", "logs web-1 last 600000h", "logs web-1 seit 999999 wochen",
                        "scale web-asg to 2147483648", "scale web-asg +99999999999999999999"] {
            _ = try emulator.slashCommand(hostile, user: "U111", channel: "C111")
        }
        try await emulator.wait("five refusals") {
            emulator.ephemerals.filter { $0.text.contains("at most") || $0.text.contains("höchstens") }.count >= 5
        }

        let envelope = try emulator.slashCommand("restart web-1", user: "U111", channel: "C111")
        try await emulator.wait("the plan card") { emulator.card(with: .confirm) != nil }
        #expect(emulator.acked(envelope))
        let card = try #require(emulator.card(with: .confirm))
        let click = try emulator.click("convops.confirm", value: card.value, user: "U111", channel: "C111", messageTS: card.ts)
        try await emulator.wait("the card to show the outcome") {
            emulator.messages.first { $0.ts == card.ts }?.text.contains("Done:") == true
        }
        #expect(emulator.acked(click))
        #expect(emulator.messages.first { $0.ts == card.ts }?.text.contains("was rebooted") == true)
        #expect(try await moto.recordedBodies().filter { $0.contains("Action=RebootInstances") }.count == 1)

        process.signal(SIGTERM)
        let result = await process.wait()
        #expect(result.status == 0, "binary \(convopsBinary) exited \(result.status): \(result.stderr.suffix(3000))")
    }
}

extension ShippedBinaryTests {
    /// `convops check` says whether core dumps are off, and CONVOPS_ALLOW_CORE_DUMPS=1 turns them back on.
    @Test func coreDumpsAreOffUnlessAllowed() async throws {
        let moto = try await Self.moto()
        let scenario = try Scenario(moto: moto)
        defer { scenario.remove() }
        let off = try await convops(["check"], environment: scenario.environment)
        #expect(off.status == 0, "\(off.stderr.suffix(2000))")
        #expect(off.stdout.contains("cores:    off\n"), "\(off.stdout)")
        let on = try await convops(["check"], environment: scenario.environment.merging(["CONVOPS_ALLOW_CORE_DUMPS": "1"]) { $1 })
        #expect(on.stdout.contains("cores:    allowed (CONVOPS_ALLOW_CORE_DUMPS=1)"), "\(on.stdout)")
    }
}

extension ShippedBinaryTests {
    /// curl follows http_proxy and friends from the environment, for loopback too: a variable
    /// set on the host would send every call, tokens and signatures included, to its proxy.
    /// ConvOps uses the proxy it is configured with, or none.
    @Test func proxyVariablesFromTheEnvironmentAreIgnored() async throws {
        let moto = try await Self.moto()
        let scenario = try Scenario(moto: moto)
        defer { scenario.remove() }
        let deadPort = try FreePort.pick()
        var env = scenario.environment
        for name in ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"] {
            env[name] = "http://127.0.0.1:\(deadPort)"
        }
        let plan = try await convops(["plan", "restart web-1"], environment: env)
        #expect(plan.status == 0, "\(plan.stdout) \(plan.stderr.suffix(2000))")
        #expect(plan.stdout.contains("calls:    ec2:RebootInstances InstanceIds=i-"))
        env["CONVOPS_PROXY"] = "http://user:secret@proxy.internal:3128"
        let refused = try await convops(["plan", "restart web-1"], environment: env)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("CONVOPS_PROXY (proxy) must be a proxy URL"))
        #expect(!refused.stderr.contains("secret"))
    }
}

extension ShippedBinaryTests {
    /// `convops alerts failed|retry|drop` on parked messages, as an operator runs them: a
    /// message built to attack the terminal (escape sequences) is shown inert.
    @Test func parkedAlarmMessagesAreListedShownInertRetriedAndDropped() async throws {
        let scenario = try Scenario(moto: nil)
        defer { scenario.remove() }
        let empty = try await convops(["alerts", "failed"], environment: scenario.environment)
        #expect(empty.status == 0 && empty.stdout.contains("no parked alarm messages"), "\(empty.stdout) \(empty.stderr.suffix(1000))")
        let store = try scenario.store()
        let hostile = "{\"AlarmName\": \"x\u{1B}]0;pwned\u{07}\u{1B}[2J\u{202E}\"}"
        let id = try store.park(body: hostile, deliveryID: "sqs:m-1", reason: "no NewStateValue in \u{1B}[31mx", id: "pk-test00000001", at: Date())
        let listed = try await convops(["alerts", "failed"], environment: scenario.environment)
        #expect(listed.stdout.contains(id) && listed.stdout.contains("1 parked"), "\(listed.stdout)")
        let shown = try await convops(["alerts", "failed", "--show", id], environment: scenario.environment)
        #expect(shown.status == 0)
        for raw in ["\u{1B}", "\u{07}", "\u{202E}"] { #expect(!shown.stdout.contains(raw) && !listed.stdout.contains(raw)) }
        #expect(shown.stdout.contains(#"\u{1b}]0;pwned\u{7}"#), "\(shown.stdout)")
        let retried = try await convops(["alerts", "retry", id], environment: scenario.environment)
        #expect(retried.status != 0 && retried.stderr.contains("\(id) still cannot be read"), "\(retried.stdout) \(retried.stderr)")
        #expect(!retried.stderr.contains("\u{1B}"))
        let dropped = try await convops(["alerts", "drop", id], environment: scenario.environment)
        #expect(dropped.status == 0, "\(dropped.stderr)")
        #expect(try await convops(["alerts", "failed"], environment: scenario.environment).stdout.contains("no parked alarm messages"))
    }
}

extension ShippedBinaryTests {
    /// `convops check` asks the Graph API whether the token may use the number, and says so
    /// when it has expired (#190), as the running process stops sending then.
    @Test func checkSaysWhetherTheWhatsAppTokenWorks() async throws {
        let moto = try await Self.moto()
        let wa = try WhatsAppEmulator()
        defer { wa.shutdown() }
        let config = """
            {"whatsapp": {"phone_number_id": "\(WhatsAppEmulator.phoneNumberID)", "version": "\(WhatsAppEmulator.version)", "api_url": "\(wa.apiURL)",
                          "people": [{"number": "+491701234567", "name": "Alice"}]}}
            """
        let scenario = try Scenario(moto: moto, extra: ["WHATSAPP_TOKEN": WhatsAppEmulator.token, "WHATSAPP_APP_SECRET": "s",
                                                       "WHATSAPP_VERIFY_TOKEN": "v"], config: config)
        defer { scenario.remove() }
        let ok = try await convops(["check"], environment: scenario.environment)
        #expect(ok.status == 0, "\(ok.stderr.suffix(1000))")
        #expect(ok.stdout.contains("whatsapp: number id \(WhatsAppEmulator.phoneNumberID), v25.0, 1 people"), "\(ok.stdout)")
        #expect(ok.stdout.contains("token ok for this number"))
        #expect(!ok.stdout.contains(WhatsAppEmulator.token) && !ok.stderr.contains(WhatsAppEmulator.token))
        wa.expireToken()
        let expired = try await convops(["check"], environment: scenario.environment)
        #expect(expired.stdout.contains("TOKEN EXPIRED"), "\(expired.stdout)")
        var missing = scenario.environment
        missing["WHATSAPP_TOKEN"] = nil
        let none = try await convops(["check"], environment: missing)
        #expect(none.stdout.contains("WHATSAPP_TOKEN must be set"), "\(none.stdout)")
    }
}
