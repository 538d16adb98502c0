import Foundation

/// Screens texts the bot would store and relay for personal data (issue 11): Chinese resident
/// ID-card numbers, mainland mobile numbers and the names of registered young people. Pure.
public enum PrivacyScreen {
    /// What a text was refused for.
    public enum Finding: String, Sendable, Equatable {
        case idCardNumber = "id_card"
        case mobileNumber = "mobile"
        case registeredName = "name"
    }

    /// The first finding in `text`, or nil when it may be stored and relayed.
    /// - Parameters:
    ///   - names: names of registered young people that must not appear (names shorter than two
    ///     characters are ignored: a single character matches too much ordinary text).
    public static func screen(_ text: String, names: some Sequence<String>) -> Finding? {
        if let finding = screenPatterns(text) { return finding }
        for name in names where name.count >= 2 && text.contains(name) { return .registeredName }
        return nil
    }

    /// The findings that need no registry: an ID-card number or a mobile number.
    public static func screenPatterns(_ text: String) -> Finding? {
        if containsIDCardNumber(text) { return .idCardNumber }
        if containsMobileNumber(text) { return .mobileNumber }
        return nil
    }

    // MARK: Mobile numbers

    /// Characters that may separate the digit groups of one written number (`138 0000 0000`, `138-0000-0000`).
    static let numberSeparators: Set<Character> = [" ", "-", "\u{2010}", "\u{2011}", "\u{2013}", "\u{2014}", "\u{3000}", "\u{00A0}"]

    /// True when `text` holds a mainland China mobile number: 11 digits `1[3-9]xxxxxxxxx`, written
    /// in one run or in the usual groups (3-4-4, 3-8, 7-4), optionally after `+86`, `86` or `0086`,
    /// and not part of a longer run of digits. Full-width digits count as half-width.
    public static func containsMobileNumber(_ text: String) -> Bool {
        var groups: [String] = []
        var current = ""
        var pendingSeparator = false
        func flush() -> Bool {
            if !current.isEmpty { groups.append(current) }
            current = ""
            defer { groups = [] }
            return isMobile(groups)
        }
        for raw in text {
            let character = halfWidth(raw)
            if character.isASCIIDigit {
                if pendingSeparator, !current.isEmpty {
                    groups.append(current)
                    current = ""
                }
                pendingSeparator = false
                current.append(character)
            } else if character == "+" && current.isEmpty && groups.isEmpty {
                continue
            } else if numberSeparators.contains(character) && !current.isEmpty && !pendingSeparator {
                pendingSeparator = true
            } else {
                if flush() { return true }
                pendingSeparator = false
            }
        }
        return flush()
    }

    /// True when the digit groups of one written number are a mobile number (see `containsMobileNumber`).
    static func isMobile(_ written: [String]) -> Bool {
        guard !written.isEmpty else { return false }
        // After an optional country code group.
        var groups = written
        if groups.count > 1, groups[0] == "86" || groups[0] == "0086" { groups.removeFirst() }
        // A run of digits with separators may hold other numbers before the mobile (`电话 2 13800000000`):
        // try every suffix of groups, and every prefix of that suffix.
        for start in groups.indices {
            var lengths: [Int] = []
            var digits = ""
            for group in groups[start...] {
                lengths.append(group.count)
                digits += group
                if digits.count >= 11 { break }
            }
            if digits.count == 13, lengths.count == 1, digits.hasPrefix("861") { digits.removeFirst(2); lengths = [11] }
            if digits.count == 15, lengths.count == 1, digits.hasPrefix("00861") { digits.removeFirst(4); lengths = [11] }
            guard digits.count == 11, [[11], [3, 4, 4], [3, 8], [7, 4]].contains(lengths) else { continue }
            let utf8 = Array(digits.utf8)
            if utf8[0] == UInt8(ascii: "1"), (UInt8(ascii: "3")...UInt8(ascii: "9")).contains(utf8[1]) { return true }
        }
        return false
    }

    /// GB 11643 weights of the first 17 digits.
    static let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    /// Check characters by the weighted sum modulo 11.
    static let checkCharacters: [Character] = ["1", "0", "X", "9", "8", "7", "6", "5", "4", "3", "2"]

    /// True when `text` holds 18 characters — 17 digits and a valid check character (digit or X) —
    /// not part of a longer run of digits. Full-width digits and X count as half-width.
    public static func containsIDCardNumber(_ text: String) -> Bool {
        let characters = Array(text.map(halfWidth))
        guard characters.count >= 18 else { return false }
        var start = 0
        while start + 18 <= characters.count {
            let before = start > 0 ? characters[start - 1] : " "
            if !before.isASCIIDigit, isValidIDCardNumber(characters[start..<(start + 18)]) {
                let after = start + 18 < characters.count ? characters[start + 18] : " "
                if !after.isASCIIDigit && !(after == "X" || after == "x") { return true }
            }
            start += 1
        }
        return false
    }

    /// True for exactly 18 characters with a valid check character.
    public static func isValidIDCardNumber(_ candidate: some Collection<Character>) -> Bool {
        guard candidate.count == 18 else { return false }
        var sum = 0
        for (index, character) in candidate.prefix(17).enumerated() {
            guard let digit = character.wholeNumberValue, character.isASCIIDigit else { return false }
            sum += digit * weights[index]
        }
        let last = candidate[candidate.index(candidate.startIndex, offsetBy: 17)]
        let expected = checkCharacters[sum % 11]
        return last == expected || (expected == "X" && last == "x")
    }

    static func halfWidth(_ character: Character) -> Character {
        guard let scalar = character.unicodeScalars.first, character.unicodeScalars.count == 1 else { return character }
        if (0xFF10...0xFF19).contains(scalar.value) || scalar.value == 0xFF38 || scalar.value == 0xFF58 || scalar.value == 0xFF0B || scalar.value == 0xFF0D {
            return Character(Unicode.Scalar(scalar.value - 0xFEE0)!)
        }
        return character
    }
}

/// Small counts in chat answers (issue 11): a count of 1 to `threshold - 1` is shown as “<threshold”,
/// and when exactly one part of a total would be hidden, the total is hidden too, so a hidden
/// count cannot be recovered by subtracting the shown parts from the total.
public enum SmallCounts {
    public static let threshold = 5

    /// The displayed counts of parts that add up to a total, and the displayed total.
    public static func suppress(parts: [Int], total: Int, threshold: Int = SmallCounts.threshold) -> (parts: [String], total: String) {
        let hidden = parts.map { $0 > 0 && $0 < threshold }
        var shown = zip(parts, hidden).map { $1 ? "<\(threshold)" : String($0) }
        var totalText = total > 0 && total < threshold ? "<\(threshold)" : String(total)
        if hidden.filter({ $0 }).count == 1 {
            // One hidden part is the total minus the others: hide the smallest shown non-zero part too.
            if let index = parts.indices.filter({ !hidden[$0] && parts[$0] > 0 }).min(by: { parts[$0] < parts[$1] }) {
                shown[index] = "*"
            } else {
                totalText = "*"
            }
        }
        return (shown, totalText)
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
