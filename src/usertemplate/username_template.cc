#include "usertemplate/username_template.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>
#include <variant>
#include <vector>

#include "util/encoding.h"

namespace vault::usertemplate {

namespace {

// ---------------------------------------------------------------------------------------------
// AST

struct Pipeline;

struct Operand {
  enum Kind { kIdent, kField, kDot, kString, kInt, kBool, kPipeline };
  Kind kind = kIdent;
  std::string text;  // identifier, field name (without '.') or string literal value
  int64_t num = 0;
  bool boolean = false;
  std::shared_ptr<Pipeline> pipe;
};

struct Command {
  std::vector<Operand> args;
};

struct Pipeline {
  std::vector<Command> cmds;
};

using Value = std::variant<std::string, int64_t, bool>;

const char* TypeName(const Value& v) {
  switch (v.index()) {
    case 0:
      return "string";
    case 1:
      return "int";
    default:
      return "bool";
  }
}

std::string ToText(const Value& v) {
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  return std::get<bool>(v) ? "true" : "false";
}

bool Truth(const Value& v) {
  if (auto* s = std::get_if<std::string>(&v)) return !s->empty();
  if (auto* i = std::get_if<int64_t>(&v)) return *i != 0;
  return std::get<bool>(v);
}

Status ParseError(const std::string& msg) { return InvalidArgument("template: username: " + msg); }
Status ExecError(const std::string& msg) {
  return InvalidArgument("template: username: executing: " + msg);
}

const std::vector<std::string>& KnownFunctions() {
  static const std::vector<std::string> k = {"eq",
                                             "ne",
                                             "not",
                                             "and",
                                             "or",
                                             "printf",
                                             "truncate",
                                             "truncate_sha256",
                                             "random",
                                             "unix_time",
                                             "unix_time_millis",
                                             "timestamp",
                                             "uuid",
                                             "uppercase",
                                             "lowercase",
                                             "replace",
                                             "sha256",
                                             "base64"};
  return k;
}

// ---------------------------------------------------------------------------------------------
// Lexing of one action's contents into tokens.

struct Token {
  enum Kind { kLParen, kRParen, kPipe, kString, kInt, kIdent, kField, kDot };
  Kind kind;
  std::string text;
  int64_t num = 0;
};

Result<std::vector<Token>> LexAction(const std::string& s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '(') {
      out.push_back({Token::kLParen, "("});
      ++i;
    } else if (c == ')') {
      out.push_back({Token::kRParen, ")"});
      ++i;
    } else if (c == '|') {
      out.push_back({Token::kPipe, "|"});
      ++i;
    } else if (c == '"') {
      std::string v;
      ++i;
      bool closed = false;
      while (i < s.size()) {
        char d = s[i++];
        if (d == '"') {
          closed = true;
          break;
        }
        if (d == '\\') {
          if (i >= s.size()) break;
          char e = s[i++];
          switch (e) {
            case 'n':
              v += '\n';
              break;
            case 't':
              v += '\t';
              break;
            case 'r':
              v += '\r';
              break;
            case '\\':
              v += '\\';
              break;
            case '"':
              v += '"';
              break;
            default:
              return ParseError("invalid escape in string literal");
          }
        } else if (d == '\n') {
          return ParseError("unterminated quoted string");
        } else {
          v += d;
        }
      }
      if (!closed) return ParseError("unterminated quoted string");
      out.push_back({Token::kString, v});
    } else if (c == '`') {
      auto end = s.find('`', i + 1);
      if (end == std::string::npos) return ParseError("unterminated raw quoted string");
      out.push_back({Token::kString, s.substr(i + 1, end - i - 1)});
      i = end + 1;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '-' && i + 1 < s.size() &&
                std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      size_t j = i + 1;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      if (j < s.size() && (std::isalpha(static_cast<unsigned char>(s[j])) || s[j] == '.'))
        return ParseError("bad number syntax: \"" + s.substr(i, j - i + 1) + "\"");
      std::string num = s.substr(i, j - i);
      if (num.size() > 18) return ParseError("number out of range: " + num);
      out.push_back({Token::kInt, num, std::stoll(num)});
      i = j;
    } else if (c == '.') {
      size_t j = i + 1;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      if (j == i + 1) {
        out.push_back({Token::kDot, "."});
      } else {
        if (j < s.size() && s[j] == '.') return ParseError("nested fields are not supported");
        out.push_back({Token::kField, s.substr(i + 1, j - i - 1)});
      }
      i = j;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i + 1;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      out.push_back({Token::kIdent, s.substr(i, j - i)});
      i = j;
    } else if (c == '$') {
      return ParseError("variables are not supported");
    } else {
      return ParseError(std::string("unexpected \"") + c + "\" in command");
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parsing

class PipelineParser {
 public:
  explicit PipelineParser(const std::vector<Token>& toks, size_t start = 0)
      : toks_(toks), pos_(start) {}

  Result<Pipeline> ParseAll() {
    ASSIGN_OR_RETURN(Pipeline p, ParsePipeline());
    if (pos_ != toks_.size())
      return ParseError("unexpected \"" + toks_[pos_].text + "\" in operand");
    return p;
  }

 private:
  Result<Pipeline> ParsePipeline() {
    Pipeline p;
    while (true) {
      Command cmd;
      while (pos_ < toks_.size() && toks_[pos_].kind != Token::kPipe &&
             toks_[pos_].kind != Token::kRParen) {
        ASSIGN_OR_RETURN(Operand o, ParseOperand());
        cmd.args.push_back(std::move(o));
      }
      if (cmd.args.empty()) return ParseError("missing value for command");
      p.cmds.push_back(std::move(cmd));
      if (pos_ < toks_.size() && toks_[pos_].kind == Token::kPipe) {
        ++pos_;
        continue;
      }
      break;
    }
    return p;
  }

  Result<Operand> ParseOperand() {
    const Token& t = toks_[pos_++];
    Operand o;
    switch (t.kind) {
      case Token::kLParen: {
        ASSIGN_OR_RETURN(Pipeline inner, ParsePipeline());
        if (pos_ >= toks_.size() || toks_[pos_].kind != Token::kRParen)
          return ParseError("unclosed left paren");
        ++pos_;
        o.kind = Operand::kPipeline;
        o.pipe = std::make_shared<Pipeline>(std::move(inner));
        return o;
      }
      case Token::kString:
        o.kind = Operand::kString;
        o.text = t.text;
        return o;
      case Token::kInt:
        o.kind = Operand::kInt;
        o.num = t.num;
        return o;
      case Token::kField:
        o.kind = Operand::kField;
        o.text = t.text;
        return o;
      case Token::kDot:
        o.kind = Operand::kDot;
        return o;
      case Token::kIdent: {
        if (t.text == "true" || t.text == "false") {
          o.kind = Operand::kBool;
          o.boolean = t.text == "true";
          return o;
        }
        const auto& fns = KnownFunctions();
        if (std::find(fns.begin(), fns.end(), t.text) == fns.end())
          return ParseError("function \"" + t.text + "\" not defined");
        o.kind = Operand::kIdent;
        o.text = t.text;
        return o;
      }
      default:
        return ParseError("unexpected \"" + t.text + "\" in operand");
    }
  }

  const std::vector<Token>& toks_;
  size_t pos_;
};

}  // namespace

struct UsernameTemplate::Node {
  enum Kind { kText, kAction, kIf };
  Kind kind = kText;
  std::string text;
  Pipeline pipe;
  std::vector<Node> then_branch;
  std::vector<Node> else_branch;
};

namespace {

using Node = UsernameTemplate::Node;

// One lexed item of the template: literal text or an action's tokens.
struct Item {
  bool is_action = false;
  std::string text;
  std::vector<Token> toks;
};

Result<std::vector<Item>> SplitItems(const std::string& text) {
  std::vector<Item> items;
  size_t pos = 0;
  bool trim_next = false;
  while (pos <= text.size()) {
    size_t open = text.find("{{", pos);
    std::string literal =
        text.substr(pos, open == std::string::npos ? std::string::npos : open - pos);
    if (trim_next) {
      size_t b = 0;
      while (b < literal.size() && std::isspace(static_cast<unsigned char>(literal[b]))) ++b;
      literal.erase(0, b);
      trim_next = false;
    }
    if (open == std::string::npos) {
      if (!literal.empty()) items.push_back({false, literal, {}});
      break;
    }
    size_t inner_start = open + 2;
    if (text.compare(inner_start, 2, "- ") == 0 || text.compare(inner_start, 2, "-\t") == 0 ||
        text.compare(inner_start, 2, "-\n") == 0) {
      while (!literal.empty() && std::isspace(static_cast<unsigned char>(literal.back())))
        literal.pop_back();
      inner_start += 1;
    }
    if (!literal.empty()) items.push_back({false, literal, {}});
    size_t scan_from = inner_start;
    size_t k = inner_start;
    while (k < text.size() && std::isspace(static_cast<unsigned char>(text[k]))) ++k;
    if (text.compare(k, 2, "/*") == 0) {
      size_t cend = text.find("*/", k + 2);
      if (cend == std::string::npos) return ParseError("unclosed comment");
      scan_from = cend + 2;
    }
    size_t close = text.find("}}", scan_from);
    if (close == std::string::npos) return ParseError("unclosed action");
    std::string inner = text.substr(inner_start, close - inner_start);
    if (inner.size() >= 2 && inner[inner.size() - 1] == '-' &&
        std::isspace(static_cast<unsigned char>(inner[inner.size() - 2]))) {
      inner.pop_back();
      trim_next = true;
    }
    pos = close + 2;
    std::string trimmed = inner;
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front())))
      trimmed.erase(0, 1);
    if (trimmed.rfind("/*", 0) == 0) continue;  // comment
    ASSIGN_OR_RETURN(std::vector<Token> toks, LexAction(inner));
    if (toks.empty()) return ParseError("missing value for command");
    items.push_back({true, "", std::move(toks)});
  }
  return items;
}

