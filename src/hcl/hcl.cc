// HCL1 parser: a hand-written lexer and recursive-descent parser whose output has the shape
// Debian's python3-pyhcl (`hcl.loads`) gives, including its rules for merging repeated keys.
//
// Where pyhcl and HashiCorp's Go implementation disagree we follow pyhcl for the *shape* of
// the result (merge rules, heredoc contents) and Go HCL for lexical details pyhcl gets wrong
// (pyhcl keeps "\n", "\t", "\u00e9" escapes verbatim and cannot end a string with "\\"; it also
// rejects bools and nested lists in some list positions). Arithmetic, ternaries and function
// calls that pyhcl's grammar accepts are not part of HCL1 as Vault uses it and are rejected.
// Whitespace-only input gives {} (pyhcl raises "No HCL object could be decoded").
#include "hcl/hcl.h"

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace vault::hcl {
namespace {

// Objects, lists and block labels nest at most this deep; deeper input is rejected so that
// neither this parser nor later recursive consumers of the Json (dump, destructors) can be
// driven into unbounded recursion.
constexpr int kMaxDepth = 100;

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHexDigit(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c) || c == '-' || c == '.'; }

// Decodes the UTF-8 sequence at text[offset] (text is valid UTF-8) to a code point.
uint32_t DecodeCodePointAt(std::string_view text, size_t offset) {
  const auto b0 = static_cast<unsigned char>(text[offset]);
  if (b0 < 0x80) return b0;
  int extra = b0 >= 0xf0 ? 3 : b0 >= 0xe0 ? 2 : 1;
  uint32_t cp = b0 & (0x3f >> extra);
  for (int i = 1; i <= extra && offset + i < text.size(); ++i) {
    cp = (cp << 6) | (static_cast<unsigned char>(text[offset + i]) & 0x3f);
  }
  return cp;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

// Returns the offset of the first byte that is not part of a valid UTF-8 sequence (overlong
// forms, surrogates and values above U+10FFFF are invalid), or npos if the text is valid.
size_t FindInvalidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int len;
    uint32_t min;
    if ((c & 0xe0) == 0xc0) {
      len = 2, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4, min = 0x10000;
    } else {
      return i;
    }
    if (i + len > text.size()) return i;
    uint32_t cp = c & (0x7f >> len);
    for (int k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xc0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += len;
  }
  return std::string_view::npos;
}

// "LINE:COL" for a byte offset; both 1-based, columns count characters (UTF-8 sequences).
std::string LineCol(std::string_view text, size_t offset) {
  if (offset > text.size()) offset = text.size();
  int line = 1, col = 1;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xc0) != 0x80) {
      ++col;
    }
  }
  return std::to_string(line) + ":" + std::to_string(col);
}

// kInvalidArgument "At LINE:COL: message".
Status ErrorAt(std::string_view text, size_t offset, const std::string& message) {
  return InvalidArgument("At " + LineCol(text, offset) + ": " + message);
}

