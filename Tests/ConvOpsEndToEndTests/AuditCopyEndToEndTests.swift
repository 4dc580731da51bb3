import ConvOpsTestSupport
import Foundation
import Testing

/// With `audit_digest_log_group`, every signed digest also goes to a CloudWatch Logs stream in
/// the customer's account: the same lines, in order, as the digest file beside the database.
@Suite struct AuditCopyEndToEndTests {
    @Test func theDigestsAreCopiedToCloudWatchLogs() async throws {
        let moto = try await SeededMoto.shared.get()
        let python = ProcessInfo.processInfo.environment["CONVOPS_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"
        let client = """
            import boto3, sys
            logs = boto3.client("logs", region_name="eu-west-1", endpoint_url=sys.argv[1], aws_access_key_id="testing", aws_secret_access_key="testing")
            """
        let made = try await Subprocess.run("/usr/bin/env", [python, "-c", client + "\nlogs.create_log_group(logGroupName='/convops/audit')", moto.endpoint])
        #expect(made.status == 0, "\(made.stderr)")
        let s = try Scenario(moto: moto, extra: ["CONVOPS_AUDIT_DIGEST_LOG_GROUP": "/convops/audit"])
        defer { s.remove() }
        let out = try await convops(["chat", "--as", "alice"], stdin: "restart web-2\nconfirm\n", environment: s.environment)
        #expect(out.stdout.contains("was rebooted"), "\(out.stdout)\n\(out.stderr)")
        let read = client + """

            for e in logs.get_log_events(logGroupName="/convops/audit", logStreamName="convops-audit-digests", startFromHead=True)["events"]:
                print(e["message"])
            """
        let copied = try await Subprocess.run("/usr/bin/env", [python, "-c", read, moto.endpoint])
        #expect(copied.status == 0, "\(copied.stderr)")
        let file = try String(contentsOfFile: s.database + ".digests", encoding: .utf8)
        #expect(!file.isEmpty)
        #expect(copied.stdout == file, "the copy:\n\(copied.stdout)\nthe file:\n\(file)")
    }
}