class TreeParser {
 public:
  explicit TreeParser(std::vector<Item> items) : items_(std::move(items)) {}

  Result<std::vector<Node>> ParseRoot() {
    std::string stop;
    ASSIGN_OR_RETURN(std::vector<Node> nodes, ParseList(&stop));
    if (!stop.empty()) return ParseError("unexpected {{" + stop + "}}");
    return nodes;
  }

 private:
  static bool IsKeyword(const Item& it, const char* kw) {
    return it.is_action && it.toks[0].kind == Token::kIdent && it.toks[0].text == kw;
  }

  // Parses nodes until {{else…}} or {{end}} (reported in *stop, the item left current) or EOF.
  Result<std::vector<Node>> ParseList(std::string* stop) {
    std::vector<Node> out;
    while (pos_ < items_.size()) {
      const Item& it = items_[pos_];
      if (!it.is_action) {
        Node n;
        n.kind = Node::kText;
        n.text = it.text;
        out.push_back(std::move(n));
        ++pos_;
        continue;
      }
      if (IsKeyword(it, "end") || IsKeyword(it, "else")) {
        *stop = it.toks[0].text;
        return out;
      }
      if (IsKeyword(it, "if")) {
        ++pos_;
        ASSIGN_OR_RETURN(Node n, ParseIf(it.toks, 1));
        out.push_back(std::move(n));
        continue;
      }
      if (it.toks[0].kind == Token::kIdent) {
        for (const char* kw :
             {"range", "with", "define", "template", "block", "break", "continue", "nil"}) {
          if (it.toks[0].text == kw)
            return ParseError("\"" + std::string(kw) + "\" is not supported");
        }
      }
      Node n;
      n.kind = Node::kAction;
      ASSIGN_OR_RETURN(n.pipe, PipelineParser(it.toks).ParseAll());
      out.push_back(std::move(n));
      ++pos_;
    }
    stop->clear();
    return out;
  }

