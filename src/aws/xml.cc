#include "aws/xml.h"

#include <expat.h>

#include <memory>

#include "util/random.h"

namespace vault::aws {

const XmlElement* XmlElement::Child(std::string_view name) const {
  for (const XmlElement& c : children_) {
    if (c.name_ == name) return &c;
  }
  return nullptr;
}

std::vector<const XmlElement*> XmlElement::Children(std::string_view name) const {
  std::vector<const XmlElement*> out;
  for (const XmlElement& c : children_) {
    if (c.name_ == name) out.push_back(&c);
  }
  return out;
}

std::string XmlElement::ChildText(std::string_view name) const {
  const XmlElement* c = Child(name);
  return c == nullptr ? std::string() : c->text_;
}

const XmlElement* XmlElement::Find(std::initializer_list<std::string_view> path) const {
  const XmlElement* e = this;
  for (std::string_view step : path) {
    e = e->Child(step);
    if (e == nullptr) return nullptr;
  }
  return e;
}

std::vector<const XmlElement*> XmlElement::Members(std::string_view list_name) const {
  const XmlElement* list = Child(list_name);
  if (list == nullptr) return {};
  return list->Children("member");
}

// Builds the tree from expat callbacks.
class XmlBuilder {
 public:
  XmlBuilder(XML_Parser parser, const XmlLimits& limits) : parser_(parser), limits_(limits) {}

  static void OnStart(void* user, const XML_Char* name, const XML_Char** attrs) {
    auto* b = static_cast<XmlBuilder*>(user);
    if (static_cast<int>(b->stack_.size()) >= b->limits_.max_depth) {
      return b->Fail("nesting deeper than " + std::to_string(b->limits_.max_depth));
    }
    if (++b->elements_ > b->limits_.max_elements) {
      return b->Fail("more than " + std::to_string(b->limits_.max_elements) + " elements");
    }
    XmlElement* e;
    if (b->stack_.empty()) {
      if (b->have_root_) return b->Fail("more than one root element");
      b->have_root_ = true;
      e = &b->root_;
    } else {
      b->stack_.back()->children_.emplace_back();
      e = &b->stack_.back()->children_.back();
    }
    std::string_view n = name;
    size_t colon = n.find(':');
    e->name_ = std::string(colon == n.npos ? n : n.substr(colon + 1));
    for (int i = 0; attrs[i] != nullptr; i += 2) e->attrs_.emplace_back(attrs[i], attrs[i + 1]);
    b->stack_.push_back(e);
  }

  static void OnEnd(void* user, const XML_Char*) {
    auto* b = static_cast<XmlBuilder*>(user);
    if (!b->stack_.empty()) b->stack_.pop_back();
  }

  static void OnText(void* user, const XML_Char* s, int len) {
    auto* b = static_cast<XmlBuilder*>(user);
    if (!b->stack_.empty()) b->stack_.back()->text_.append(s, static_cast<size_t>(len));
  }

  static void OnDoctype(void* user, const XML_Char*, const XML_Char*, const XML_Char*, int) {
    static_cast<XmlBuilder*>(user)->Fail("DOCTYPE is not allowed");
  }

  void Fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    XML_StopParser(parser_, XML_FALSE);
  }

  XML_Parser parser_;
  const XmlLimits& limits_;
  XmlElement root_;
  bool have_root_ = false;
  std::vector<XmlElement*> stack_;
  size_t elements_ = 0;
  std::string error_;
};

Result<XmlElement> ParseXml(std::string_view document, const XmlLimits& limits) {
  if (document.size() > limits.max_bytes) {
    return InvalidArgument("XML document larger than " + std::to_string(limits.max_bytes) +
                           " bytes");
  }
  // One parser per thread, reset for each document: creating one allocates expat's tables, and
  // expat draws its hash salt from getrandom(2) on each new parser unless given one. The salt
  // (against hash flooding) is random per thread; a reset parser keeps no state from the last
  // document. ParseXml is never re-entered from expat's callbacks.
  thread_local std::unique_ptr<XML_ParserStruct, decltype(&XML_ParserFree)> parser(
      XML_ParserCreate("UTF-8"), &XML_ParserFree);
  thread_local unsigned long salt = [] {
    unsigned long s = 0;
    while (s == 0) BufferedRandom(reinterpret_cast<unsigned char*>(&s), sizeof(s));
    return s;
  }();
  if (parser && XML_ParserReset(parser.get(), "UTF-8") != XML_TRUE) parser.reset();
  if (!parser) parser.reset(XML_ParserCreate("UTF-8"));
  if (!parser) return Internal("XML_ParserCreate failed");
  XML_SetHashSalt(parser.get(), salt);
  XmlBuilder b(parser.get(), limits);
  XML_SetUserData(parser.get(), &b);
  XML_SetElementHandler(parser.get(), &XmlBuilder::OnStart, &XmlBuilder::OnEnd);
  XML_SetCharacterDataHandler(parser.get(), &XmlBuilder::OnText);
  XML_SetStartDoctypeDeclHandler(parser.get(), &XmlBuilder::OnDoctype);

  // Feed in chunks so sizes never overflow expat's int length.
  constexpr size_t kChunk = 1 << 20;
  size_t off = 0;
  XML_Status st = XML_STATUS_OK;
  do {
    size_t n = std::min(kChunk, document.size() - off);
    bool last = off + n == document.size();
    st = XML_Parse(parser.get(), document.data() + off, static_cast<int>(n), last);
    off += n;
    if (last) break;
  } while (st == XML_STATUS_OK);

  if (!b.error_.empty()) return InvalidArgument("invalid XML: " + b.error_);
  if (st != XML_STATUS_OK) {
    return InvalidArgument("invalid XML at line " +
                           std::to_string(XML_GetCurrentLineNumber(parser.get())) + ", column " +
                           std::to_string(XML_GetCurrentColumnNumber(parser.get())) + ": " +
                           XML_ErrorString(XML_GetErrorCode(parser.get())));
  }
  if (!b.have_root_) return InvalidArgument("invalid XML: no root element");
  return std::move(b.root_);
}

}  // namespace vault::aws
