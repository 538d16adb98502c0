import Foundation

/// The age bands the registry records (never a birth date).
public enum AgeBand: String, Sendable, Codable, Hashable, CaseIterable {
    case child = "0-13"
    case teen = "14-17"
    case young = "18-24"
    case adult = "25-35"
}

/// What a young person is doing.
public enum YouthStatus: String, Sendable, Codable, Hashable, CaseIterable {
    case student, working, seeking, other

    /// Accepts the English word or its Chinese name (学生, 在职/就业, 待业/求职, 其他).
    public init?(word: String) {
        switch word.lowercased() {
        case "student", "学生", "在校": self = .student
        case "working", "在职", "就业", "工作": self = .working
        case "seeking", "待业", "求职", "失业": self = .seeking
        case "other", "其他": self = .other
        default: return nil
        }
    }

    public func name(_ language: Language) -> String {
        switch self {
        case .student: return language.pick("在校", "student")
        case .working: return language.pick("就业", "working")
        case .seeking: return language.pick("待业", "seeking work")
        case .other: return language.pick("其他", "other")
        }
    }
}

/// One young person in a grid's registry. Personal data of a minor: reaches chat only as counts.
public struct YouthRecord: Sendable, Hashable, Codable {
    public var gridID: String
    public var name: String
    public var ageBand: AgeBand
    public var status: YouthStatus
    public var inDifficulty: Bool
    /// Free text: 留守, 困难家庭, 残疾, …
    public var category: String
    /// The member id of the responsible cadre.
    public var contact: String

    public init(gridID: String, name: String, ageBand: AgeBand, status: YouthStatus, inDifficulty: Bool, category: String, contact: String) {
        self.gridID = gridID
        self.name = name
        self.ageBand = ageBand
        self.status = status
        self.inDifficulty = inDifficulty
        self.category = category
        self.contact = contact
    }
}

/// Counts of a unit or a subtree: what chat may see of the registry.
public struct YouthCounts: Sendable, Hashable, Codable {
    public var total = 0
    public var byAgeBand: [AgeBand: Int] = [:]
    public var byStatus: [YouthStatus: Int] = [:]
    public var inDifficulty = 0
    /// Youth in difficulty by category.
    public var difficultyByCategory: [String: Int] = [:]

    public init() {}

    public mutating func add(_ record: YouthRecord) {
        total += 1
        byAgeBand[record.ageBand, default: 0] += 1
        byStatus[record.status, default: 0] += 1
        if record.inDifficulty {
            inDifficulty += 1
            let category = record.category.isEmpty ? "—" : record.category
            difficultyByCategory[category, default: 0] += 1
        }
    }

    public mutating func add(_ other: YouthCounts) {
        total += other.total
        for (key, value) in other.byAgeBand { byAgeBand[key, default: 0] += value }
        for (key, value) in other.byStatus { byStatus[key, default: 0] += value }
        inDifficulty += other.inDifficulty
        for (key, value) in other.difficultyByCategory { difficultyByCategory[key, default: 0] += value }
    }
}

/// A problem with one line of an import file, or with the file as a whole (line 1: the header).
public struct ImportProblem: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var message: String

    public var description: String { "line \(line): \(message)" }
}

/// Reading and checking the youth registry CSV. Nothing is imported unless every row is good.
public enum YouthImport {
    /// The columns by their English name, with the Chinese names accepted for each.
    static let columns: [(key: String, names: [String])] = [
        ("grid", ["grid", "网格"]), ("name", ["name", "姓名"]), ("age_band", ["age_band", "年龄段"]),
        ("status", ["status", "状态"]), ("in_difficulty", ["in_difficulty", "困境"]), ("category", ["category", "类别"]),
        ("contact", ["contact", "联系人"]),
    ]
    /// Column names that would carry a national ID number: the file is refused outright.
    static let refusedColumns: Set<String> = ["id_number", "idnumber", "id_no", "身份证", "身份证号", "身份证号码", "national_id"]

