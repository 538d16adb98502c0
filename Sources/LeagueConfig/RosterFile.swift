import Foundation
import LeagueCore
import ZIPFoundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Reads a roster spreadsheet: `.csv` in UTF-8 (with or without BOM) or GB18030 (what Excel on a
/// Chinese Windows saves), or `.xlsx` (the first sheet; shared and inline strings).
public enum RosterFile {
    /// GB18030 (kCFStringEncodingGB_18030_2000 as an NSStringEncoding); Foundation on Linux decodes it.
    public static let gb18030 = String.Encoding(rawValue: 0x8000_0632)

    /// - Throws: `RosterProblem` when the file cannot be read at all.
    public static func read(path: String) throws(RosterProblem) -> RosterTable {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RosterProblem(file: path, line: 0, message: "cannot read the file")
        }
        let lower = path.lowercased()
        if lower.hasSuffix(".xlsx") { return try xlsx(data: data, file: path) }
        if lower.hasSuffix(".xls") {
            throw RosterProblem(file: path, line: 0, message: "old .xls files are not read; save the sheet as .xlsx or .csv in Excel")
        }
        return try csv(data: data, file: path)
    }

    // MARK: CSV

    /// Decodes the bytes (UTF-8 with or without BOM, else GB18030) and splits records (`CSV.parse`).
    public static func csv(data: Data, file: String) throws(RosterProblem) -> RosterTable {
        guard let text = String(data: data, encoding: .utf8) ?? String(data: data, encoding: gb18030) else {
            throw RosterProblem(file: file, line: 0, message: "is neither UTF-8 nor GB18030 text; save it from Excel as “CSV UTF-8” or as .xlsx")
        }
        let (records, unclosedQuoteLine) = CSV.parse(text)
        if let unclosedQuoteLine { throw RosterProblem(file: file, line: unclosedQuoteLine, message: "a quoted field is not closed") }
        guard let headerIndex = records.firstIndex(where: { !$0.fields.allSatisfy { $0.trimmingCharacters(in: .whitespaces).isEmpty } }) else {
            throw RosterProblem(file: file, line: 1, message: "the file is empty; the first row must be the header")
        }
        let header = records[headerIndex]
        return RosterTable(file: file, headerLine: header.line, header: header.fields, rows: records[(headerIndex + 1)...].map { ($0.line, $0.fields) })
    }

    // MARK: XLSX

    /// The first sheet of a workbook; line numbers are the sheet's row numbers.
    public static func xlsx(data: Data, file: String) throws(RosterProblem) -> RosterTable {
        let archive: Archive
        do { archive = try Archive(data: data, accessMode: .read) } catch {
            throw RosterProblem(file: file, line: 0, message: "is not an .xlsx workbook (cannot open it as a zip archive)")
        }
        func entry(_ path: String) -> Data? {
            guard let item = archive[path] else { return nil }
            var result = Data()
            do { _ = try archive.extract(item, skipCRC32: false) { result.append($0) } } catch { return nil }
            return result
        }
        guard let workbook = entry("xl/workbook.xml") else {
            throw RosterProblem(file: file, line: 0, message: "is not an .xlsx workbook (no xl/workbook.xml)")
        }
        // The first sheet in workbook order, through its relationship id.
        let sheets = XMLElements(data: workbook, names: ["sheet"]).elements
        var sheetPath = "xl/worksheets/sheet1.xml"
        if let first = sheets.first, let rid = first.attributes["r:id"] ?? first.attributes.first(where: { $0.key.hasSuffix(":id") })?.value,
            let rels = entry("xl/_rels/workbook.xml.rels"),
            let target = XMLElements(data: rels, names: ["Relationship"]).elements.first(where: { $0.attributes["Id"] == rid })?.attributes["Target"]
        {
            sheetPath = target.hasPrefix("/") ? String(target.dropFirst()) : "xl/" + target
        }
        guard let sheet = entry(sheetPath) else {
            throw RosterProblem(file: file, line: 0, message: "the workbook's first sheet (\(sheetPath)) is missing")
        }
        let shared = entry("xl/sharedStrings.xml").map { SharedStrings(data: $0).strings } ?? []
        let cells = SheetCells(data: sheet).cells
        var rows: [Int: [Int: String]] = [:]
        for cell in cells {
            var value = cell.value
            switch cell.type {
            case "s":
                guard let index = Int(value), index >= 0, index < shared.count else {
                    throw RosterProblem(file: file, line: cell.row, message: "cell \(cell.reference) points to a missing shared string")
                }
                value = shared[index]
            case "inlineStr", "str":
                break
            default:
                // Numbers: a mobile typed as a number may come back as 1.38E+10.
                if let number = Double(value), number == number.rounded(), abs(number) < 1e15, value.contains("E") || value.contains("e") || value.hasSuffix(".0") {
                    value = String(Int64(number))
                }
            }
            rows[cell.row, default: [:]][cell.column] = value
        }
        let ordered = rows.keys.sorted()
        guard let headerRow = ordered.first(where: { !(rows[$0]?.values.allSatisfy { $0.isEmpty } ?? true) }) else {
            throw RosterProblem(file: file, line: 1, message: "the first sheet is empty; the first row must be the header")
        }
        func list(_ row: Int) -> [String] {
            let values = rows[row] ?? [:]
            guard let last = values.keys.max() else { return [] }
            return (0...last).map { values[$0] ?? "" }
        }
        return RosterTable(file: file, headerLine: headerRow, header: list(headerRow), rows: ordered.filter { $0 > headerRow }.map { ($0, list($0)) })
    }
}

