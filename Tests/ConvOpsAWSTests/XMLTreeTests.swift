import ConvOpsAWS
import Foundation
import Testing

/// AWS's XML, read with libxml2's streaming reader: the shapes AWS sends, and what a hostile
/// or broken answer must not do (fetch a file, expand without bound, pass as a document).
@Suite struct XMLTreeTests {
    static func tree(_ text: String) -> XMLTree? { XMLTree.parse(Data(text.utf8)) }

    @Test func readsAnAWSAnswerWithItsNamespaceListsAndEmptyElements() throws {
        let answer = """
            <?xml version="1.0" encoding="UTF-8"?>
            <DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
                <requestId>r-1</requestId>
                <reservationSet>
                    <item><instancesSet><item><instanceId>i-1</instanceId><tagSet/></item></instancesSet></item>
                    <item><instancesSet><item><instanceId>i-2</instanceId>
                        <tagSet><item><key>Name</key><value>web &amp; api</value></item></tagSet></item></instancesSet></item>
                </reservationSet>
                <!-- a comment -->
                <nextToken/>
            </DescribeInstancesResponse>
            """
        let tree = try #require(Self.tree(answer))
        #expect(tree.name == "DescribeInstancesResponse")
        #expect(tree.string("requestId") == "r-1")
        let items = tree.at("reservationSet")?.all("item") ?? []
        #expect(items.count == 2)
        #expect(items[0].string("instancesSet", "item", "instanceId") == "i-1")
        #expect(items[0].at("instancesSet", "item", "tagSet")?.children.isEmpty == true)
        #expect(items[1].string("instancesSet", "item", "tagSet", "item", "value") == "web & api")
        #expect(tree.string("nextToken") == "", "an empty element is there, with no text")
        #expect(tree.children.map(\.name) == ["requestId", "reservationSet", "nextToken"])
    }

    @Test func textIsTrimmedJoinedAcrossCDATAAndCharacterReferences() throws {
        let tree = try #require(Self.tree("<a>\n  one <![CDATA[<two>]]> &#x33; &lt;four&gt;\n</a>"))
        #expect(tree.text == "one <two> 3 <four>")
        let latin = try #require(XMLTree.parse(Data("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>J".utf8) + Data([0xF6]) + Data("rg</a>".utf8)))
        #expect(latin.text == "Jörg", "a declared encoding is converted to UTF-8")
        #expect(Self.tree("<m>caf\u{E9} 🙂</m>")?.text == "café 🙂")
    }

    @Test func anythingButOneWellFormedDocumentIsNil() {
        for broken in ["", "not xml at all", "<a>", "<a><b></a>", "<a></a><b></b>", "<a>text</a>trailing<",
                       "<DescribeInstancesResponse><reservationSet><item><instancesSet><item><instanceState>",
                       "<a x=1></a>", "\u{0}<a/>"] {
            #expect(Self.tree(broken) == nil, "\(broken.debugDescription)")
        }
    }

    @Test func externalEntitiesAreNeverFetchedAndExpansionIsBounded() throws {
        let secret = NSTemporaryDirectory() + "convops-xxe-\(UUID().uuidString)"
        try "TOP-SECRET".write(toFile: secret, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: secret) }
        let xxe = "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY e SYSTEM \"file://\(secret)\">]><a>x&e;y</a>"
        #expect(Self.tree(xxe) == nil, "a document with a DTD is refused, its entity never read")
        // Billion laughs: ten levels of ten; refused, and at once.
        var dtd = "<!ENTITY l0 \"lol\">"
        for level in 1...10 { dtd += "<!ENTITY l\(level) \"" + String(repeating: "&l\(level - 1);", count: 10) + "\">" }
        let started = ContinuousClock.now
        #expect(Self.tree("<?xml version=\"1.0\"?><!DOCTYPE a [\(dtd)]><a>&l10;</a>") == nil)
        #expect(ContinuousClock.now - started < .seconds(5))
        // A declared internal entity would be dropped from the value: refused, not "ab".
        #expect(Self.tree("<!DOCTYPE v [<!ENTITY x \"X\">]><v>a&x;b</v>") == nil)
        #expect(Self.tree("<v>a&undeclared;b</v>") == nil)
    }

    @Test func manyAnswersAtOnceFromManyThreads() async {
        let answer = "<R><list>" + (0..<200).map { "<item><id>\($0)</id></item>" }.joined() + "</list></R>"
        let counts = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<64 { group.addTask { XMLTree.parse(Data(answer.utf8))?.at("list")?.all("item").count ?? -1 } }
            return await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(counts.allSatisfy { $0 == 200 })
    }
}
