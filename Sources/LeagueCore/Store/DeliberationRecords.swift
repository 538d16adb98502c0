/// Store operations of the deliberation feature (agenda, meetings, minutes).
public protocol DeliberationRecords {}