extension XMLParserDelegate {
    /// Parses a whole document with this delegate.
    func parse(_ data: Data) {
        let parser = XMLParser(data: data)
        parser.delegate = self
        parser.parse()
    }
}

/// Collects the attributes of the named elements of an XML document.
final class XMLElements: NSObject, XMLParserDelegate {
    struct Element { var name: String; var attributes: [String: String] }
    private let names: Set<String>
    private(set) var elements: [Element] = []

    init(data: Data, names: Set<String>) {
        self.names = names
        super.init()
        parse(data)
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        if names.contains(name) { elements.append(Element(name: name, attributes: attributes)) }
    }
}

/// xl/sharedStrings.xml: each `<si>` is the text of its `<t>` elements (rich-text runs joined; phonetic `<rPh>` skipped).
final class SharedStrings: NSObject, XMLParserDelegate {
    private(set) var strings: [String] = []
    private var current = ""
    private var inText = false
    private var inPhonetic = false

    init(data: Data) {
        super.init()
        parse(data)
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        switch name {
        case "si": current = ""
        case "t": inText = !inPhonetic
        case "rPh": inPhonetic = true
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inText { current += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch name {
        case "si": strings.append(current)
        case "t": inText = false
        case "rPh": inPhonetic = false
        default: break
        }
    }
}

/// The cells of a worksheet: reference, row, column, type and raw value (`<v>` or inline `<is><t>`).
final class SheetCells: NSObject, XMLParserDelegate {
    struct Cell { var reference: String; var row: Int; var column: Int; var type: String; var value: String }
    private(set) var cells: [Cell] = []
    private var current: Cell?
    private var capture = false
    private var rowNumber = 0
    private var nextColumn = 0

    init(data: Data) {
        super.init()
        parse(data)
    }

    /// `B12` → (row 12, column 1).
    static func position(_ reference: String) -> (row: Int, column: Int)? {
        var column = 0
        var digits = ""
        for character in reference.uppercased() {
            if let ascii = character.asciiValue, character.isLetter, digits.isEmpty {
                column = column * 26 + Int(ascii - 64)
            } else if character.isNumber {
                digits.append(character)
            } else {
                return nil
            }
        }
        guard column > 0, let row = Int(digits) else { return nil }
        return (row, column - 1)
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        switch name {
        case "row":
            rowNumber = attributes["r"].flatMap(Int.init) ?? rowNumber + 1
            nextColumn = 0
        case "c":
            let reference = attributes["r"] ?? ""
            let position = SheetCells.position(reference) ?? (rowNumber, nextColumn)
            current = Cell(reference: reference, row: position.row, column: position.column, type: attributes["t"] ?? "n", value: "")
            nextColumn = position.column + 1
        case "v", "t":
            capture = current != nil
        default:
            break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if capture { current?.value += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch name {
        case "v", "t": capture = false
        case "c":
            if let cell = current { cells.append(cell) }
            current = nil
        default: break
        }
    }
}