// A printable description of the character at text[offset] for error messages.
std::string DescribeChar(std::string_view text, size_t offset) {
  const char c = text[offset];
  if (c >= 0x21 && c < 0x7f) return std::string("'") + c + "'";
  char buf[16];
  std::snprintf(buf, sizeof(buf), "U+%04X", DecodeCodePointAt(text, offset));
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Lexer.

enum class TokenType {
  kEof,
  kIdent,
  kString,   // quoted string, escapes decoded
  kHeredoc,  // <<EOF ... EOF
  kInt,
  kFloat,
  kBool,
  kMinus,  // a '-' not directly followed by a number ("- 5" is -5, as in pyhcl)
  kLeftBrace,
  kRightBrace,
  kLeftBracket,
  kRightBracket,
  kComma,
  kEqual,
  kColon,
};

struct Token {
  TokenType type = TokenType::kEof;
  size_t offset = 0;  // of the token's first byte
  std::string text;   // identifier name or string contents
  int64_t int_value = 0;
  double float_value = 0;
  bool bool_value = false;
};

std::string Describe(const Token& t) {
  switch (t.type) {
    case TokenType::kEof:
      return "end of input";
    case TokenType::kIdent:
      return "identifier \"" + t.text + "\"";
    case TokenType::kString:
      return t.text.size() <= 40 ? "string \"" + t.text + "\"" : "string";
    case TokenType::kHeredoc:
      return "heredoc";
    case TokenType::kInt:
    case TokenType::kFloat:
      return "number";
    case TokenType::kBool:
      return t.bool_value ? "true" : "false";
    case TokenType::kMinus:
      return "'-'";
    case TokenType::kLeftBrace:
      return "'{'";
    case TokenType::kRightBrace:
      return "'}'";
    case TokenType::kLeftBracket:
      return "'['";
    case TokenType::kRightBracket:
      return "']'";
    case TokenType::kComma:
      return "','";
    case TokenType::kEqual:
      return "'='";
    case TokenType::kColon:
      return "':'";
  }
  return "token";
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  // Scans the next token; kInvalidArgument on malformed input.
  Result<Token> Next() {
    RETURN_IF_ERROR(SkipSpaceAndComments());
    Token tok;
    tok.offset = pos_;
    if (pos_ >= text_.size()) return tok;  // kEof
    const char c = text_[pos_];
    switch (c) {
      case '{':
        return Punct(TokenType::kLeftBrace, tok);
      case '}':
        return Punct(TokenType::kRightBrace, tok);
      case '[':
        return Punct(TokenType::kLeftBracket, tok);
      case ']':
        return Punct(TokenType::kRightBracket, tok);
      case ',':
        return Punct(TokenType::kComma, tok);
      case '=':
        return Punct(TokenType::kEqual, tok);
      case ':':
        return Punct(TokenType::kColon, tok);
      case '"':
        return LexString(tok);
      case '<':
        return LexHeredoc(tok);
      default:
        break;
    }
    if (IsDigit(c) || (c == '.' && IsDigit(Peek(1))) ||
        (c == '-' && (IsDigit(Peek(1)) || (Peek(1) == '.' && IsDigit(Peek(2)))))) {
      return LexNumber(tok);
    }
    if (c == '-') return Punct(TokenType::kMinus, tok);
    if (IsIdentStart(c)) {
      const size_t start = pos_;
      while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
      tok.text = std::string(text_.substr(start, pos_ - start));
      if (tok.text == "true" || tok.text == "false") {
        tok.type = TokenType::kBool;
        tok.bool_value = tok.text == "true";
      } else {
        tok.type = TokenType::kIdent;
      }
      return tok;
    }
    return ErrorAt(text_, pos_, "unexpected character " + DescribeChar(text_, pos_));
  }

 private:
  char At(size_t i) const { return i < text_.size() ? text_[i] : '\0'; }
  char Peek(size_t ahead) const { return At(pos_ + ahead); }

  Token Punct(TokenType type, Token tok) {
    tok.type = type;
    ++pos_;
    return tok;
  }

  Status SkipSpaceAndComments() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (IsSpace(c)) {
        ++pos_;
      } else if (c == '#' || (c == '/' && Peek(1) == '/')) {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else if (c == '/' && Peek(1) == '*') {
        const size_t end = text_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) {
          return ErrorAt(text_, pos_, "unterminated comment: expected '*/' to close '/*'");
        }
        pos_ = end + 2;
      } else if (c == '/') {
        return ErrorAt(text_, pos_, "expected '//' or '/*' to start a comment, got '/'");
      } else {
        break;
      }
    }
    return Status::Ok();
  }

  Result<Token> LexNumber(Token tok) {
    const size_t start = pos_;
    const bool negative = text_[start] == '-';
    size_t p = negative ? start + 1 : start;
    if (At(p) == '0' && (At(p + 1) == 'x' || At(p + 1) == 'X') && IsHexDigit(At(p + 2))) {
      const size_t digits = p + 2;
      size_t end = digits;
      while (IsHexDigit(At(end))) ++end;
      uint64_t magnitude = 0;
      auto [ptr, ec] = std::from_chars(text_.data() + digits, text_.data() + end, magnitude, 16);
      const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
      if (ec != std::errc() || magnitude > limit) {
        return ErrorAt(text_, start, "integer out of range");
      }
      tok.type = TokenType::kInt;
      tok.int_value =
          negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
      pos_ = end;
      return tok;
    }
    bool is_float = false;
    while (IsDigit(At(p))) ++p;
    if (At(p) == '.') {
      is_float = true;
      ++p;
      while (IsDigit(At(p))) ++p;
    }
    if (At(p) == 'e' || At(p) == 'E') {
      size_t q = p + 1;
      if (At(q) == '+' || At(q) == '-') ++q;
      if (IsDigit(At(q))) {
        while (IsDigit(At(q))) ++q;
        is_float = true;
        p = q;
      }
    }
    const char* first = text_.data() + start;
    const char* last = text_.data() + p;
    pos_ = p;
    if (is_float) {
      double v = 0;
      auto [ptr, ec] = std::from_chars(first, last, v);
      if (ec != std::errc() || ptr != last) return ErrorAt(text_, start, "number out of range");
      tok.type = TokenType::kFloat;
      tok.float_value = v;
    } else {
      int64_t v = 0;
      auto [ptr, ec] = std::from_chars(first, last, v);
      if (ec != std::errc() || ptr != last) return ErrorAt(text_, start, "integer out of range");
      tok.type = TokenType::kInt;
      tok.int_value = v;
    }
    return tok;
  }

  // Reads `count` hex digits at pos_ into *value.
  bool ReadHex(int count, uint32_t* value) {
    *value = 0;
    for (int i = 0; i < count; ++i) {
      if (pos_ >= text_.size() || !IsHexDigit(text_[pos_])) return false;
      const char h = text_[pos_++];
      const uint32_t d = IsDigit(h) ? h - '0' : (h | 0x20) - 'a' + 10;
      *value = (*value << 4) | d;
    }
    return true;
  }

  Result<Token> LexString(Token tok) {
    const size_t open = pos_++;
    tok.type = TokenType::kString;
    std::string& out = tok.text;
    while (true) {
      if (pos_ >= text_.size()) {
        return ErrorAt(text_, open, "unterminated string: expected '\"' before end of input");
      }
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return tok;
      }
      if (c == '$' && Peek(1) == '{') {
        // "${ ... }" interpolation is kept verbatim (no escape processing, as in Go HCL and
        // pyhcl); braces nest and quotes inside it do not end the string.
        const size_t interp = pos_;
        out += "${";
        pos_ += 2;
        for (int depth = 1; depth > 0;) {
          if (pos_ >= text_.size()) {
            return ErrorAt(text_, interp, "unterminated '${' interpolation in string");
          }
          const char d = text_[pos_++];
          if (d == '{') ++depth;
          if (d == '}') --depth;
          out.push_back(d);
        }
        continue;
      }
      if (c != '\\') {
        out.push_back(c);
        ++pos_;
        continue;
      }
      const size_t escape = pos_;
      if (escape + 1 >= text_.size()) {
        return ErrorAt(text_, open, "unterminated string: expected '\"' before end of input");
      }
      const char e = text_[escape + 1];
      pos_ += 2;
      switch (e) {
        case 'n':
          out.push_back('\n');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '\'':
          out.push_back('\'');
          break;
        case 'a':
          out.push_back('\a');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'v':
          out.push_back('\v');
          break;
        case 'u':
        case 'U': {
          uint32_t cp = 0;
          if (!ReadHex(e == 'u' ? 4 : 8, &cp)) {
            return ErrorAt(text_, escape, "invalid Unicode escape: expected hex digits");
          }
          if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return ErrorAt(text_, escape, "invalid Unicode escape: not a valid code point");
          }
          AppendUtf8(cp, &out);
          break;
        }
        default:
          return ErrorAt(text_, escape, "unknown escape sequence '\\" + std::string(1, e) + "'");
      }
    }
  }

  // Heredocs follow pyhcl: "<<MARKER" or "<<-MARKER" directly followed by a newline; the body
  // ends at the first line that is the marker (after trimming whitespace, for "<<-") or that
  // ends with it. The newline before the closing line is not part of the value; with "<<-"
  // leading tabs are removed from every line.
  Result<Token> LexHeredoc(Token tok) {
    const size_t open = pos_;
    if (Peek(1) != '<') {
      return ErrorAt(text_, open, "expected '<<' to start a heredoc, got '<'");
    }
    size_t p = pos_ + 2;
    const bool tabbed = p < text_.size() && text_[p] == '-';
    if (tabbed) ++p;
    const size_t marker_start = p;
    while (p < text_.size() && !IsSpace(text_[p])) ++p;
    const std::string_view marker = text_.substr(marker_start, p - marker_start);
    size_t newline_chars = 0;
    if (p < text_.size() && text_[p] == '\n') {
      newline_chars = 1;
    } else if (p + 1 < text_.size() && text_[p] == '\r' && text_[p + 1] == '\n') {
      newline_chars = 2;
    }
    if (marker.empty() || newline_chars == 0) {
      return ErrorAt(text_, open,
                     "heredoc must have a marker directly followed by a newline, e.g. '<<FOO'");
    }
    const size_t body = p + newline_chars;
    size_t line_start = body;
    while (line_start < text_.size()) {
      size_t line_end = text_.find('\n', line_start);
      if (line_end == std::string_view::npos) line_end = text_.size();
      size_t content_end = line_end;
      if (content_end > line_start + 1 && text_[content_end - 1] == '\r') --content_end;
      std::string_view line = text_.substr(line_start, content_end - line_start);
      if (tabbed) {
        while (!line.empty() && IsSpace(line.front())) line.remove_prefix(1);
        while (!line.empty() && IsSpace(line.back())) line.remove_suffix(1);
      }
      size_t end = std::string_view::npos;
      if (line == marker) {
        end = line_start - newline_chars;  // drop the newline before the closing line
      } else if (line.size() > marker.size() &&
                 line.substr(line.size() - marker.size()) == marker) {
        end = content_end - marker.size();
      }
      if (end != std::string_view::npos) {
        std::string value(text_.substr(body, end > body ? end - body : 0));
        if (tabbed) {
          std::string stripped;
          bool at_line_start = true;
          for (char ch : value) {
            if (at_line_start && ch == '\t') continue;
            at_line_start = ch == '\n';
            stripped.push_back(ch);
          }
          value = std::move(stripped);
        }
        tok.type = TokenType::kHeredoc;
        tok.text = std::move(value);
        pos_ = content_end;
        return tok;
      }
      line_start = line_end + 1;
    }
    return ErrorAt(text_, open,
                   "unterminated heredoc: expected a line with '" + std::string(marker) + "'");
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Parser.

// One `key = value` or block, as pyhcl's grammar produces it: blocks become
// (key, {label1: {label2: {...}}}).
struct Item {
  std::string key;
  Json value;
  // The keys of `value` in source order when it is an object (pyhcl's dicts keep insertion
  // order, and the top-level merge walks them in that order; Json's keys are sorted).
  std::vector<std::string> order;
  size_t offset = 0;
};

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text), lexer_(text) {}

  Result<Json> ParseDocument() {
    RETURN_IF_ERROR(Advance());
    std::vector<Item> items;
    while (tok_.type != TokenType::kEof) {
      ASSIGN_OR_RETURN(Item item, ParseItem(0));
      items.push_back(std::move(item));
      if (tok_.type == TokenType::kComma) {
        RETURN_IF_ERROR(Advance());
        if (tok_.type == TokenType::kEof) {
          return ErrorAt(text_, tok_.offset, "expected a key after ',', got end of input");
        }
      }
    }
    return Flatten(std::move(items), /*replace=*/true, nullptr);
  }

 private:
  Status Advance() {
    ASSIGN_OR_RETURN(tok_, lexer_.Next());
    return Status::Ok();
  }

  Status Unexpected(const std::string& expected) {
    return ErrorAt(text_, tok_.offset, "expected " + expected + ", got " + Describe(tok_));
  }

  Status CheckDepth(int depth) {
    if (depth > kMaxDepth) {
      return ErrorAt(text_, tok_.offset,
                     "nesting too deep (more than " + std::to_string(kMaxDepth) + " levels)");
    }
    return Status::Ok();
  }

  static bool IsKey(const Token& t) {
    return t.type == TokenType::kIdent || t.type == TokenType::kString;
  }

  // item := key ('=' | ':') value | key label* object
  Result<Item> ParseItem(int depth) {
    if (!IsKey(tok_)) return Unexpected("a key (identifier or quoted string)");
    Item item;
    item.key = std::move(tok_.text);
    item.offset = tok_.offset;
    RETURN_IF_ERROR(Advance());
    if (tok_.type == TokenType::kEqual || tok_.type == TokenType::kColon) {
      RETURN_IF_ERROR(Advance());
      RETURN_IF_ERROR(ParseValue(depth, &item.value, &item.order));
      return item;
    }
    std::vector<std::string> labels;
    while (IsKey(tok_)) {
      labels.push_back(std::move(tok_.text));
      RETURN_IF_ERROR(CheckDepth(depth + static_cast<int>(labels.size())));
      RETURN_IF_ERROR(Advance());
    }
    if (tok_.type != TokenType::kLeftBrace) {
      return Unexpected(labels.empty() ? "'=', '{' or a block label after key \"" + item.key + "\""
                                       : "'{' or another label after block label");
    }
    const int object_depth = depth + static_cast<int>(labels.size()) + 1;
    std::vector<std::string> order;
    ASSIGN_OR_RETURN(Json body, ParseObject(object_depth, &order));
    // Wrap the body in its labels, innermost first.
    for (size_t i = labels.size(); i-- > 0;) {
      Json wrapped = Json::object();
      wrapped[labels[i]] = std::move(body);
      body = std::move(wrapped);
      order = {labels[i]};
    }
    item.value = std::move(body);
    item.order = std::move(order);
    return item;
  }

  // object := '{' (item (','? item)* ','?)? '}'; tok_ is the '{'.
  Result<Json> ParseObject(int depth, std::vector<std::string>* order) {
    RETURN_IF_ERROR(CheckDepth(depth));
    const size_t open = tok_.offset;
    RETURN_IF_ERROR(Advance());
    std::vector<Item> items;
    while (tok_.type != TokenType::kRightBrace) {
      if (tok_.type == TokenType::kEof) {
        return ErrorAt(text_, tok_.offset,
                       "expected '}' to close the object opened at " + LineCol(text_, open) +
                           ", got end of input");
      }
      ASSIGN_OR_RETURN(Item item, ParseItem(depth));
      items.push_back(std::move(item));
      if (tok_.type == TokenType::kComma) RETURN_IF_ERROR(Advance());
    }
    RETURN_IF_ERROR(Advance());
    return Flatten(std::move(items), /*replace=*/false, order);
  }

  // list := '[' (value (',' value)* ','?)? ']'; tok_ is the '['.
  Result<Json> ParseList(int depth) {
    RETURN_IF_ERROR(CheckDepth(depth));
    RETURN_IF_ERROR(Advance());
    Json list = Json::array();
    while (tok_.type != TokenType::kRightBracket) {
      Json element;
      RETURN_IF_ERROR(ParseValue(depth, &element, nullptr));
      list.push_back(std::move(element));
      if (tok_.type == TokenType::kComma) {
        RETURN_IF_ERROR(Advance());
      } else if (tok_.type != TokenType::kRightBracket) {
        return Unexpected("',' or ']' after a list element");
      }
    }
    RETURN_IF_ERROR(Advance());
    return list;
  }

  // value := number | '-' number | bool | string | heredoc | identifier | object | list.
  // `order` (may be null) receives the key order when the value is an object.
  Status ParseValue(int depth, Json* out, std::vector<std::string>* order) {
    switch (tok_.type) {
      case TokenType::kInt:
        *out = tok_.int_value;
        return Advance();
      case TokenType::kFloat:
        *out = tok_.float_value;
        return Advance();
      case TokenType::kMinus: {
        RETURN_IF_ERROR(Advance());
        if (tok_.type == TokenType::kFloat) {
          *out = -tok_.float_value;
        } else if (tok_.type == TokenType::kInt &&
                   tok_.int_value != std::numeric_limits<int64_t>::min()) {
          *out = -tok_.int_value;
        } else {
          return Unexpected("a number after '-'");
        }
        return Advance();
      }
      case TokenType::kBool:
        *out = tok_.bool_value;
        return Advance();
      case TokenType::kString:
      case TokenType::kHeredoc:
      case TokenType::kIdent:  // a bare identifier is its own name as a string (as in pyhcl)
        *out = std::move(tok_.text);
        return Advance();
      case TokenType::kLeftBrace: {
        std::vector<std::string> ignored;
        ASSIGN_OR_RETURN(*out, ParseObject(depth + 1, order ? order : &ignored));
        return Status::Ok();
      }
      case TokenType::kLeftBracket: {
        ASSIGN_OR_RETURN(*out, ParseList(depth + 1));
        return Status::Ok();
      }
      default:
        return Unexpected("a value (string, number, bool, list or object)");
    }
  }

  // pyhcl's objectlist_flat: turns a list of (key, value) items into an object.
  //  - replace=false (inside braces): a repeated key collects its values into a list.
  //  - replace=true (top level): a repeated scalar key is overwritten; a repeated object key
  //    is merged: new sub-keys are added; a sub-key present in both whose new value is an
  //    object has that object's entries assigned into the old one (one level, shallow); a
  //    sub-key present in both with a non-object new value turns the key's value into
  //    [old object, {sub-key: new value}]; when the existing value is already a list every
  //    new sub-key is appended to it as a one-entry object.
  // `order` (may be null) receives the result's keys in first-occurrence order.
  Result<Json> Flatten(std::vector<Item> items, bool replace, std::vector<std::string>* order) {
    Json d = Json::object();
    for (Item& item : items) {
      auto found = d.find(item.key);
      if (found != d.end() && !replace) {
        if (found->is_array()) {
          found->push_back(std::move(item.value));
        } else {
          Json list = Json::array();
          list.push_back(std::move(*found));
          list.push_back(std::move(item.value));
          *found = std::move(list);
        }
        continue;
      }
      if (found == d.end() && order != nullptr) order->push_back(item.key);
      if (!item.value.is_object()) {
        d[item.key] = std::move(item.value);
        continue;
      }
      if (found == d.end()) found = d.emplace(item.key, Json::object()).first;
      Json& slot = *found;
      Json* target = &slot;  // pyhcl's `dd`: the object being merged into
      const bool target_is_list = target->is_array();
      for (const std::string& sub_key : item.order) {
        Json& sub_value = item.value[sub_key];
        if (target_is_list) {
          Json entry = Json::object();
          entry[sub_key] = std::move(sub_value);
          target->push_back(std::move(entry));
          continue;
        }
        if (!target->is_object()) {
          return ErrorAt(text_, item.offset,
                         "cannot merge \"" + item.key +
                             "\" into the earlier non-object value of the same key");
        }
        auto existing = target->find(sub_key);
        if (existing == target->end()) {
          (*target)[sub_key] = std::move(sub_value);
        } else if (sub_value.is_object()) {
          if (sub_value.empty()) continue;
          if (!existing->is_object()) {
            return ErrorAt(text_, item.offset,
                           "cannot merge \"" + item.key + "." + sub_key +
                               "\" into the earlier non-object value of the same key");
          }
          for (auto it = sub_value.begin(); it != sub_value.end(); ++it) {
            (*existing)[it.key()] = std::move(it.value());
          }
        } else {
          Json list = Json::array();
          list.push_back(std::move(*target));
          Json entry = Json::object();
          entry[sub_key] = std::move(sub_value);
          list.push_back(std::move(entry));
          slot = std::move(list);
          target = &slot[0];
        }
      }
    }
    return d;
  }

  std::string_view text_;
  Lexer lexer_;
  Token tok_;
};

