import Crypto
import Foundation
import LeagueCore

/// Names a robot for the store, the logs and the metrics without its credential (issue 11).
public enum RobotAlias {
    /// `r-` and the first 16 hex digits of SHA-256 over the platform and the robot's credential:
    /// stable across restarts, the same for every group that shares a robot, and not the key.
    /// A binding without a credential (a Feishu app posting by chat id) is named by its chat.
    public static func alias(platform: String, chat: String, credentials: [String: String]) -> String {
        guard let credential = GroupBinding(platform: platform, chat: chat, credentials: credentials).robotCredential else { return chat }
        let digest = SHA256.hash(data: Data("leagueops-robot\u{1F}\(platform)\u{1F}\(credential)".utf8))
        return "r-" + digest.prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// A group binding with its robot alias set.
    public static func binding(platform: String, chat: String, credentials: [String: String]) -> GroupBinding {
        GroupBinding(
            platform: platform, chat: chat, credentials: credentials,
            robot: alias(platform: platform, chat: chat, credentials: credentials))
    }
}