  // Parses an if whose condition starts at toks[start]; consumes through the matching {{end}}.
  Result<Node> ParseIf(const std::vector<Token>& toks, size_t start) {
    if (start >= toks.size()) return ParseError("missing value for if");
    Node n;
    n.kind = Node::kIf;
    ASSIGN_OR_RETURN(n.pipe, PipelineParser(toks, start).ParseAll());
    std::string stop;
    ASSIGN_OR_RETURN(n.then_branch, ParseList(&stop));
    if (stop.empty()) return ParseError("unexpected EOF");
    const Item& term = items_[pos_++];
    if (stop == "end") {
      if (term.toks.size() != 1) return ParseError("unexpected tokens after end");
      return n;
    }
    // else / else if
    if (term.toks.size() > 1) {
      if (term.toks[1].kind != Token::kIdent || term.toks[1].text != "if")
        return ParseError("unexpected tokens after else");
      std::vector<Token> cond = term.toks;  // copy: items_ may not move, but be safe
      ASSIGN_OR_RETURN(Node nested, ParseIf(cond, 2));
      n.else_branch.push_back(std::move(nested));
      return n;
    }
    ASSIGN_OR_RETURN(n.else_branch, ParseList(&stop));
    if (stop != "end")
      return ParseError(stop.empty() ? "unexpected EOF" : "expected end; found else");
    const Item& end = items_[pos_++];
    if (end.toks.size() != 1) return ParseError("unexpected tokens after end");
    return n;
  }

