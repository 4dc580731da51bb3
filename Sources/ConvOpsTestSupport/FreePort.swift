import ConvOpsWebSocket
import Foundation
import Synchronization

/// A loopback TCP port nothing listens on right now (the kernel's choice for port 0), and
/// never one this process was given before: the port is free only until its user binds it,
/// and a moto_server takes seconds to start, so two servers started at once could otherwise
/// be handed the same port, one would fail to bind, and both tests would talk to the other.
public enum FreePort {
    private static let given = Mutex<Set<Int>>([])

    public static func pick() throws -> Int {
        for _ in 0..<100 {
            let port = try kernelChoice()
            if given.withLock({ $0.insert(port).inserted }) { return port }
        }
        throw TestSupportError("no loopback port this process was not already given")
    }

    private static func kernelChoice() throws -> Int {
        do {
            return Int(try WebServer.freePort("127.0.0.1"))
        } catch {
            throw TestSupportError("no free loopback port: \(error)")
        }
    }
}
