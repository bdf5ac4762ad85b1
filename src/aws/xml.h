// A small read-only XML DOM over libexpat, enough for AWS Query-protocol responses: elements with
// their local names, attributes and text; find a child by name, walk a path, read <member> lists.
//
// Parsing hostile input is safe: it fails with a Status (never crashes or throws), DOCTYPE
// declarations are refused (so no entity expansion), and depth, element count and size are
// bounded. Error messages give the position and expat's reason, never document content (responses
// can carry secrets, e.g. CreateAccessKey's SecretAccessKey).
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"

namespace vault::aws {

class XmlElement {
 public:
  // Local name: a namespace prefix ("a:Foo") is dropped; AWS uses a default xmlns anyway.
  const std::string& name() const { return name_; }
  // The character data directly inside this element (concatenated; entities decoded).
  const std::string& text() const { return text_; }
  const std::vector<XmlElement>& children() const { return children_; }
  const std::vector<std::pair<std::string, std::string>>& attributes() const { return attrs_; }

  // First child element with this name, or nullptr.
  const XmlElement* Child(std::string_view name) const;
  // All child elements with this name, in document order.
  std::vector<const XmlElement*> Children(std::string_view name) const;
  // Text of the first child with this name; "" when there is none.
  std::string ChildText(std::string_view name) const;
  // Follows child names from here ({"CreateUserResult", "User"}); nullptr if any step is missing.
  const XmlElement* Find(std::initializer_list<std::string_view> path) const;
  // The <member> children of the child `list_name` ({"Groups"} -> Groups/member...). Empty when
  // the list element is missing.
  std::vector<const XmlElement*> Members(std::string_view list_name) const;

 private:
  friend class XmlBuilder;
  std::string name_;
  std::string text_;
  std::vector<std::pair<std::string, std::string>> attrs_;
  std::vector<XmlElement> children_;
};

struct XmlLimits {
  size_t max_bytes = 8 << 20;
  int max_depth = 64;
  size_t max_elements = 200000;
};

// Parses a whole document and returns its root element. kInvalidArgument on malformed XML, a
// DOCTYPE, or a limit exceeded.
Result<XmlElement> ParseXml(std::string_view document, const XmlLimits& limits = {});

}  // namespace vault::aws
