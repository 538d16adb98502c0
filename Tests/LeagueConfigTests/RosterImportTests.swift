import Foundation
import LeagueConfig
import LeagueCore
import LeagueTestSupport
import Testing
import ZIPFoundation

/// Issue 13, point 1: roster spreadsheets into org.yaml.
@Suite struct RosterImportTests {
    static let csvText = """
        单位编号,单位名称,层级,上级编号,姓名,手机,角色
        rc,任城区,区,,王川,13800000001,管理员、团干部
        jfl,解放路街道,街道,rc,李闻闻,13800000002,管理员
        jfl,解放路街道,街道,rc,赵敏,138 0000 0003,团干部;督导
        jfl-c1,解放路社区,社区,jfl,,,
        jfl-c1-g3,第3网格,网格,jfl-c1,孙网格,13800000004,网格员

        """

    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("roster-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func units(_ table: RosterTable) throws -> [RosterImport.UnitRow] {
        let outcome = RosterImport.read(table)
        if case .success(let rows) = outcome { return rows }
        Issue.record("unexpected problems: \(outcome)")
        return []
    }

    static func check(_ rows: [RosterImport.UnitRow]) {
        #expect(rows.map(\.id) == ["rc", "jfl", "jfl-c1", "jfl-c1-g3"])
        #expect(rows.map(\.tier) == ["district", "town", "community", "grid"])
        #expect(rows[1].people.map(\.name) == ["李闻闻", "赵敏"])
        #expect(rows[1].people[1].mobile == "13800000003" && rows[1].people[1].roles == [.cadre, .supervisor])
        #expect(rows[0].people[0].roles == [.admin, .cadre])
        #expect(rows[2].people.isEmpty)
        #expect(rows[3].parentID == "jfl-c1" && rows[3].people[0].roles == [.cadre])
    }

    @Test func utf8WithAndWithoutBOMAndGB18030ReadTheSame() throws {
        let plain = Data(Self.csvText.utf8)
        let bom = Data([0xEF, 0xBB, 0xBF]) + plain
        let gb = try #require(Self.csvText.data(using: RosterFile.gb18030))
        #expect(String(data: gb, encoding: .utf8) == nil, "the GB18030 fixture is not UTF-8")
        for data in [plain, bom, gb] {
            let table = try RosterFile.csv(data: data, file: "roster.csv")
            #expect(table.header.first == "单位编号")
            Self.check(try Self.units(table))
        }
    }

