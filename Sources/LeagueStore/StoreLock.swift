import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One writer per store: an exclusive `flock` on `<database>.lock`, held for the life of the
/// process (the kernel releases it when the process ends, even on `kill -9`). A second `serve` on the
/// same file would send every notice twice; it refuses to start instead.
public final class StoreLock: Sendable {
    /// The lock file.
    public let path: String
    private let descriptor: Int32

    /// Why the lock could not be taken, as a sentence for the operator.
    public struct Held: Error, CustomStringConvertible {
        public var description: String
    }

    /// Takes the lock or throws `Held` naming the process that holds it.
    /// - Parameter databasePath: the SQLite file; the lock is `<databasePath>.lock` next to it.
    public init(databasePath: String) throws {
        let path = databasePath + ".lock"
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw Held(description: "cannot open the store's lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            var buffer = [UInt8](repeating: 0, count: 64)
            let count = pread(descriptor, &buffer, 63, 0)
            let holder = count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "?"
            close(descriptor)
            if code == EWOULDBLOCK {
                throw Held(
                    description: """
                        another LeagueOps process (pid \(holder)) is already using the store \(databasePath). \
                        Two bots on one store would send every notice twice; stop the other one first \
                        (its lock is \(path); it is released when that process ends).
                        """)
            }
            throw Held(description: "cannot lock \(path): \(String(cString: strerror(code)))")
        }
        // The holder's pid, for the message a second process prints.
        _ = ftruncate(descriptor, 0)
        let pid = Array("\(getpid())\n".utf8)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        self.path = path
        self.descriptor = descriptor
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
