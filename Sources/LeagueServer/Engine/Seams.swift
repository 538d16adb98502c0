import Foundation
import LeagueCore

/// What one feature needs from another, declared in one place.
///
/// Features do not call into each other's types: a feature that needs another's work calls it through
/// one of these functions (`c.seams`), and `Seams.live` says which feature provides each. A reader
/// sees every arrow between features here; a test can give the engine other functions.
public struct Seams: Sendable {
    /// Provided by tasks, used by deliberation (`/待办`): stores a created task with its targets,
    /// notices, escalation timer and events, exactly as `/任务` does.
    public var saveTask: @Sendable (_ creation: TaskPolicy.Creation, _ c: CommandContext) throws -> Void
    /// Provided by deliberation, used by the registry (`/诉求` during a meeting): notes the demand in the
    /// minutes of the meeting open in the sender's group. False when no meeting is open there.
    public var noteDemandInOpenMeeting: @Sendable (_ c: CommandContext, _ text: String, _ demandRef: String) throws -> Bool
    /// Provided by deliberation, used by the registry (a demand resolved or closed): closes the items
    /// the minutes carried for it. Returns how many were closed.
    public var demandSettled: @Sendable (_ tx: any StoreTransaction, _ demandRef: String, _ at: Date) throws -> Int
    /// Provided by the dashboard, used by tasks (`/进度 T-n`) and the registry (`/查询`): the line that
    /// ends a reply with the sender's signed link to a page, or "" (no public URL, unknown sender).
    public var dashboardLine: @Sendable (_ c: CommandContext, _ page: String, _ params: [(String, String)]) -> String
    /// Provided by onboarding, used by the engine: a `/绑定 CODE` heard from a chat no unit is bound to.
    public var bindUnboundChat:
        @Sendable (
            _ engine: Engine, _ tx: any StoreTransaction, _ record: InboundRecord, _ org: OrgTree,
            _ command: ParsedCommand
        ) -> Void

    /// The features that provide each seam in this build.
    public static let live = Seams(
        saveTask: TaskFeature.save,
        noteDemandInOpenMeeting: { c, text, ref in try DeliberationFeature.recordDemandIfMeetingOpen(c, text: text, demandRef: ref) },
        // A closed demand is no longer carried into the reminders.
        demandSettled: { tx, ref, at in try tx.closeDemandFollowUps(demandRef: ref, at: at) },
        dashboardLine: { c, page, params in DashboardFeature.line(c, page: page, params: params) },
        bindUnboundChat: OnboardingFeature.bindUnboundChat
    )
}
