import Foundation
import LeagueConfig
import LeagueCore
import LeaguePlatforms

/// What `leagueops check` says about each platform: how messages come in (webhook or a connection the
/// bot opens) and through which path each bound group is sent to.
public enum SendPaths {
    /// Summary lines and problems (a group no path can reach), for the given config.
    public static func report(config: BotConfig) -> (lines: [String], problems: [String]) {
        var lines: [String] = []
        var problems: [String] = []
        var adapters: [String: any PlatformAdapter] = [:]
        for name in config.platforms.keys.sorted() {
            guard let adapter = try? PlatformFactory.make(name: name, settings: config.platforms[name] ?? [:]),
                let connection = try? ConnectionSettings.parse(platform: name, settings: config.platforms[name] ?? [:])
            else { continue }
            adapters[name] = adapter
            switch connection.mode {
            case .webhook: lines.append("\(name): inbound by webhook at /webhook/\(adapter.webhookPaths.joined(separator: ", /webhook/")) (needs a public HTTPS address)")
            case .stream: lines.append("\(name): inbound over Stream mode (the bot connects out; no public address needed)")
            case .longConnection: lines.append("\(name): inbound over the long connection (the bot connects out; no public address needed)")
            }
        }
        var counts: [String: [String: Int]] = [:]
        for unit in config.org.units {
            guard let group = unit.group, let adapter = adapters[group.platform] else { continue }
            let path: String
            if let dingtalk = adapter as? DingTalkAdapter {
                if !(group.credentials["robot_token"] ?? "").isEmpty {
                    path = "its custom robot (robot_token)"
                } else if dingtalk.app != nil {
                    path = "the app robot (OpenAPI group messages)"
                } else {
                    problems.append(
                        "\(config.orgFile): unit \(unit.id) (\(unit.name)) is bound to DingTalk chat \(group.chat) without robot_token, "
                            + "and platforms.dingtalk is not in stream mode: add robot_token to the group, or set platforms.dingtalk.mode: stream with client_id and client_secret")
                    continue
                }
            } else {
                path = "its group robot webhook"
            }
            counts[group.platform, default: [:]][path, default: 0] += 1
        }
        for platform in counts.keys.sorted() {
            for (path, count) in counts[platform]!.sorted(by: { $0.key < $1.key }) {
                lines.append("\(platform): \(count) group\(count == 1 ? "" : "s") sent through \(path)")
            }
        }
        return (lines, problems)
    }
}
