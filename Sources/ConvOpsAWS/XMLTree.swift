import CXML2
import Foundation

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

    /// The document's root element, or nil for anything that is not one well-formed document
    /// of plain XML (truncated, two roots, any DTD: its entities are never fetched or expanded).
    public static func parse(_ data: Data) -> XMLTree? {
        XMLReaderSetup.once
        guard !data.isEmpty, data.count <= Int(Int32.max) else { return nil }
        return data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> XMLTree? in
            let bytes = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
            guard let reader = xmlReaderForMemory(bytes, Int32(raw.count), nil, nil, convops_xml_reader_options()) else { return nil }
            defer { xmlFreeTextReader(reader) }
            return read(reader)
        }
    }

    /// Builds the tree from the reader's stream of nodes: an element opens a child (closed at
    /// once when it is `<empty/>`), text adds to the innermost open element's text, which is
    /// trimmed when it closes.
    private static func read(_ reader: xmlTextReaderPtr) -> XMLTree? {
        var open: [XMLTree] = []
        var root: XMLTree?
        func close() {
            guard var done = open.popLast() else { return }
            done.text = done.text.trimmingCharacters(in: .whitespacesAndNewlines)
            if open.isEmpty { root = done } else { open[open.count - 1].children.append(done) }
        }
        while true {
            let step = xmlTextReaderRead(reader)
            if step == 0 { break }
            guard step == 1 else { return nil }
            switch xmlTextReaderNodeType(reader) {
            case Int32(XML_READER_TYPE_ELEMENT.rawValue):
                guard root == nil else { return nil }
                let name = xmlTextReaderConstName(reader).map { String(cString: $0) } ?? ""
                open.append(XMLTree(name: name, text: "", children: []))
                if xmlTextReaderIsEmptyElement(reader) == 1 { close() }
            case Int32(XML_READER_TYPE_END_ELEMENT.rawValue):
                close()
            case Int32(XML_READER_TYPE_TEXT.rawValue), Int32(XML_READER_TYPE_CDATA.rawValue),
                 Int32(XML_READER_TYPE_SIGNIFICANT_WHITESPACE.rawValue), Int32(XML_READER_TYPE_WHITESPACE.rawValue):
                if !open.isEmpty, let value = xmlTextReaderConstValue(reader) {
                    open[open.count - 1].text += String(cString: value)
                }
            case Int32(XML_READER_TYPE_DOCUMENT_TYPE.rawValue), Int32(XML_READER_TYPE_ENTITY_REFERENCE.rawValue):
                // AWS never sends a DTD; an entity it declares would be dropped from the text,
                // a wrong value rather than none. Refused whole.
                return nil
            default:
                continue // comments, processing instructions
            }
        }
        return open.isEmpty ? root : nil
    }
}

/// libxml2 sets up its global tables once, before any thread parses.
private enum XMLReaderSetup {
    static let once: Void = { xmlInitParser() }()
}
