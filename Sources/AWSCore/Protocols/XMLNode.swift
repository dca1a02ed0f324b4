import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A small, immutable XML tree for AWS answers (EC2 and STS Query responses, XML error bodies).
///
/// AWS's XML carries no mixed content that matters, so a node is a name, its text and its children.
/// Namespaces are dropped: EC2 puts everything in one default namespace.
public struct XMLNode: Sendable, Equatable {
    public var name: String
    public var text: String
    public var children: [XMLNode]

    public init(name: String, text: String = "", children: [XMLNode] = []) {
        self.name = name
        self.text = text
        self.children = children
    }

    /// The first child with this name.
    public func child(_ name: String) -> XMLNode? { children.first { $0.name == name } }

    /// All children with this name.
    public func children(_ name: String) -> [XMLNode] { children.filter { $0.name == name } }

    /// Follows a path of child names ("reservationSet/item"): the first match at each level.
    public func at(_ path: String) -> XMLNode? {
        var node: XMLNode? = self
        for part in path.split(separator: "/") { node = node?.child(String(part)) }
        return node
    }

    /// The text of the child at `path`, nil when absent.
    public func string(_ path: String) -> String? { at(path)?.text }

    /// The `<item>` children of the list at `path` (EC2's `fooSet/item` shape; STS's `member`).
    public func items(_ path: String, element: String = "item") -> [XMLNode] {
        at(path)?.children(element) ?? []
    }

    /// AWS answers nest a handful of levels (DescribeInstances: about 10). A deeper document is refused while it is
    /// read, before a tree is built: a tree 60,000 levels deep overflows a thread's stack when it is released.
    public static let maxDepth = 64

    /// Parses `bytes` as XML. Throws `XMLParseError` naming the line and column of the first fault.
    public static func parse(_ bytes: [UInt8]) throws -> XMLNode {
        // AWS's XML is UTF-8. Anything else is refused here: FoundationXML traps (a crash, not an error) on an
        // element name that is not valid UTF-8, which the fuzz target found.
        if let bad = firstInvalidUTF8(bytes) {
            let prefix = bytes[..<bad]
            throw XMLParseError(line: prefix.filter { $0 == 0x0A }.count + 1,
                                column: prefix.reversed().prefix { $0 != 0x0A }.count + 1,
                                message: "not valid UTF-8 (byte \(bad))")
        }
        let builder = TreeBuilder()
        let parser = XMLParser(data: Data(bytes))
        parser.shouldProcessNamespaces = false
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        let parsed = parser.parse()
        if builder.tooDeep {
            throw XMLParseError(line: parser.lineNumber, column: parser.columnNumber,
                                message: "elements nested deeper than \(maxDepth) levels")
        }
        guard parsed, let root = builder.root else {
            let message = parser.parserError.map { String(describing: ($0 as NSError).localizedDescription) } ?? "no root element"
            throw XMLParseError(line: parser.lineNumber, column: parser.columnNumber, message: message)
        }
        return root
    }
}

/// The offset of the first byte that does not start a valid UTF-8 sequence, or nil when all are valid.
func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
    var iterator = bytes.makeIterator()
    var decoder = UTF8()
    var offset = 0
    while true {
        switch decoder.decode(&iterator) {
        case .scalarValue(let scalar): offset += UTF8.width(scalar)
        case .emptyInput: return nil
        case .error: return offset
        }
    }
}

public struct XMLParseError: Error, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var message: String
    public var description: String { "not well-formed XML at line \(line), column \(column): \(message)" }
}

/// SAX-to-tree adapter. Only used from one parse call on one thread.
private final class TreeBuilder: NSObject, XMLParserDelegate {
    private var stack: [XMLNode] = []
    private var texts: [String] = []
    var root: XMLNode?
    private(set) var tooDeep = false

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName: String?, attributes: [String: String] = [:]) {
        guard !tooDeep else { return }
        if stack.count >= XMLNode.maxDepth {
            // Stop reading: nothing deeper is kept, and what was built so far is dropped with `stack`.
            tooDeep = true
            stack.removeAll()
            texts.removeAll()
            parser.abortParsing()
            return
        }
        // "ec2:item" style prefixes are not used by AWS, but strip one if present.
        let local = elementName.split(separator: ":").last.map(String.init) ?? elementName
        stack.append(XMLNode(name: local))
        texts.append("")
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !texts.isEmpty else { return }
        texts[texts.count - 1] += string
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        guard !texts.isEmpty else { return }
        texts[texts.count - 1] += String(decoding: CDATABlock, as: UTF8.self)
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
                qualifiedName: String?) {
        guard !tooDeep, var node = stack.popLast(), let text = texts.popLast() else { return }
        // Whitespace between child elements is layout, not content.
        node.text = node.children.isEmpty ? text : text.trimmingCharacters(in: .whitespacesAndNewlines)
        if stack.isEmpty {
            root = node
        } else {
            stack[stack.count - 1].children.append(node)
        }
    }
}