// ---------------------------------------------------------------------------------------------
// JSON input (pyhcl hands any text whose first non-space character is '{' to json.loads).

// Records nlohmann's parse error position and message; accepts everything else.
class JsonErrorCatcher : public nlohmann::json_sax<Json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    position_ = position;
    message_ = ex.what();
    return false;
  }

  size_t position() const { return position_; }
  // nlohmann's message without its "[json.exception...] parse error at line L, column C: ".
  std::string message() const {
    const size_t column = message_.find("column ");
    const size_t colon = message_.find(": ", column == std::string::npos ? 0 : column);
    return colon == std::string::npos ? message_ : message_.substr(colon + 2);
  }

 private:
  size_t position_ = 0;
  std::string message_;
};

// Finds where brackets outside strings first nest deeper than kMaxDepth (npos if never).
size_t FindTooDeepJson(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxDepth) return i;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return std::string_view::npos;
}

Result<Json> ParseJsonDocument(std::string_view text) {
  const size_t too_deep = FindTooDeepJson(text);
  if (too_deep != std::string_view::npos) {
    return ErrorAt(text, too_deep,
                   "nesting too deep (more than " + std::to_string(kMaxDepth) + " levels)");
  }
  JsonErrorCatcher catcher;
  if (!Json::sax_parse(text.begin(), text.end(), &catcher)) {
    // nlohmann reports how many bytes it consumed, i.e. one past the offending one.
    const size_t offset = catcher.position() > 0 ? catcher.position() - 1 : 0;
    return ErrorAt(text, offset, "invalid JSON: " + catcher.message());
  }
  Result<Json> parsed = ParseJson(text);
  if (!parsed.ok()) return ErrorAt(text, 0, parsed.status().message());
  return parsed;
}

}  // namespace

Result<Json> Parse(std::string_view text) {
  const size_t bad = FindInvalidUtf8(text);
  if (bad != std::string_view::npos) return ErrorAt(text, bad, "invalid UTF-8");
  size_t first = 0;
  while (first < text.size() && IsSpace(text[first])) ++first;
  if (first == text.size()) return Json::object();
  if (text[first] == '{') return ParseJsonDocument(text);
  return Parser(text).ParseDocument();
}

}  // namespace vault::hcl
