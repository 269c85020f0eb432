import Foundation
import Glibc
import Synchronization

/// The outage spool: one file per webhook call that could not be stored in Redis, written to a temporary name,
/// fsynced, renamed into place and the directory fsynced, before the caller answers 2xx. Files are named by time and
/// sequence, so the oldest is replayed first; a file is removed only after its replay was stored.
public final class Spool: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let directory: String
    public let maxBytes: Int
    private let state: Mutex<(bytes: Int, count: Int, sequence: UInt64)>

    /// Opens (creating, mode 0700) the directory and counts what an earlier process left in it.
    public init(directory: String, maxBytes: Int) throws {
        self.directory = directory
        self.maxBytes = maxBytes
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var bytes = 0
        var count = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            let path = directory + "/" + name
            if name.hasSuffix(".tmp") {
                try? FileManager.default.removeItem(atPath: path)  // never renamed: never acknowledged
            } else if name.hasSuffix(".spool") {
                bytes += Self.size(path)
                count += 1
            }
        }
        self.state = Mutex((bytes, count, 0))
    }

    public var bytes: Int { self.state.withLock { $0.bytes } }
    public var count: Int { self.state.withLock { $0.count } }

    /// Stores `record` durably; throws when the spool is full or the disk refuses (the caller answers 503 then).
    public func append(_ record: [UInt8]) throws(Failure) {
        let sequence: UInt64 = try self.state.withLock { (state) throws(Failure) -> UInt64 in
            guard state.bytes + record.count <= self.maxBytes else {
                throw Failure(description: "spool full: \(state.bytes) of \(self.maxBytes) bytes used")
            }
            state.bytes += record.count  // reserved now, so concurrent appends cannot overfill it
            state.sequence += 1
            return state.sequence
        }
        let millis = UInt64(max(0, Date().timeIntervalSince1970 * 1000))
        let name = String(format: "%015llu-%06d-%010llu", millis, getpid(), sequence)
        do {
            try self.write(record, to: name)
            self.state.withLock { $0.count += 1 }
        } catch {
            self.state.withLock { $0.bytes -= record.count }
            throw error
        }
    }

    /// The oldest spooled files, up to `limit`.
    public func oldest(limit: Int) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: self.directory)) ?? []
        return Array(names.filter { $0.hasSuffix(".spool") }.sorted().prefix(limit))
    }

    public func read(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: self.directory + "/" + name)))
    }

    /// Seconds since the oldest file was spooled (0 when empty).
    public var oldestAge: Double {
        guard let name = self.oldest(limit: 1).first, let millis = Double(name.prefix(15)) else { return 0 }
        return max(0, Date().timeIntervalSince1970 - millis / 1000)
    }

    /// Removes a replayed file.
    public func remove(_ name: String) {
        let path = self.directory + "/" + name
        let size = Self.size(path)
        if unlink(path) == 0 { self.forget(size) }
    }

    /// Moves a file that cannot be replayed aside (`bad/`), keeping it for a person to look at.
    public func quarantine(_ name: String) {
        let bad = self.directory + "/bad"
        try? FileManager.default.createDirectory(atPath: bad, withIntermediateDirectories: true)
        let size = Self.size(self.directory + "/" + name)
        if rename(self.directory + "/" + name, bad + "/" + name) == 0 { self.forget(size) }
    }

    /// A file that left the spool (replayed or set aside) no longer counts.
    private func forget(_ size: Int) {
        self.state.withLock {
            $0.bytes = max(0, $0.bytes - size)
            $0.count = max(0, $0.count - 1)
        }
    }

    private static func size(_ path: String) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }

    private func write(_ record: [UInt8], to name: String) throws(Failure) {
        let temporary = self.directory + "/" + name + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(description: "cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var written = 0
        let ok = record.withUnsafeBytes { buffer -> Bool in
            while written < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return false }
                written += n
            }
            return fsync(fd) == 0
        }
        close(fd)
        guard ok, rename(temporary, self.directory + "/" + name + ".spool") == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw Failure(description: "cannot write the spool: \(reason)")
        }
        // the rename itself must reach the disk before the call is acknowledged
        let dir = open(self.directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0 else { throw Failure(description: "cannot open the spool directory") }
        defer { close(dir) }
        guard fsync(dir) == 0 else { throw Failure(description: "cannot fsync the spool directory") }
    }
}
