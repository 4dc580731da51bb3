import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

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
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw TestSupportError("bind() failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
