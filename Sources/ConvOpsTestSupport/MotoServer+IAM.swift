import Foundation

extension MotoServer {
    /// Turns on moto's IAM and signature checks after making a role `convops` (with
    /// `rolePolicy`, trusted by the user `convops-bot`, asking for `externalID` when given), that
    /// user with leave to assume it, and an instance named web-1. Returns the user's access key.
    public func enableIAM(rolePolicy: String, externalID: String? = nil) async throws -> (id: String, secret: String) {
        let script = """
            import boto3, json, sys, urllib.request
            kw = dict(region_name="eu-west-1", endpoint_url=sys.argv[1], aws_access_key_id="testing", aws_secret_access_key="testing")
            iam = boto3.client("iam", **kw)
            statement = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/convops-bot"}, "Action": "sts:AssumeRole"}
            if sys.argv[3]:
                statement["Condition"] = {"StringEquals": {"sts:ExternalId": sys.argv[3]}}
            iam.create_role(RoleName="convops", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
            iam.put_role_policy(RoleName="convops", PolicyName="convops", PolicyDocument=sys.argv[2])
            iam.create_user(UserName="convops-bot")
            iam.put_user_policy(UserName="convops-bot", PolicyName="assume", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                 "Resource": "arn:aws:iam::123456789012:role/convops"}]}))
            key = iam.create_access_key(UserName="convops-bot")["AccessKey"]
            ec2 = boto3.client("ec2", **kw)
            ami = ec2.describe_images()["Images"][0]["ImageId"]
            ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                              TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "web-1"}]}])
            urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/moto-api/reset-auth", data=b"0", method="POST",
                                                         headers={"Content-Type": "text/plain"}))
            print(json.dumps({"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}))
            """
        let python = ProcessInfo.processInfo.environment["CONVOPS_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"
        let out = try await Subprocess.run("/usr/bin/env", [python, "-c", script, endpoint, rolePolicy, externalID ?? ""])
        guard out.status == 0, let key = try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: String],
              let id = key["id"], let secret = key["secret"] else {
            throw TestSupportError("IAM setup failed: \(out.stderr.suffix(1500))")
        }
        return (id, secret)
    }
}
