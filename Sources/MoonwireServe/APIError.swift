import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A request the API refuses: the status, a message naming what was wrong, and a short code a
/// program can test. Answered as `{"error": ..., "code": ...}`.
struct APIError: HTTPResponseError {
    let status: HTTPResponse.Status
    let message: String
    let code: String
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "bad_request", message) }
    static func notFound(_ message: String) -> APIError { APIError(.notFound, "not_found", message) }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = JSONResponse.make(.object([("error", .string(message)), ("code", .string(code))]), status: status)
        response.headers.append(contentsOf: headers)
        return response
    }
}

enum JSONResponse {
    static func make(_ value: JSONText, status: HTTPResponse.Status = .ok) -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: value.text)))
    }
}

/// Every error a route throws, answered in the API's shape: ours as they are, Hummingbird's
/// (an unknown path, a body too large) with their status, anything else as a 500 that says
/// what failed.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            let code = error.status == .contentTooLarge ? "too_large" : error.status == .notFound ? "not_found" : "http_\(error.status.code)"
            let message = error.status == .contentTooLarge ? "the request's body is larger than 64 KiB"
                : error.status == .notFound ? "no such endpoint: \(request.method) \(request.uri.path) (see docs/http-api.md)"
                : (error.body ?? error.status.reasonPhrase)
            throw APIError(error.status, code, message)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "too_large", "the request's body is larger than 64 KiB")
        } catch is CancellationError {
            throw APIError(.serviceUnavailable, "stopping", "the server is stopping")
        } catch {
            throw APIError(.internalServerError, "internal", "\(error)")
        }
    }
}