  std::vector<Item> items_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Execution

std::string Sha256Hex(const std::string& in) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(in.data(), in.size(), md, &len, EVP_sha256(), nullptr);
  return HexEncode(std::string(reinterpret_cast<char*>(md), len));
}

std::string GoQuote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string BadVerb(char verb, const Value& v) {
  std::string val = v.index() == 0 ? std::get<std::string>(v) : ToText(v);
  return std::string("%!") + verb + "(" + TypeName(v) + "=" + val + ")";
}

// Go's fmt.Sprintf for the verbs templates use.
std::string GoSprintf(const std::string& format, const std::vector<Value>& args) {
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    char c = format[i];
    if (c != '%') {
      out += c;
      continue;
    }
    if (i + 1 >= format.size()) {
      out += "%!(NOVERB)";
      break;
    }
    char verb = format[++i];
    if (verb == '%') {
      out += '%';
      continue;
    }
    if (next >= args.size()) {
      out += std::string("%!") + verb + "(MISSING)";
      continue;
    }
    const Value& a = args[next++];
    switch (verb) {
      case 's':
        out += a.index() == 0 ? std::get<std::string>(a) : BadVerb('s', a);
        break;
      case 'v':
        out += ToText(a);
        break;
      case 'd':
        out += a.index() == 1 ? std::to_string(std::get<int64_t>(a)) : BadVerb('d', a);
        break;
      case 'q':
        out += a.index() == 0 ? GoQuote(std::get<std::string>(a)) : BadVerb('q', a);
        break;
      case 't':
        out += a.index() == 2 ? ToText(a) : BadVerb('t', a);
        break;
      default:
        out += BadVerb(verb, a);
    }
  }
  if (next < args.size()) {
    out += "%!(EXTRA ";
    for (size_t k = next; k < args.size(); ++k) {
      if (k > next) out += ", ";
      out += std::string(TypeName(args[k])) + "=" + ToText(args[k]);
    }
    out += ")";
  }
  return out;
}

