import ConvOpsTestSupport
import Foundation
import Testing

/// AWS's error messages name the person (the role session `convops-<id>-<handle>`): after a
/// denied action and an erasure, neither their chat id nor their name is left in the database
/// file or its WAL. moto in IAM mode, so the denial is AWS's own wording.
@Suite(.serialized) struct ErasureEndToEndTests {
    /// The role may read instances and nothing else: a reboot is denied.
    static let readOnly = #"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ec2:DescribeInstances", "ec2:DescribeInstanceStatus"], "Resource": "*"}]}"#

    @Test func aDeniedActionLeavesNoNameBehindAfterErasure() async throws {
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        let key = try await moto.enableIAM(rolePolicy: Self.readOnly)
        let config = """
            {"accounts": [{"alias": "prod", "role_arn": "arn:aws:iam::123456789012:role/convops", "external_id": "ext-4711",
                           "regions": ["eu-west-1"], "environment": "staging"}]}
            """
        let s = try Scenario(moto: moto, extra: ["AWS_ACCESS_KEY_ID": key.id, "AWS_SECRET_ACCESS_KEY": key.secret], config: config)
        defer { s.remove() }
        // Two names for one person: the session under the first is not kept for the second.
        let chat = try await convops(["chat", "--as", "zelda"], stdin: "restart web-1\nconfirm\n/as zelda\n", environment: s.environment)
        #expect(chat.stdout.contains("is not authorized to perform: ec2:RebootInstances"), "\(chat.stdout)\n\(chat.stderr)")
        let store = try s.store()
        let failed = try #require(try store.auditEntries(limit: 10).first { $0.decision == .failed })
        #expect(failed.outcome?.contains("convops-p-") == true, "\(failed.outcome ?? "-")")
        #expect(failed.outcome?.contains("zelda") == false)

        let erase = try await convops(["data", "erase", "--person", "console:zelda"], environment: s.environment)
        #expect(erase.status == 0, "\(erase.stderr)")
        for file in [s.database, s.database + "-wal"] where FileManager.default.fileExists(atPath: file) {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            for needle in ["zelda", "console:zelda", "console-zelda"] {
                #expect(bytes.range(of: Data(needle.utf8)) == nil, "\(needle) in \(file)")
            }
        }
    }
}
