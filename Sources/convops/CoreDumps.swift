#if os(Linux)
import CSystem
import Glibc
#endif

/// A core file of this process would hold the Slack and WhatsApp tokens, AWS session keys and
/// the data key in plain memory. So core dumps are off from the first instruction of `main`:
/// the process is marked not dumpable (which also keeps other processes of the same user from
/// attaching to it and reading its memory) and its core size limit is 0, soft and hard.
/// `CONVOPS_ALLOW_CORE_DUMPS=1` leaves both as the system set them, for debugging a crash.
enum CoreDumps {
    static func disable(environment: [String: String]) {
        guard environment["CONVOPS_ALLOW_CORE_DUMPS"] != "1" else { return }
        #if os(Linux)
        _ = convops_set_dumpable(0)
        var none = rlimit(rlim_cur: 0, rlim_max: 0)
        _ = setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &none)
        #endif
    }

    /// Whether they are off now.
    static var off: Bool {
        #if os(Linux)
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &limit)
        return convops_get_dumpable() == 0 && limit.rlim_cur == 0 && limit.rlim_max == 0
        #else
        return false
        #endif
    }

    /// What `convops check` and the start of `run` say.
    static func state(environment: [String: String]) -> String {
        if off { return "off" }
        if environment["CONVOPS_ALLOW_CORE_DUMPS"] == "1" { return "allowed (CONVOPS_ALLOW_CORE_DUMPS=1): a core file would hold tokens and keys" }
        return "ON: the process could not turn them off, so a core file would hold tokens and keys; check the system's limits"
    }
}
