#ifndef CONVOPS_CXML2_SHIM_H
#define CONVOPS_CXML2_SHIM_H
// libxml2's streaming reader (xmlTextReader): AWS's XML answers are read with it instead of
// Foundation's XMLParser, which would pull FoundationXML (and its ICU) into the process.
//
// Debian builds libxml2 with ICU, so its encoding.h includes ICU's <unicode/ucnv.h>, whose
// declarations clash with the copy Swift's Foundation carries. Nothing here uses libxml2's ICU
// converters (only the layout of xmlCharEncodingHandler, which is never touched from Swift,
// depends on it), so the flag is dropped before the headers are read.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/xmlreader.h>

// The parser options, as one int: the enum's values are flags Swift imports as separate cases.
// NONET: never fetch anything. NOERROR/NOWARNING: errors are returned, not printed to stderr.
// NOCDATA: CDATA arrives as text. No NOENT/DTDLOAD: entities are not expanded from a DTD, and
// no external subset is ever loaded (no XXE).
static inline int convops_xml_reader_options(void) {
    return XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;
}
#endif
