import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A parsed XML element: enough structure for AWS's query and EC2 responses.
public struct XMLTree: Sendable, Hashable {
    public var name: String
    public var text: String
    public var children: [XMLTree]

    /// The first child with this name.
    public subscript(_ name: String) -> XMLTree? { children.first { $0.name == name } }

    /// Follows a path of child names: `tree.at("reservationSet", "item")`.
    public func at(_ path: String...) -> XMLTree? {
        var node: XMLTree? = self
        for step in path { node = node?[step] }
        return node
    }

    /// All children with this name (`item` lists).
    public func all(_ name: String) -> [XMLTree] { children.filter { $0.name == name } }

    public func string(_ path: String...) -> String? {
        var node: XMLTree? = self
        for step in path { node = node?[step] }
        return node?.text
    }

    public static func parse(_ data: Data) -> XMLTree? {
        let delegate = Builder()
        let parser = XMLParser(data: data)
        parser.delegate = delegate
        parser.shouldResolveExternalEntities = false
        guard parser.parse(), let root = delegate.root else { return nil }
        return root
    }

    private final class Builder: NSObject, XMLParserDelegate {
        var stack: [XMLTree] = []
        var root: XMLTree?

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            stack.append(XMLTree(name: name, text: "", children: []))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if !stack.isEmpty { stack[stack.count - 1].text += string }
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            guard var done = stack.popLast() else { return }
            done.text = done.text.trimmingCharacters(in: .whitespacesAndNewlines)
            if stack.isEmpty { root = done } else { stack[stack.count - 1].children.append(done) }
        }
    }
}
