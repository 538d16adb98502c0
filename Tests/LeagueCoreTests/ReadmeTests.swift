import Foundation
import LeagueCore
import LeagueTestSupport
import Testing

struct ReadmeTests {
    @Test func readmeCommandListMatchesTheCatalogue() throws {
        let readme = try String(contentsOf: repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let begin = try #require(readme.range(of: CatalogueDocs.begin), "README lacks the commands:begin marker")
        let end = try #require(readme.range(of: CatalogueDocs.end), "README lacks the commands:end marker")
        let section = readme[begin.upperBound..<end.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(
            section == CatalogueDocs.markdown(loadCatalogue()),
            "README's command list is stale: regenerate it with `swift run leagueops commands --markdown`")
    }
}