// Go's time.Format for the common layout elements, in UTC.
std::string GoTimeFormat(const std::string& layout, int64_t now_nanos) {
  static const char* kMonths[] = {"January",   "February", "March",    "April",
                                  "May",       "June",     "July",     "August",
                                  "September", "October",  "November", "December"};
  static const char* kDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                "Thursday", "Friday", "Saturday"};
  time_t secs = static_cast<time_t>(now_nanos / 1000000000);
  int64_t frac = now_nanos % 1000000000;
  if (frac < 0) frac += 1000000000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  auto pad = [](int v, int width, char fill = '0') {
    std::string s = std::to_string(v);
    while (static_cast<int>(s.size()) < width) s.insert(s.begin(), fill);
    return s;
  };
  auto starts = [&](size_t i, const char* p) { return layout.compare(i, std::strlen(p), p) == 0; };
  int hour12 = tm.tm_hour % 12 == 0 ? 12 : tm.tm_hour % 12;
  std::string out;
  size_t i = 0;
  while (i < layout.size()) {
    char c = layout[i];
    if (starts(i, "January")) {
      out += kMonths[tm.tm_mon];
      i += 7;
      continue;
    }
    if (starts(i, "Jan")) {
      out += std::string(kMonths[tm.tm_mon]).substr(0, 3);
      i += 3;
      continue;
    }
    if (starts(i, "Monday")) {
      out += kDays[tm.tm_wday];
      i += 6;
      continue;
    }
    if (starts(i, "Mon")) {
      out += std::string(kDays[tm.tm_wday]).substr(0, 3);
      i += 3;
      continue;
    }
    if (starts(i, "MST")) {
      out += "UTC";
      i += 3;
      continue;
    }
    if (starts(i, "2006")) {
      out += pad(tm.tm_year + 1900, 4);
      i += 4;
      continue;
    }
    if (starts(i, "002")) {
      out += pad(tm.tm_yday + 1, 3);
      i += 3;
      continue;
    }
    if (starts(i, "01")) {
      out += pad(tm.tm_mon + 1, 2);
      i += 2;
      continue;
    }
    if (starts(i, "02")) {
      out += pad(tm.tm_mday, 2);
      i += 2;
      continue;
    }
    if (starts(i, "03")) {
      out += pad(hour12, 2);
      i += 2;
      continue;
    }
    if (starts(i, "04")) {
      out += pad(tm.tm_min, 2);
      i += 2;
      continue;
    }
    if (starts(i, "05")) {
      out += pad(tm.tm_sec, 2);
      i += 2;
      continue;
    }
    if (starts(i, "06")) {
      out += pad(tm.tm_year % 100, 2);
      i += 2;
      continue;
    }
    if (starts(i, "15")) {
      out += pad(tm.tm_hour, 2);
      i += 2;
      continue;
    }
    if (starts(i, "_2")) {
      out += pad(tm.tm_mday, 2, ' ');
      i += 2;
      continue;
    }
    if (starts(i, "PM")) {
      out += tm.tm_hour >= 12 ? "PM" : "AM";
      i += 2;
      continue;
    }
    if (starts(i, "pm")) {
      out += tm.tm_hour >= 12 ? "pm" : "am";
      i += 2;
      continue;
    }
    if (starts(i, "Z07:00:00") || starts(i, "Z070000")) {
      out += "Z";
      i += starts(i, "Z07:00:00") ? 9 : 7;
      continue;
    }
    if (starts(i, "Z07:00") || starts(i, "Z0700")) {
      out += "Z";
      i += starts(i, "Z07:00") ? 6 : 5;
      continue;
    }
    if (starts(i, "Z07")) {
      out += "Z";
      i += 3;
      continue;
    }
    if (starts(i, "-07:00:00")) {
      out += "+00:00:00";
      i += 9;
      continue;
    }
    if (starts(i, "-070000")) {
      out += "+000000";
      i += 7;
      continue;
    }
    if (starts(i, "-07:00")) {
      out += "+00:00";
      i += 6;
      continue;
    }
    if (starts(i, "-0700")) {
      out += "+0000";
      i += 5;
      continue;
    }
    if (starts(i, "-07")) {
      out += "+00";
      i += 3;
      continue;
    }
    if ((c == '.' || c == ',') && i + 1 < layout.size() &&
        (layout[i + 1] == '0' || layout[i + 1] == '9')) {
      char d = layout[i + 1];
      size_t j = i + 1;
      while (j < layout.size() && layout[j] == d) ++j;
      if (j >= layout.size() || !std::isdigit(static_cast<unsigned char>(layout[j]))) {
        size_t n = std::min<size_t>(j - i - 1, 9);
        std::string digits = pad(static_cast<int>(frac), 9).substr(0, n);
        if (d == '9') {
          while (!digits.empty() && digits.back() == '0') digits.pop_back();
          if (!digits.empty()) out += c + digits;
        } else {
          out += c + digits;
        }
        i = j;
        continue;
      }
    }
    if (c == '1') {
      out += std::to_string(tm.tm_mon + 1);
      ++i;
      continue;
    }
    if (c == '2') {
      out += std::to_string(tm.tm_mday);
      ++i;
      continue;
    }
    if (c == '3') {
      out += std::to_string(hour12);
      ++i;
      continue;
    }
    if (c == '4') {
      out += std::to_string(tm.tm_min);
      ++i;
      continue;
    }
    if (c == '5') {
      out += std::to_string(tm.tm_sec);
      ++i;
      continue;
    }
    out += c;
    ++i;
  }
  return out;
}

