import ConvOpsStore
import ConvOpsTestSupport
import Foundation

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// The `convops` binary under test: CONVOPS_TEST_BINARY when set (scripts/test points it at
/// the release build for a second run of the suites that start the binary), else the one
/// SwiftPM built next to the test bundle.
let convopsBinary: String = {
    if let chosen = ProcessInfo.processInfo.environment["CONVOPS_TEST_BINARY"], !chosen.isEmpty {
        return chosen.hasPrefix("/") ? chosen : repositoryRoot + "/" + chosen
    }
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("convops").path
    return FileManager.default.isExecutableFile(atPath: beside) ? beside : repositoryRoot + "/.build/debug/convops"
}()

/// Runs `convops` with only the environment given (plus PATH), the way a user would.
func convops(_ arguments: [String], stdin: String? = nil, environment: [String: String]) async throws -> Subprocess.Result {
    var env = environment
    env["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    env["HOME"] = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
    return try await Subprocess.run(convopsBinary, arguments, stdin: stdin, environment: env, currentDirectory: repositoryRoot)
}

/// A fresh database path and the environment pointing convops at it and at moto.
struct Scenario {
    let directory: String
    let environment: [String: String]
    var database: String { directory + "/convops.db" }

    /// `config`: a config file's JSON, written into the scenario's folder and named by CONVOPS_CONFIG.
    init(moto: MotoServer?, endpoint: String? = nil, extra: [String: String] = [:], config: String? = nil) throws {
        directory = try makeTemporaryDirectory("e2e")
        var extra = extra
        if let config {
            try config.write(toFile: directory + "/convops.json", atomically: true, encoding: .utf8)
            extra["CONVOPS_CONFIG"] = directory + "/convops.json"
        }
        var env: [String: String] = [
            "CONVOPS_DB": directory + "/convops.db",
            "CONVOPS_HOME": repositoryRoot,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        ]
        if let url = endpoint ?? moto?.endpoint { env["AWS_ENDPOINT_URL"] = url }
        environment = env.merging(extra) { $1 }
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    /// The scenario's database, opened with the key file convops made beside it.
    func store() throws -> Store {
        try Store(path: database, keys: try DataKeys.fromFile(database + ".key"))
    }
}

/// `convops run` refuses to start without a policy: the explicit "everyone may do everything".
let openMode = #"{"mode": "open"}"#

/// One moto server per test suite, seeded with the demo account: suites run in parallel, and
/// moto's request recorder is global to a server, so sharing one would mix their counts.
actor SeededMoto {
    static let shared = SeededMoto()
    private var servers: [String: Task<MotoServer, Error>] = [:]

    /// `also`: a Python script run once with the endpoint after the demo account is seeded
    /// (more resources for one suite); a failure fails every test that asks.
    func get(_ suite: String = #fileID, also extra: String? = nil) async throws -> MotoServer {
        if let task = servers[suite] { return try await task.value }
        let task = Task {
            let moto = try await MotoServer.start()
            try await StartGate.seeding.run {
                try await moto.seedSampleAccount(repositoryRoot: repositoryRoot)
                if let extra {
                    let python = ProcessInfo.processInfo.environment["CONVOPS_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"
                    let seeded = try await Subprocess.run("/usr/bin/env", [python, "-c", extra, moto.endpoint])
                    guard seeded.status == 0 else { throw TestSupportError("seeding \(suite) failed: \(seeded.stderr.suffix(1500))") }
                }
            }
            return moto
        }
        servers[suite] = task
        return try await task.value
    }
}

/// The start of a seeding script for two accounts in one moto: `base` is moto's default
/// account (123456789012), `prod` is 111111111111, reached through a role assumed there
/// (moto keeps what each makes apart). `ep` is the endpoint.
let twoAccountsPreamble = """
    import boto3, json, sys
    ep = sys.argv[1]
    base = dict(endpoint_url=ep, aws_access_key_id="testing", aws_secret_access_key="testing")
    creds = boto3.client("sts", region_name="eu-west-1", **base).assume_role(
        RoleArn="arn:aws:iam::111111111111:role/convops", RoleSessionName="seed", ExternalId="seed-id")["Credentials"]
    prod = dict(endpoint_url=ep, aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"])
    """