    /// Parses and validates a whole file.
    /// - Parameters:
    ///   - text: the file's UTF-8 text (a byte-order mark is ignored).
    ///   - org: grid ids and contact member ids are checked against it.
    /// - Returns: the rows grouped by grid, or every problem found (by line).
    public static func parse(_ text: String, org: OrgTree) -> Result<[String: [YouthRecord]], ImportErrors> {
        let rows = CSV.parse(text).rows
        guard let header = rows.first else { return .failure(ImportErrors([ImportProblem(line: 1, message: "the file is empty")])) }
        var problems: [ImportProblem] = []
        var index: [String: Int] = [:]
        for (position, raw) in header.fields.enumerated() {
            let name = raw.trimmingCharacters(in: .whitespaces).lowercased()
            if refusedColumns.contains(name) || name.contains("身份证") {
                return .failure(
                    ImportErrors([
                        ImportProblem(
                            line: header.line,
                            message:
                                "column “\(raw)” would hold national ID numbers; the registry never stores them. Remove the column and import again (nothing was imported)")
                    ]))
            }
            guard let key = columns.first(where: { $0.names.contains(name) })?.key else {
                problems.append(
                    ImportProblem(
                        line: header.line, message: "unknown column “\(raw)” (expected \(columns.map(\.key).joined(separator: ",")) or \(columns.map { $0.names[1] }.joined(separator: ",")))"))
                continue
            }
            if index[key] != nil { problems.append(ImportProblem(line: header.line, message: "column “\(raw)” appears twice")) }
            index[key] = position
        }
        for column in columns where index[column.key] == nil {
            problems.append(ImportProblem(line: header.line, message: "missing column “\(column.key)” (or “\(column.names[1])”)"))
        }
        guard problems.isEmpty else { return .failure(ImportErrors(problems)) }

        var byGrid: [String: [YouthRecord]] = [:]
        for row in rows.dropFirst() {
            if row.fields.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { continue }
            guard row.fields.count == header.fields.count else {
                problems.append(ImportProblem(line: row.line, message: "has \(row.fields.count) fields, the header has \(header.fields.count)"))
                continue
            }
            func field(_ key: String) -> String { row.fields[index[key]!].trimmingCharacters(in: .whitespaces) }
            var rowProblems: [String] = []
            let gridID = field("grid")
            if let unit = org.unit(gridID) {
                if !org.isBottomTier(unit.tier) && !org.children(of: unit.id).isEmpty {
                    rowProblems.append("“\(gridID)” is a \(unit.tier), not a grid")
                }
            } else {
                rowProblems.append("grid “\(gridID)” is not in the org tree")
            }
            let name = field("name")
            if name.isEmpty { rowProblems.append("name is empty") }
            let ageBand = AgeBand(rawValue: field("age_band").replacingOccurrences(of: "–", with: "-"))
            if ageBand == nil { rowProblems.append("age_band “\(field("age_band"))” must be one of \(AgeBand.allCases.map(\.rawValue).joined(separator: ", "))") }
            let status = YouthStatus(word: field("status"))
            if status == nil { rowProblems.append("status “\(field("status"))” must be student, working, seeking or other") }
            let difficulty: Bool?
            switch field("in_difficulty").lowercased() {
            case "yes", "y", "是", "1", "true": difficulty = true
            case "no", "n", "否", "0", "false": difficulty = false
            default: difficulty = nil
            }
            if difficulty == nil { rowProblems.append("in_difficulty “\(field("in_difficulty"))” must be yes or no") }
            let contact = field("contact")
            if let member = org.member(contact) {
                if org.unit(gridID) != nil, !org.lineage(of: gridID).contains(where: { $0.id == member.unitID }) {
                    rowProblems.append("contact “\(contact)” does not belong to grid \(gridID) or a unit above it")
                }
            } else {
                rowProblems.append("contact “\(contact)” is not a member id in the org tree")
            }
            if row.fields.contains(where: looksLikeNationalID) {
                rowProblems.append("a field looks like a national ID number; the registry never stores them")
            }
            if !rowProblems.isEmpty {
                problems.append(ImportProblem(line: row.line, message: rowProblems.joined(separator: "; ")))
                continue
            }
            byGrid[gridID, default: []].append(
                YouthRecord(
                    gridID: gridID, name: name, ageBand: ageBand!, status: status!,
                    inDifficulty: difficulty!, category: field("category"), contact: contact))
        }
        guard problems.isEmpty else { return .failure(ImportErrors(problems)) }
        return .success(byGrid)
    }