class Executor {
 public:
  Executor(const UsernameMetadata& data, const TemplateEnv& env) : data_(data), env_(env) {}

  Status Run(const std::vector<Node>& nodes, std::string* out) {
    for (const Node& n : nodes) {
      switch (n.kind) {
        case Node::kText:
          *out += n.text;
          break;
        case Node::kAction: {
          ASSIGN_OR_RETURN(Value v, EvalPipeline(n.pipe));
          *out += ToText(v);
          break;
        }
        case Node::kIf: {
          ASSIGN_OR_RETURN(Value v, EvalPipeline(n.pipe));
          RETURN_IF_ERROR(Run(Truth(v) ? n.then_branch : n.else_branch, out));
          break;
        }
      }
    }
    return Status::Ok();
  }

 private:
  Result<Value> EvalPipeline(const Pipeline& p) {
    std::optional<Value> prev;
    for (const Command& c : p.cmds) {
      ASSIGN_OR_RETURN(Value v, EvalCommand(c, prev));
      prev = std::move(v);
    }
    return *prev;
  }

  Result<Value> EvalCommand(const Command& c, const std::optional<Value>& piped) {
    const Operand& first = c.args[0];
    if (first.kind != Operand::kIdent) {
      if (c.args.size() > 1 || piped) return ExecError("can't give argument to non-function");
      return EvalOperand(first);
    }
    std::vector<Value> args;
    for (size_t i = 1; i < c.args.size(); ++i) {
      ASSIGN_OR_RETURN(Value v, EvalOperand(c.args[i]));
      args.push_back(std::move(v));
    }
    if (piped) args.push_back(*piped);
    return Call(first.text, args);
  }

  Result<Value> EvalOperand(const Operand& o) {
    switch (o.kind) {
      case Operand::kString:
        return Value(o.text);
      case Operand::kInt:
        return Value(o.num);
      case Operand::kBool:
        return Value(o.boolean);
      case Operand::kPipeline:
        return EvalPipeline(*o.pipe);
      case Operand::kDot:
        return ExecError("the template data cannot be used as a value");
      case Operand::kField:
        if (o.text == "DisplayName") return Value(data_.display_name);
        if (o.text == "PolicyName") return Value(data_.policy_name);
        if (o.text == "Type") return Value(data_.type);
        return ExecError("can't evaluate field " + o.text + " in type UsernameMetadata");
      case Operand::kIdent: {
        std::vector<Value> none;
        return Call(o.text, none);
      }
    }
    return ExecError("bad operand");
  }

  static Status Arity(const std::string& fn, const std::vector<Value>& a, size_t n) {
    if (a.size() != n)
      return ExecError("wrong number of args for " + fn + ": want " + std::to_string(n) + " got " +
                       std::to_string(a.size()));
    return Status::Ok();
  }
  static Result<std::string> Str(const std::string& fn, const Value& v) {
    if (v.index() != 0)
      return ExecError("error calling " + fn + ": wrong type for value; expected string; got " +
                       TypeName(v));
    return std::get<std::string>(v);
  }
  static Result<int64_t> Int(const std::string& fn, const Value& v) {
    if (v.index() != 1)
      return ExecError("error calling " + fn + ": wrong type for value; expected int; got " +
                       TypeName(v));
    return std::get<int64_t>(v);
  }

