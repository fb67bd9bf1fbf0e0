import Foundation
import GRDB

/// Why a journal write failed, which decides how far the failure reaches.
///
/// * `storage`: the file cannot be written (a full disk, an I/O error, a read-only or
///   vanished file, a lock never released, damage). Every write fails alike until someone
///   fixes it: trading closes, and reopens by itself once a write succeeds again.
/// * `row`: this one record cannot be held (a field the journal's wire encoding refuses, a
///   constraint). Every other write still succeeds: only that order is refused, or only that
///   report goes unjournaled; nobody else's trading stops.
///
/// A database error that is not clearly the row's counts as storage: when unsure, fail closed.
public enum JournalFault: Sendable, Equatable {
    case storage
    case row

    public init(_ error: Error) {
        guard let database = error as? DatabaseError else {
            // Thrown while the record was being prepared (its encoding), before SQLite saw it.
            self = .row
            return
        }
        switch database.resultCode.primaryResultCode {
        case .SQLITE_CONSTRAINT, .SQLITE_TOOBIG, .SQLITE_MISMATCH, .SQLITE_RANGE: self = .row
        default: self = .storage  // SQLITE_FULL, SQLITE_IOERR, SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_BUSY, ...
        }
    }
}

/// One record the journal cannot hold (a value its encoding or a constraint refuses): only
/// that record fails; the journal itself is fine and trading goes on.
public struct JournalRowError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { message }
}

extension Journal {
    /// A write that proves the journal takes writes again after `failure`: it records the
    /// failure (kind `journal failed`) and, in the same transaction, takes and frees 64 KB, so
    /// that a disk with room for a few bytes only does not count as writable again.
    func probe(after failure: String) throws {
        try queue.write { db in
            try db.execute(sql: "INSERT INTO connection_events (time, kind, detail) VALUES (?, 'journal failed', ?)",
                           arguments: [Date().timeIntervalSince1970, failure])
            try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('journal-probe', zeroblob(65536))")
            try db.execute(sql: "DELETE FROM meta WHERE key = 'journal-probe'")
        }
    }
}