    /// 15 or 18 characters, digits with an optional final X: the shape of a resident ID number.
    static func looksLikeNationalID(_ value: String) -> Bool {
        let v = value.trimmingCharacters(in: .whitespaces)
        guard v.count == 18 || v.count == 15 else { return false }
        let body = v.dropLast()
        return body.allSatisfy { $0.isASCII && $0.isNumber } && (v.last!.isNumber || v.last == "X" || v.last == "x")
    }
}

/// Every problem of a refused import.
public struct ImportErrors: Error, Sendable, Hashable, CustomStringConvertible {
    public var problems: [ImportProblem]
    public init(_ problems: [ImportProblem]) { self.problems = problems }
    public var description: String {
        "The file was not imported (\(problems.count) problem\(problems.count == 1 ? "" : "s")):\n" + problems.map { "  " + $0.description }.joined(separator: "\n")
    }
}

/// A small RFC 4180 reader: commas, double-quoted fields with "" escapes and line breaks, CRLF, LF or CR.
public enum CSV {
    public struct Row: Sendable, Hashable {
        /// The line the record starts on (1-based).
        public var line: Int
        public var fields: [String]
    }

    /// One record: the fields joined by commas, each quoted when it holds a comma, a quote or a line break.
    public static func row(_ fields: [String]) -> String {
        fields.map { field in
            field.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
        }.joined(separator: ",")
    }

    /// Splits the text (a byte-order mark is ignored) into records; blank lines are skipped.
    /// - Returns: the records, and the line of a quoted field still open at the end (nil: none).
    public static func parse(_ text: String) -> (rows: [Row], unclosedQuoteLine: Int?) {
        var rows: [Row] = []
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var line = 1
        var rowLine = 1
        var pendingQuote = false
        var sawAnything = false
        var afterCR = false
        var scalars = Substring(text).unicodeScalars
        if scalars.first == "\u{FEFF}" { scalars = scalars.dropFirst() }
        func endRow() {
            fields.append(field)
            rows.append(Row(line: rowLine, fields: fields))
            fields = []
            field = ""
            sawAnything = false
        }
        for scalar in scalars {
            if inQuotes {
                if pendingQuote {
                    pendingQuote = false
                    if scalar == "\"" {
                        field.unicodeScalars.append(scalar)
                        continue
                    }
                    inQuotes = false
                    // falls through: the character after a closing quote is read as unquoted
                } else if scalar == "\"" {
                    pendingQuote = true
                    continue
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                    continue
                }
            }
            switch scalar {
            case "\"" where field.isEmpty:
                inQuotes = true
                sawAnything = true
            case ",":
                fields.append(field)
                field = ""
                sawAnything = true
            case "\n" where afterCR:
                break
            case "\n", "\r":
                if sawAnything || !field.isEmpty || !fields.isEmpty { endRow() }
                line += 1
                rowLine = line
            default:
                field.unicodeScalars.append(scalar)
                sawAnything = true
            }
            afterCR = scalar == "\r"
        }
        let unclosed = inQuotes && !pendingQuote ? rowLine : nil
        if sawAnything || !field.isEmpty || !fields.isEmpty { endRow() }
        return (rows, unclosed)
    }
}