  Result<Value> Call(const std::string& fn, const std::vector<Value>& a) {
    if (fn == "eq" || fn == "ne") {
      if (a.size() < 2)
        return ExecError("error calling " + fn + ": missing argument for comparison");
      if (fn == "ne") RETURN_IF_ERROR(Arity(fn, a, 2));
      bool any = false;
      for (size_t i = 1; i < a.size(); ++i) {
        if (a[i].index() != a[0].index())
          return ExecError("error calling " + fn + ": incompatible types for comparison");
        if (a[i] == a[0]) any = true;
      }
      return Value(fn == "eq" ? any : !any);
    }
    if (fn == "not") {
      RETURN_IF_ERROR(Arity(fn, a, 1));
      return Value(!Truth(a[0]));
    }
    if (fn == "and" || fn == "or") {
      if (a.empty()) return ExecError("wrong number of args for " + fn + ": want at least 1 got 0");
      for (const Value& v : a) {
        if (fn == "and" && !Truth(v)) return v;
        if (fn == "or" && Truth(v)) return v;
      }
      return a.back();
    }
    if (fn == "printf") {
      if (a.empty()) return ExecError("wrong number of args for printf: want at least 1 got 0");
      ASSIGN_OR_RETURN(std::string format, Str(fn, a[0]));
      return Value(GoSprintf(format, std::vector<Value>(a.begin() + 1, a.end())));
    }
    if (fn == "truncate") {
      RETURN_IF_ERROR(Arity(fn, a, 2));
      ASSIGN_OR_RETURN(int64_t n, Int(fn, a[0]));
      ASSIGN_OR_RETURN(std::string s, Str(fn, a[1]));
      if (n <= 0) return ExecError("error calling truncate: max length must be > 0");
      if (static_cast<int64_t>(s.size()) > n) s.resize(n);
      return Value(s);
    }
    if (fn == "truncate_sha256") {
      RETURN_IF_ERROR(Arity(fn, a, 2));
      ASSIGN_OR_RETURN(int64_t n, Int(fn, a[0]));
      ASSIGN_OR_RETURN(std::string s, Str(fn, a[1]));
      if (n <= 8)
        return ExecError("error calling truncate_sha256: max length must be > 8 but was " +
                         std::to_string(n));
      if (static_cast<int64_t>(s.size()) <= n) return Value(s);
      size_t cut = static_cast<size_t>(n - 8);
      return Value(s.substr(0, cut) + Sha256Hex(s.substr(cut)).substr(0, 8));
    }
    if (fn == "random") {
      RETURN_IF_ERROR(Arity(fn, a, 1));
      ASSIGN_OR_RETURN(int64_t n, Int(fn, a[0]));
      if (n < 1 || n > 1024) return ExecError("error calling random: length must be 1..1024");
      return Value(env_.random_alnum(static_cast<size_t>(n)));
    }
    if (fn == "unix_time") {
      RETURN_IF_ERROR(Arity(fn, a, 0));
      return Value(std::to_string(env_.now_nanos / 1000000000));
    }
    if (fn == "unix_time_millis") {
      RETURN_IF_ERROR(Arity(fn, a, 0));
      return Value(std::to_string(env_.now_nanos / 1000000));
    }
    if (fn == "timestamp") {
      RETURN_IF_ERROR(Arity(fn, a, 1));
      ASSIGN_OR_RETURN(std::string layout, Str(fn, a[0]));
      return Value(GoTimeFormat(layout, env_.now_nanos));
    }
    if (fn == "uuid") {
      RETURN_IF_ERROR(Arity(fn, a, 0));
      return Value(env_.uuid());
    }
    if (fn == "uppercase" || fn == "lowercase") {
      RETURN_IF_ERROR(Arity(fn, a, 1));
      ASSIGN_OR_RETURN(std::string s, Str(fn, a[0]));
      for (char& ch : s)
        ch = static_cast<char>(fn == "uppercase" ? std::toupper(static_cast<unsigned char>(ch))
                                                 : std::tolower(static_cast<unsigned char>(ch)));
      return Value(s);
    }
    if (fn == "replace") {
      RETURN_IF_ERROR(Arity(fn, a, 3));
      ASSIGN_OR_RETURN(std::string find, Str(fn, a[0]));
      ASSIGN_OR_RETURN(std::string repl, Str(fn, a[1]));
      ASSIGN_OR_RETURN(std::string s, Str(fn, a[2]));
      if (find.empty()) {
        // Go's strings.Replace with an empty pattern inserts repl around every character.
        std::string out = repl;
        for (char ch : s) out += std::string(1, ch) + repl;
        return Value(out);
      }
      std::string out;
      size_t pos = 0;
      while (true) {
        size_t f = s.find(find, pos);
        if (f == std::string::npos) break;
        out += s.substr(pos, f - pos) + repl;
        pos = f + find.size();
      }
      return Value(out + s.substr(pos));
    }
    if (fn == "sha256") {
      RETURN_IF_ERROR(Arity(fn, a, 1));
      ASSIGN_OR_RETURN(std::string s, Str(fn, a[0]));
      return Value(Sha256Hex(s));
    }
    if (fn == "base64") {
      RETURN_IF_ERROR(Arity(fn, a, 1));
      ASSIGN_OR_RETURN(std::string s, Str(fn, a[0]));
      return Value(Base64Encode(s));
    }
    return ExecError("function \"" + fn + "\" not defined");
  }

