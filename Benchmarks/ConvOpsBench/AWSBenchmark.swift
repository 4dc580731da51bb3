import ConvOpsAWS
import ConvOpsHTTP
import ConvOpsTestSupport
import Foundation

/// SigV4 signatures per second on one core, and our client against boto3 on the same moto:
/// 1,000 DescribeInstances calls each, one after another.
enum AWSBenchmark {
    static func run(repository: String) async throws -> [String: Any] {
        let env = ProcessInfo.processInfo.environment
        let signatures = Int(env["BENCH_SIGNATURES"] ?? "") ?? 200_000
        let calls = Int(env["BENCH_CALLS"] ?? "") ?? 1000

        // A DescribeInstances request as the client builds it, signed again and again.
        let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                         sessionToken: "session-token-example")
        let body = Data("Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=tag%3AName&Filter.1.Value.1=web-1".utf8)
        let request = SigV4.Request(method: "POST", path: "/", headers: [("Host", "ec2.eu-west-1.amazonaws.com"),
                                                                         ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
                                    body: body)
        let signer = SigV4(credentials: credentials, region: "eu-west-1", service: "ec2")
        let date = Date(timeIntervalSince1970: 1_800_000_000)
        var sink = 0
        for _ in 0..<1000 { sink &+= signer.sign(request, at: date).count }
        let start = nanos()
        for i in 0..<signatures { sink &+= signer.sign(request, at: date.addingTimeInterval(Double(i % 60))).count }
        let signSeconds = Double(nanos() - start) / 1e9

        if env["BENCH_SIGV4_ONLY"] == "1" {
            return ["benchmark": "aws", "sigv4_signatures_per_second": Int(Double(signatures) / signSeconds), "sink": sink & 1]
        }
        // Ours against boto3, the same moto, the same 1,000 calls.
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        try await moto.seedSampleAccount(repositoryRoot: repository)
        let http = HTTPClient(configuration: HTTPClientConfiguration(egress: EgressPolicy(allowedHosts: [], allowLoopback: true)), logger: .quiet)
        let client = AWSClient(configuration: AWSConfiguration(endpoint: moto.endpoint),
                               credentials: StaticCredentialsProvider(AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing")),
                               http: http, logger: .quiet)
        let ec2 = EC2(client: client)
        for _ in 0..<20 { _ = try await ec2.describeInstances() }
        let oursStart = nanos()
        for _ in 0..<calls { _ = try await ec2.describeInstances() }
        let oursSeconds = Double(nanos() - oursStart) / 1e9

        let python = env["CONVOPS_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"
        let script = """
            import boto3, sys, time
            ec2 = boto3.client("ec2", region_name="eu-west-1", endpoint_url=sys.argv[1],
                               aws_access_key_id="testing", aws_secret_access_key="testing")
            for _ in range(20): ec2.describe_instances()
            t = time.perf_counter()
            for _ in range(int(sys.argv[2])): ec2.describe_instances()
            print(time.perf_counter() - t)
            """
        let boto = try await Subprocess.run("/usr/bin/env", [python, "-c", script, moto.endpoint, String(calls)])
        guard boto.status == 0, let botoSeconds = Double(boto.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TestSupportError("boto3 run failed: \(boto.stderr.suffix(500))")
        }
        return [
            "benchmark": "aws",
            "sigv4_signatures": signatures,
            "sigv4_signatures_per_second": Int(Double(signatures) / signSeconds),
            "sigv4_us_per_signature": signSeconds / Double(signatures) * 1e6,
            "describe_instances_calls": calls,
            "ours_seconds": oursSeconds, "ours_ms_per_call": oursSeconds / Double(calls) * 1000,
            "boto3_seconds": botoSeconds, "boto3_ms_per_call": botoSeconds / Double(calls) * 1000,
            "boto3_over_ours": botoSeconds / oursSeconds,
            "sink": sink & 1,
        ]
    }
}
