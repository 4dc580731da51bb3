import ConvOpsTestSupport
import Foundation
import Testing

/// AWS's error messages name the person (the role session `convops-<id>-<handle>`): after a
/// denied action and an erasure, neither their chat id nor their name is left in the database
/// file or its WAL. moto in IAM mode, so the denial is AWS's own wording.
@Suite(.serialized) struct ErasureEndToEndTests {
    /// The role may read instances and nothing else: a reboot is denied.
    static let setup = """
        import boto3, json, sys, urllib.request
        kw = dict(region_name="eu-west-1", endpoint_url=sys.argv[1], aws_access_key_id="testing", aws_secret_access_key="testing")
        iam = boto3.client("iam", **kw)
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/convops-bot"},
                 "Action": "sts:AssumeRole"}]}
        iam.create_role(RoleName="convops", AssumeRolePolicyDocument=json.dumps(trust))
        iam.put_role_policy(RoleName="convops", PolicyName="read", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ec2:DescribeInstances", "ec2:DescribeInstanceStatus"],
             "Resource": "*"}]}))
        iam.create_user(UserName="convops-bot")
        iam.put_user_policy(UserName="convops-bot", PolicyName="assume", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
        key = iam.create_access_key(UserName="convops-bot")["AccessKey"]
        ec2 = boto3.client("ec2", **kw)
        ami = ec2.describe_images()["Images"][0]["ImageId"]
        ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                          TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "web-1"}]}])
        urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/moto-api/reset-auth", data=b"0", method="POST",
                                                     headers={"Content-Type": "text/plain"}))
        print(json.dumps({"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}))
        """

    @Test func aDeniedActionLeavesNoNameBehindAfterErasure() async throws {
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        let python = ProcessInfo.processInfo.environment["CONVOPS_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"
        let out = try await Subprocess.run("/usr/bin/env", [python, "-c", Self.setup, moto.endpoint])
        guard out.status == 0, let key = try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: String] else {
            throw TestSupportError("IAM setup failed: \(out.stderr.suffix(1500))")
        }
        let config = """
            {"accounts": [{"alias": "prod", "role_arn": "arn:aws:iam::123456789012:role/convops", "external_id": "ext-4711",
                           "regions": ["eu-west-1"], "environment": "staging"}]}
            """
        let s = try Scenario(moto: moto, extra: ["AWS_ACCESS_KEY_ID": key["id"]!, "AWS_SECRET_ACCESS_KEY": key["secret"]!], config: config)
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
