import CCurl
import Foundation
import Synchronization

/// The state of one transfer that libcurl's callbacks reach through their user pointer.
/// `@unchecked Sendable` because the cancellation handler runs on another thread: it only
/// touches `cancelled` (an atomic); everything else belongs to the thread running the perform.
final class Transfer: @unchecked Sendable {
    var body = Data()
    var headers: [(name: String, value: String)] = []
    let maxBodyBytes: Int
    var tooLarge = false
    /// Set from another thread when the awaiting task is cancelled; read by the progress callback.
    let cancelled = Atomic<Bool>(false)

    init(maxBodyBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
    }
}

// libcurl calls these C function pointers; they recover the Transfer from the user pointer.

let transferWrite: convops_curl_data_cb = { pointer, size, count, user in
    let transfer = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
    let bytes = size * count
    if transfer.body.count + bytes > transfer.maxBodyBytes {
        transfer.tooLarge = true
        return 0 // libcurl aborts with CURLE_WRITE_ERROR
    }
    transfer.body.append(UnsafeRawPointer(pointer!).assumingMemoryBound(to: UInt8.self), count: bytes)
    return bytes
}

let transferHeader: convops_curl_data_cb = { pointer, size, count, user in
    let transfer = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
    let bytes = size * count
    let line = String(decoding: UnsafeRawBufferPointer(start: pointer, count: bytes), as: UTF8.self)
    if line.hasPrefix("HTTP/") {
        // A new status line (after 100 Continue or a redirect) starts a fresh header block.
        transfer.headers.removeAll()
    } else if let colon = line.firstIndex(of: ":") {
        let name = String(line[..<colon]).trimmingCharacters(in: .whitespaces)
        let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespacesAndNewlines)
        transfer.headers.append((name, value))
    }
    return bytes
}

let transferProgress: convops_curl_xferinfo_cb = { user, _, _, _, _ in
    let transfer = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
    return transfer.cancelled.load(ordering: .relaxed) ? 1 : 0
}
