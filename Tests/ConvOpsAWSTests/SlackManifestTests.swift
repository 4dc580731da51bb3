import ConvOpsTestSupport
import Foundation
import Testing

/// slack/manifest.yaml asks for exactly what ConvOps uses, read with a real YAML parser.
@Suite struct SlackManifestTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test func manifestHasSocketModeTheCommandTheEventsAndTheMinimumScopes() async throws {
        let python = ProcessInfo.processInfo.environment["CONVOPS_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"
        let script = """
            import json, sys, yaml
            m = yaml.safe_load(open(sys.argv[1]))
            print(json.dumps({
              "socket": m["settings"]["socket_mode_enabled"],
              "interactive": m["settings"]["interactivity"]["is_enabled"],
              "events": sorted(m["settings"]["event_subscriptions"]["bot_events"]),
              "scopes": sorted(m["oauth_config"]["scopes"]["bot"]),
              "commands": [c["command"] for c in m["features"]["slash_commands"]],
              "urls": [k for k in json.dumps(m).split('"') if k.endswith("url")],
              "dm": m["features"]["app_home"]["messages_tab_enabled"] and not m["features"]["app_home"]["messages_tab_read_only_enabled"],
            }, sort_keys=True))
            """
        let result = try await Subprocess.run("/usr/bin/env", [python, "-c", script, Self.root + "/slack/manifest.yaml"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == """
            {"commands": ["/convops"], "dm": true, "events": ["app_mention", "message.im"], "interactive": true, \
            "scopes": ["app_mentions:read", "channels:history", "chat:write", "commands", "groups:history", "im:history", "users:read"], "socket": true, "urls": []}
            """)
    }
}
