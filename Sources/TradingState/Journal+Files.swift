import Foundation
import PrivateFiles

extension Journal {
    /// The journal holds the account's orders and fills: the user's alone (see
    /// `PrivateDatabase`). Returns whether it created the (empty) file.
    static func makePrivate(_ path: String) throws -> Bool {
        do {
            return try PrivateDatabase.prepare(path)
        } catch let error as PrivateFileError {
            throw JournalError(message: "journal '\(path)': \(error.description)")
        }
    }

    /// Takes back the empty file `makePrivate` created for a journal SQLite then could not
    /// open: left behind, the next start would refuse it as a journal truncated to nothing.
    static func removeIfEmpty(_ path: String) {
        guard (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) == 0 else { return }
        try? FileManager.default.removeItem(atPath: path)
    }
}
