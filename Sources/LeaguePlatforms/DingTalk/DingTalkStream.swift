import Foundation
import LeagueCore

/// DingTalk Stream mode wire format (docs/platforms.md, "DingTalk Stream"): the bootstrap call, the
/// JSON frames, the ACKs. Pure values; the socket lives in LeagueServer/Connections/DingTalk.
public enum DingTalkStream {
    /// The robot-message topic the bot subscribes to.
    public static let botMessageTopic = "/v1.0/im/bot/messages/get"

    /// `POST {api}/v1.0/gateway/connections/open` with the app's credentials and subscriptions.
    public static func bootstrapRequest(apiBaseURL: String, clientID: String, clientSecret: String) -> OutboundRequest {
        let body = OutJSON.object([
            ("clientId", .string(clientID)),
            ("clientSecret", .string(clientSecret)),
            (
                "subscriptions",
                .array([
                    .object([("type", .string("EVENT")), ("topic", .string("*"))]),
                    .object([("type", .string("CALLBACK")), ("topic", .string(botMessageTopic))]),
                ])
            ),
            ("ua", .string("leagueops-stream-swift/1")),
        ])
        return OutboundRequest(
            url: apiBaseURL + "/v1.0/gateway/connections/open",
            headers: ["Content-Type": "application/json", "Accept": "application/json"], body: body.data)
    }

    /// The WebSocket URL from the bootstrap answer: `<endpoint>?ticket=<ticket>`.
    /// - Throws: `ConnectionFailure`: 429 / `Throttling` rate limited; 400, 401, 403 (bad client id or
    ///   secret, app not allowed) fatal; 5xx and anything unreadable retried.
    public static func connectURL(from response: OutboundResponse) throws(ConnectionFailure) -> String {
        let json = JSONValue.parse(response.body)
        let code = json?["code"]?.string ?? ""
        let detail = "HTTP \(response.status)" + (code.isEmpty ? "" : " \(code)") + ((json?["message"]?.string).map { ": \($0)" } ?? "")
        if response.status == 429 || code.lowercased().contains("throttl") { throw .rateLimited("DingTalk gateway bootstrap: \(detail)") }
        switch response.status {
        case 200:
            guard let endpoint = json?["endpoint"]?.string, !endpoint.isEmpty, let ticket = json?["ticket"]?.string, !ticket.isEmpty else {
                throw .retry("DingTalk gateway bootstrap answered 200 without endpoint and ticket")
            }
            let separator = endpoint.contains("?") ? "&" : "?"
            return endpoint + separator + "ticket=" + WireText.percentEncode(ticket)
        case 400, 401, 403:
            throw .fatal("DingTalk refused the app's credentials (\(detail)); check platforms.dingtalk.client_id and client_secret and that Stream mode is enabled for the app")
        default:
            throw .retry("DingTalk gateway bootstrap: \(detail)")
        }
    }

    /// One frame from the gateway.
    public struct Frame: Sendable, Equatable {
        /// `SYSTEM`, `EVENT`, `CALLBACK` (others are accepted and ACKed).
        public var type: String
        public var topic: String
        public var messageID: String
        public var headers: [String: String]
        /// The `data` member: a JSON document carried as a string.
        public var data: String

        /// Parses a text frame; nil when it is not a JSON object with headers.
        public static func parse(_ text: String) -> Frame? {
            guard let json = JSONValue.parse(Data(text.utf8)), json.isObject else { return nil }
            // The developerpedia event sample once spells the key "header".
            guard let headerObject = json["headers"] ?? json["header"], case .object(let members) = headerObject else { return nil }
            var headers: [String: String] = [:]
            for (key, value) in members {
                switch value {
                case .string(let text): headers[key] = text
                case .number(let number): headers[key] = number == number.rounded() && abs(number) < 9e15 ? String(Int64(number)) : String(number)
                case .bool(let flag): headers[key] = String(flag)
                default: break
                }
            }
            return Frame(
                type: json["type"]?.string ?? "", topic: headers["topic"] ?? "", messageID: headers["messageId"] ?? "",
                headers: headers, data: json["data"]?.string ?? "")
        }
    }

    /// The ACK of a push: code, the push's `messageId`, and `data` as a JSON string.
    public static func ack(messageID: String, code: Int = 200, message: String = "OK", data: String = #"{"response": null}"#) -> String {
        OutJSON.object([
            ("code", .int(Int64(code))),
            ("headers", .object([("contentType", .string("application/json")), ("messageId", .string(messageID))])),
            ("message", .string(message)),
            ("data", .string(data)),
        ]).text
    }

    /// The ACK of an EVENT push: `data` `{"status":"SUCCESS"}` (or `LATER` with code 500 to ask for redelivery).
    public static func eventAck(messageID: String, later: Bool = false) -> String {
        ack(
            messageID: messageID, code: later ? 500 : 200, message: later ? "LATER" : "OK",
            data: later ? #"{"status":"LATER","message":"store unavailable"}"# : #"{"status":"SUCCESS","message":"OK"}"#)
    }

    /// The reason of a SYSTEM `disconnect` frame.
    public static func disconnectReason(_ frame: Frame) -> String {
        JSONValue.parse(Data(frame.data.utf8))?["reason"]?.string ?? "disconnect"
    }
}

extension DingTalkAdapter {
    /// Decodes the `data` of a CALLBACK push on the robot-message topic into the webhook's outcome.
    /// - Throws: `InboundRejection` for a malformed message.
    public func decodeStreamMessage(_ data: String, now: Date) throws(InboundRejection) -> InboundOutcome {
        guard let json = JSONValue.parse(Data(data.utf8)), json.isObject else {
            throw .badRequest("DingTalk Stream push data is not a JSON object")
        }
        return try decodeMessage(json, now: now)
    }
}