  const UsernameMetadata& data_;
  const TemplateEnv& env_;
};

}  // namespace

Result<UsernameTemplate> UsernameTemplate::Parse(const std::string& text) {
  ASSIGN_OR_RETURN(std::vector<Item> items, SplitItems(text));
  TreeParser parser(std::move(items));
  ASSIGN_OR_RETURN(std::vector<Node> nodes, parser.ParseRoot());
  UsernameTemplate t;
  t.root_ = std::make_shared<const std::vector<Node>>(std::move(nodes));
  return t;
}

Result<std::string> UsernameTemplate::Execute(const UsernameMetadata& data,
                                              const TemplateEnv& env) const {
  std::string out;
  Executor ex(data, env);
  RETURN_IF_ERROR(ex.Run(*root_, &out));
  return out;
}

std::string RenderDefaultUsername(const UsernameMetadata& data, const TemplateEnv& env) {
  // {{ if (eq .Type "STS") }}{{ printf "vault-%s-%s" (unix_time) (random 20) | truncate 32 }}
  // {{ else }}{{ printf "vault-%s-%s-%s" (printf "%s-%s" (.DisplayName) (.PolicyName) |
  // truncate 42) (unix_time) (random 20) | truncate 64 }}{{ end }}
  const std::string unix_time = std::to_string(env.now_nanos / 1000000000);
  std::string out = "vault-";
  size_t limit = 32;
  if (data.type != "STS") {
    limit = 64;
    std::string names = data.display_name + "-" + data.policy_name;
    if (names.size() > 42) names.resize(42);
    out += names;
    out += '-';
  }
  out += unix_time;
  out += '-';
  out += env.random_alnum(20);
  if (out.size() > limit) out.resize(limit);
  return out;
}

std::string NormalizeName(const std::string& in) {
  // One '_' per character, as Go's regexp replaces runes: UTF-8 continuation bytes are dropped.
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    auto u = static_cast<unsigned char>(c);
    if ((u & 0xC0) == 0x80) continue;
    bool ok = u < 0x80 &&
              (std::isalnum(u) || std::string_view("+=,.@_-").find(c) != std::string_view::npos);
    out += ok ? c : '_';
  }
  return out;
}

}  // namespace vault::usertemplate
