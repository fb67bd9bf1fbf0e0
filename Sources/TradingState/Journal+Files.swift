import Foundation

extension Journal {
    /// The journal holds the account's orders and fills: the user's alone. A new one is
    /// created 0600 before SQLite opens it (SQLite gives its -wal and -shm files the mode of
    /// the database), and one an older version left readable by others is made 0600, its -wal
    /// and -shm with it. Returns whether it created the (empty) file.
    static func makePrivate(_ path: String) throws -> Bool {
        var created = false
        if !FileManager.default.fileExists(atPath: path) {
            let descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard descriptor >= 0 || errno == EEXIST else {
                throw JournalError(message: "journal '\(path)': cannot create it: \(String(cString: strerror(errno)))")
            }
            if descriptor >= 0 {
                created = true
                try? FileHandle(fileDescriptor: descriptor).close()  // (`close` here is the journal's)
            }
        }
        // A file of another user's stays as it is (chmod fails): only its owner may change it.
        for file in [path, path + "-wal", path + "-shm"] { _ = chmod(file, 0o600) }
        return created
    }

    /// Takes back the empty file `makePrivate` created for a journal SQLite then could not
    /// open: left behind, the next start would refuse it as a journal truncated to nothing.
    static func removeIfEmpty(_ path: String) {
        guard (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) == 0 else { return }
        try? FileManager.default.removeItem(atPath: path)
    }
}
