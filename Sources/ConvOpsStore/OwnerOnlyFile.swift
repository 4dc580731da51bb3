import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Files that hold keys or personal data are readable and writable by their owner only, from
/// the moment they exist: created with mode 0600 in the same call (no window between a write
/// and a chmod, whatever the umask), never through a symbolic link.
enum OwnerOnlyFile {
    /// Creates `path` with mode 0600 and `contents`, durably; fails if it exists.
    static func create(_ path: String, contents: Data) throws(StoreError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("create \(path)") }
        defer { close(fd) }
        var written = 0
        while written < contents.count {
            let n = contents.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            guard n > 0 else { throw failure("write \(path)") }
            written += n
        }
        guard fsync(fd) == 0 else { throw failure("sync \(path)") }
        // And the directory entry, so the file (a key) survives power loss with the data it protects.
        let dir = open((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent, O_RDONLY | O_CLOEXEC)
        if dir >= 0 { _ = fsync(dir); close(dir) }
    }

    /// Makes sure the database file and its WAL and shared-memory files are 0600 (SQLite
    /// gives the WAL the database file's mode): creates the database file so when it is new,
    /// and takes group and other bits off files an older convops or another tool left open.
    static func prepareDatabase(_ path: String) throws(StoreError) {
        if access(path, F_OK) != 0 {
            do {
                try create(path, contents: Data())
            } catch {
                throw StoreError(code: error.code, operation: "open \(path)", message: error.message)
            }
        }
        for file in [path, path + "-wal", path + "-shm"] {
            var info = stat()
            guard lstat(file, &info) == 0 else { continue }
            guard info.st_mode & S_IFMT == S_IFREG else {
                throw StoreError(code: 0, operation: "open \(file)", message: "it is not a regular file (a link or a device); refusing to use it")
            }
            guard info.st_uid == geteuid() else {
                throw StoreError(code: 0, operation: "open \(file)", message: "it belongs to another user (uid \(info.st_uid)); refusing to use it")
            }
            if info.st_mode & 0o077 != 0, chmod(file, 0o600) != 0 { throw failure("chmod 600 \(file)") }
        }
    }

    /// Group or other permission bits of an existing file, or nil when it can't be read.
    static func openToOthers(_ path: String) -> mode_t? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let loose = info.st_mode & 0o077
        return loose == 0 ? nil : info.st_mode & 0o777
    }

    private static func failure(_ operation: String) -> StoreError {
        StoreError(code: 0, operation: operation, message: "\(String(cString: strerror(errno))) (errno \(errno))")
    }
}
