import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes that never trap. Foundation's `FileHandle.write(_: Data)` traps on any error (a full
/// disk, a file-size limit, a reader that closed the pipe): a trading process must not die
/// because its log disk filled up or `| head` went away. Each writer decides what a failed
/// write means (the console drops the line, the log file says so once, an export stops).
public enum DescriptorOutput {
    /// Writes all of `text` to `descriptor`; false when it could not (errno says why).
    @discardableResult
    public static func write(_ text: String, to descriptor: Int32) -> Bool {
        var text = text
        return text.withUTF8 { write($0, to: descriptor) }
    }

    /// Writes all of `bytes` to `descriptor`, again after EINTR and short writes.
    @discardableResult
    public static func write(_ bytes: UnsafeBufferPointer<UInt8>, to descriptor: Int32) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(descriptor, base + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }

    /// From now on a write to a closed pipe fails with EPIPE instead of killing the process
    /// (SIGPIPE's default): a run whose standard output went away keeps trading and stops
    /// cleanly. Call once, at the start of `main`.
    public static func ignoreBrokenPipes() {
        signal(SIGPIPE, SIG_IGN)
    }
}
