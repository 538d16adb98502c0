import Foundation

/// Registry, demand and assessment settings (`permissions:`, `demands:`, `assessment:` in leagueops.yaml).
public struct RegistrySettings: Sendable, Hashable {
    /// Who may do the sensitive things; set in config, enforced by the catalogue (urgent) and the handlers.
    public struct Permissions: Sendable, Hashable {
        /// Roles that may mark a task or report 紧急; nil keeps the catalogue's `flag_roles`.
        public var urgent: [Role]?
        /// Roles that may publish a demand to the tier above (`/诉求 发布`).
        public var publishDemand: [Role] = [.admin, .cadre]
        /// Roles that may read the assessment (`/查询 考核`).
        public var assessment: [Role] = [.admin, .supervisor]
        /// Counts from 1 up to this number minus one are shown as “<N” in chat (small-cell suppression).
        public var minimumCount = 3

        public init() {}

        /// The catalogue entry with the config's roles applied (today: who may mark a command urgent).
        /// - Parameter spec: a command as read from commands/.
        /// - Returns: the same command, its `urgent` flag roles replaced when the config sets them.
        public func applied(to spec: CommandSpec) -> CommandSpec {
            guard let urgent, spec.flags?["urgent"] != nil else { return spec }
            var copy = spec
            var roles = copy.flagRoles ?? [:]
            roles["urgent"] = urgent
            copy.flagRoles = roles
            return copy
        }
    }

    /// Assessment thresholds and the number of candidates named.
    public struct Assessment: Sendable, Hashable {
        /// Green needs at least this share of tasks acknowledged within target (and nothing overdue).
        public var green = 0.9
        /// Yellow needs at least this share; below it a unit is red.
        public var yellow = 0.7
        /// Breaches above this number make a unit at best yellow.
        public var maxBreachesGreen = 2
        /// A grid without minutes of the deliberation day is at best yellow.
        public var requireMinutes = true
        /// How many units per tier and how many cadres are named as candidates.
        public var candidates = 3

        public init() {}
    }

    public var permissions = Permissions()
    /// The longest a demand may wait in one state before it is escalated, in seconds.
    public var demandLimits: [DemandState: Double] = [
        .collected: 7 * 86_400, .published: 3 * 86_400, .claimed: 2 * 86_400, .inProgress: 14 * 86_400,
    ]
    public var assessment = Assessment()

    public init() {}
}
