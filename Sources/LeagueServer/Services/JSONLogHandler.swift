import Foundation
import LeagueCore
import Logging

/// `log.format: json`: swift-log output as one JSON object per line (`ts`, `level`, `label`, `message`,
/// `source`, and the metadata as an object), for a log shipper to index.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    let write: @Sendable (String) -> Void

    /// - Parameters:
    ///   - label: the logger's label.
    ///   - write: where each line goes (standard error by default).
    public init(label: String, write: @escaping @Sendable (String) -> Void = JSONLogHandler.standardError) {
        self.label = label
        self.write = write
    }

    public static let standardError: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data(line.utf8))
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let fields: [(String, OutJSON)] = [
            ("ts", .string(formatter.string(from: Date()))), ("level", .string(event.level.rawValue)), ("label", .string(label)),
            ("message", .string(event.message.description)), ("source", .string(event.source)),
            ("metadata", .object(merged.sorted { $0.key < $1.key }.map { ($0.key, Self.json($0.value)) })),
        ]
        write(OutJSON.object(fields).text + "\n")
    }

    static func json(_ value: Logger.Metadata.Value) -> OutJSON {
        switch value {
        case .string(let text): return .string(text)
        case .stringConvertible(let value): return .string(value.description)
        case .array(let items): return .array(items.map(json))
        case .dictionary(let map): return .object(map.sorted { $0.key < $1.key }.map { ($0.key, json($0.value)) })
        }
    }
}