    /// A minimal .xlsx written with ZIPFoundation: shared strings for text, an inline string, numbers.
    static func writeXLSX(to url: URL, rows: [[String]], inlineColumn: Int = 4) throws {
        var shared: [String] = []
        var sheetRows = ""
        for (r, row) in rows.enumerated() {
            var cells = ""
            for (c, value) in row.enumerated() where !value.isEmpty {
                let ref = String(UnicodeScalar(65 + c)!) + String(r + 1)
                if r > 0, c == 5, let number = Double(value.replacingOccurrences(of: " ", with: "")) {
                    cells += "<c r=\"\(ref)\"><v>\(String(format: "%.10E", number))</v></c>"
                } else if r > 0, c == inlineColumn {
                    cells += "<c r=\"\(ref)\" t=\"inlineStr\"><is><t>\(value)</t></is></c>"
                } else {
                    shared.append(value)
                    cells += "<c r=\"\(ref)\" t=\"s\"><v>\(shared.count - 1)</v></c>"
                }
            }
            sheetRows += "<row r=\"\(r + 1)\">\(cells)</row>"
        }
        let schemas = "http://schemas.openxmlformats.org"
        let main = #"xmlns="\#(schemas)/spreadsheetml/2006/main""#
        let files = [
            ("[Content_Types].xml", #"<Types xmlns="\#(schemas)/package/2006/content-types"/>"#),
            ("xl/workbook.xml", #"<workbook \#(main) xmlns:r="\#(schemas)/officeDocument/2006/relationships"><sheets><sheet name="花名册" sheetId="1" r:id="rId7"/></sheets></workbook>"#),
            (
                "xl/_rels/workbook.xml.rels",
                #"<Relationships xmlns="\#(schemas)/package/2006/relationships"><Relationship Id="rId7" Type="\#(schemas)/officeDocument/2006/relationships/worksheet" Target="worksheets/roster.xml"/></Relationships>"#
            ),
            ("xl/sharedStrings.xml", "<sst \(main)>" + shared.map { "<si><r><t>\($0)</t></r><rPh><t>ピン</t></rPh></si>" }.joined() + "</sst>"),
            ("xl/worksheets/roster.xml", "<worksheet \(main)><sheetData>\(sheetRows)</sheetData></worksheet>"),
        ]
        let archive = try Archive(url: url, accessMode: .create)
        for (path, text) in files {
            let data = Data(("<?xml version=\"1.0\"?>" + text).utf8)
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
    }

    @Test func xlsxWithSharedAndInlineStringsAndNumericMobiles() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let rows = Self.csvText.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let url = folder.appendingPathComponent("roster.xlsx")
        try Self.writeXLSX(to: url, rows: rows)
        let table = try RosterFile.read(path: url.path)
        #expect(table.rows.map(\.line) == [2, 3, 4, 5, 6])
        Self.check(try Self.units(table))
    }

    static func problems(_ csv: String, known: [String: RosterImport.KnownUnit] = [:]) throws -> [String] {
        let table = try RosterFile.csv(data: Data(csv.utf8), file: "r.csv")
        guard case .failure(let problems) = RosterImport.read(table, known: known) else { return [] }
        return problems.map(\.description)
    }

    @Test func everyBadRowIsReportedWithItsLine() throws {
        let found = try Self.problems(
            """
            unit_id,unit_name,tier,parent_id,name,mobile,roles
            rc,任城区,district,,王川,13800000001,admin
            t1,解放路街道,town,nowhere,,,
            t2,济阳街道,town,rc,张三,1380000,cadre
            t2,济阳街道,town,rc,李四,13800000005,boss
            g1,第1网格,grid,rc,,,
            c1,社区甲,community,g1,,,
            rc,别的名字,district,,,,
            x1,循环甲,community,x2,,,
            x2,循环乙,community,x1,,,
            t3,某街道,乡镇,rc,,,

            """)
        #expect(found.contains("r.csv:3: unit “t1” has unknown parent “nowhere” (not in this file nor in the org file)"))
        #expect(found.contains { $0.hasPrefix("r.csv:4: “张三”: bad mobile") && !$0.contains("1380000") })
        #expect(found.contains { $0.hasPrefix("r.csv:5: “李四”: unknown role “boss”") })
        #expect(found.contains { $0.hasPrefix("r.csv:7: unit “c1” (community) is under “g1” (grid): tier out of order") })
        #expect(found.contains { $0.hasPrefix("r.csv:8: duplicate unit id “rc” with another name") })
        #expect(found.contains { $0.hasPrefix("r.csv:9: cycle in the tree") })
        #expect(found.contains { $0.hasPrefix("r.csv:11: unit “t3”: unknown tier “乡镇”") })
        #expect(found.allSatisfy { !$0.hasPrefix("r.csv:2:") && !$0.hasPrefix("r.csv:6:") })
    }

    @Test func anIDNumberColumnIsRefused() throws {
        let found = try Self.problems("单位编号,单位名称,层级,上级编号,姓名,手机,身份证号\nrc,任城区,区,,王川,13800000001,370000200001010000\n")
        #expect(found.count == 1 && found[0].hasPrefix("r.csv:1: column “身份证号” holds ID numbers"))
    }

    @Test func mergeKeepsGroupsSecretsAndIdsAndReportsWhatChanged() throws {
        let existing = """
            units:
              - id: rc
                name: 任城区
                tier: district
                group: {platform: wecom, chat: wr-rc, robot_key: "env:WECOM_RC"}
                members:
                  - {id: m-wang, name: 王川, roles: [admin, cadre], mobile: "13800000001", ids: {wecom: wangchuan}}
              - id: old
                name: 旧单位
                tier: town
                parent: rc

            """
        let rows = try Self.units(try RosterFile.csv(data: Data(Self.csvText.utf8), file: "roster.csv"))
        let (yaml, report) = try OrgFileMerge.merge(rows, into: existing, file: "org.yaml")
        #expect(report.unitsAdded == 3 && report.unitsUnchanged == 1 && report.unitsChanged == 0 && report.unitsLeftAlone == 1)
        #expect(report.peopleAdded == 3 && report.peopleUnchanged == 1 && report.peopleChanged == 0)
        #expect(yaml.contains("env:WECOM_RC") && yaml.contains("wangchuan") && yaml.contains("id: old"))
        // It loads as an org file, and a second import changes nothing.
        let (loaded, problems) = try loadOrgText(yaml, environment: ["WECOM_RC": "k"], platforms: ["wecom", "generic"])
        let tree = try #require(loaded)
        #expect(problems.isEmpty, "\(problems)")
        #expect(tree.unit("jfl")?.members.map(\.name) == ["李闻闻", "赵敏"])
        #expect(tree.unit("jfl")?.members.first?.roles == [.admin])
        #expect(tree.member("m-wang")?.ids["wecom"] == "wangchuan")
        let again = try OrgFileMerge.merge(rows, into: yaml, file: "org.yaml")
        #expect(again.report.unitsAdded == 0 && again.report.unitsChanged == 0 && again.report.peopleAdded == 0 && again.report.peopleChanged == 0)
        #expect(again.yaml == yaml)
        // A changed name and a changed role are reported as changes.
        let edited = Self.csvText.replacingOccurrences(of: "第3网格", with: "第三网格").replacingOccurrences(of: "赵敏,138 0000 0003,团干部;督导", with: "赵敏,13800000003,管理员")
        let changed = try OrgFileMerge.merge(try Self.units(try RosterFile.csv(data: Data(edited.utf8), file: "r.csv")), into: yaml, file: "org.yaml")
        #expect(changed.report.unitsChanged == 2 && changed.report.peopleChanged == 1)
        #expect(changed.report.details.contains("~ jfl-c1-g3 第三网格: name"))
    }

    /// The real district's size: 1,154 units and 5,000 people, read, checked and merged.
    @Test func aRealSizeRosterImportsQuickly() throws {
        let data = Data(OrgGenerator.rosterCSV(people: 5_000).utf8)
        let started = Date()
        let table = try RosterFile.csv(data: data, file: "big.csv")
        let rows = try Self.units(table)
        let (yaml, report) = try OrgFileMerge.merge(rows, into: nil, file: "org.yaml")
        let seconds = Date().timeIntervalSince(started)
        #expect(rows.count == 1154 && report.peopleAdded == 5000, "\(rows.count) units, \(report.peopleAdded) people")
        #expect(yaml.count > 100_000)
        print("roster import: 1,154 units + 5,000 people read, checked and merged in \(String(format: "%.2f", seconds)) s (debug build)")
        #expect(seconds < 8, "debug build; the release figure is in BENCHMARKS.md")
    }

    /// The benchmark's roster (`leagueops-bench --only import`): the real district's 1,154 units and 1,188 cadres, as GB18030.
    @Test func theBenchmarkRosterHasTheRealDistrictsShape() throws {
        let data = try #require(OrgGenerator.rosterCSV(people: 1_188).data(using: RosterFile.gb18030))
        let rows = try Self.units(try RosterFile.csv(data: data, file: "roster.csv"))
        #expect(rows.count == 1_154 && rows.map(\.people.count).reduce(0, +) == 1_188)
        #expect(rows.filter { $0.tier == "grid" }.count == 1_029 && rows.filter { $0.tier == "community" }.count == 109)
        #expect(rows.allSatisfy { $0.people.first?.roles.isEmpty == false }, "every unit's first person is its admin or cadre")
        let empty = try Self.units(try RosterFile.csv(data: Data(OrgGenerator.rosterCSV(people: 0).utf8), file: "units.csv"))
        #expect(empty.count == 1_154 && empty.allSatisfy { $0.people.isEmpty })
    }

    @Test func exportWritesTheBindingsLearnedInChatIntoOrgYAML() throws {
        let text = """
            units:
              - id: d
                name: 区
                tier: district
                group: {platform: generic, chat: chat-d}
                members:
                  - {id: m-d, name: 甲, roles: [admin], ids: {generic: u-d}}
              - id: g
                name: 网格
                tier: town
                parent: d
                group: {platform: dingtalk, robot_token: "env:DT_G"}
                members:
                  - {id: m-g, name: 乙, roles: [cadre], mobile: "13800000009"}

            """
        let at = Date()
        let learned = LearnedBindings(
            chats: [
                ChatBindingRecord(platform: "dingtalk", chat: "cid-g", unitID: "g", boundAt: at, boundBy: "s"),
                ChatBindingRecord(platform: "generic", chat: "other", unitID: "d", boundAt: at, boundBy: "s"),
            ],
            members: [MemberIDRecord(platform: "dingtalk", userID: "staff-9", memberID: "m-g", registeredAt: at)]
        )
        let (yaml, notes) = OrgFileMerge.export(try OrgFileMerge.parse(text, file: "org.yaml"), learned: learned)
        #expect(notes.count == 1 && notes[0].contains("org.yaml's chat chat-d kept"))
        let (loaded, problems) = try loadOrgText(yaml, environment: ["DT_G": "tok"], platforms: ["generic", "dingtalk"])
        let tree = try #require(loaded)
        #expect(problems.isEmpty, "\(problems)")
        #expect(yaml.contains("env:DT_G"), "the secret stays a reference")
        #expect(tree.unit(platform: "dingtalk", chat: "cid-g")?.group?.credentials["robot_token"] == "tok")
        #expect(tree.member(platform: "dingtalk", userID: "staff-9")?.id == "m-g")
        #expect(tree.unit(platform: "generic", chat: "chat-d")?.id == "d")
        let status = OnboardingStatus.compute(tree)
        #expect(status.total.units == 2 && status.total.bound == 2 && status.total.registered == 2 && status.pending.isEmpty)
        let before = OnboardingStatus.compute(OrgOverlay.apply(LearnedBindings(), to: tree).tree)
        #expect(before.total.bound == 2)
        let unboundTree = try #require(try loadOrgText(text, environment: ["DT_G": "tok"], platforms: ["generic", "dingtalk"]).tree)
        let pending = OnboardingStatus.compute(OrgOverlay.apply(LearnedBindings(), to: unboundTree).tree)
        #expect(pending.total.bound == 1 && pending.pending.map(\.unit.id) == ["g"] && pending.pending[0].supervisors == ["甲"])
        #expect(pending.report(format: "csv", language: .zh).contains("g,区 › 网格,town,no,乙,甲"))
    }
}
