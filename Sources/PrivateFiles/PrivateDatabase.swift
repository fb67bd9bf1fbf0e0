import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A SQLite database that holds an account's data (the journal, the paper gateway's state):
/// the user's alone. SQLite gives its `-wal` and `-shm` files the database's mode, but uses
/// whatever is already there: in a shared folder another user could create them first, open
/// to all, and read or change every order through them. So before SQLite opens it:
/// - a missing database is created 0600;
/// - the database and its `-wal` and `-shm`, where they exist, must be regular files of this
///   user (links followed): anything else is refused, naming the file, its owner and mode;
/// - ours and open to others (an older version's 0644): made 0600.
public enum PrivateDatabase {
    /// Prepares `path` as above; returns whether it created the (empty) database file.
    /// SQLite's names for no file (`:memory:`, empty, `file:` URIs) are left alone.
    @discardableResult
    public static func prepare(_ path: String) throws -> Bool {
        guard !path.isEmpty, path != ":memory:", !path.hasPrefix("file:") else { return false }
        var created = false
        let descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor >= 0 {
            created = true
            close(descriptor)
        } else if errno != EEXIST {
            throw PrivateFileError("\(path): cannot create it: \(String(cString: strerror(errno)))")
        }
        for file in [path, path + "-wal", path + "-shm"] {
            var info = stat()
            guard stat(file, &info) == 0 else {
                if errno == ENOENT { continue }
                throw PrivateFileError("\(file): cannot read its owner and mode: \(String(cString: strerror(errno)))")
            }
            let mode = info.st_mode & 0o7777
            guard info.st_mode & S_IFMT == S_IFREG, info.st_uid == getuid() else {
                throw PrivateFileError("\(file) is not a file of yours (\(userName(getuid()))): it belongs to \(userName(info.st_uid)), "
                                       + "mode \(octal(mode)); another user could read or change the account's data through it. "
                                       + "Remove it (its owner or root can), or choose a path in a folder of your own")
            }
            if mode & 0o077 != 0, chmod(file, 0o600) != 0 {
                throw PrivateFileError("\(file): cannot make it private (mode \(octal(mode))): \(String(cString: strerror(errno)))")
            }
        }
        return created
    }

    static func userName(_ uid: uid_t) -> String {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return "uid \(uid)" }
        return "\(String(cString: name)) (uid \(uid))"
    }

    static func octal(_ mode: mode_t) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

/// A file that is not, or cannot be made, the user's alone.
public struct PrivateFileError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
