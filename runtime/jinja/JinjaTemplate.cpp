//===- JinjaTemplate.cpp ----------------------------------------------------===//
//
// Three stages: the source is cut into text and tags (whitespace control,
// trim_blocks, lstrip_blocks), each tag into tokens, and the tags into a
// tree by recursive descent (Jinja's expression grammar and precedence);
// render() walks the tree.
//
//===----------------------------------------------------------------------===//
#include "runtime/jinja/JinjaTemplate.h"
#include "runtime/ChatTemplate.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <vector>

namespace qwen3c_rt {

using json = nlohmann::ordered_json;

namespace {

template <typename... Parts> [[noreturn]] void fail(const Parts &...parts) {
  std::string s;
  ((s += parts), ...);
  throw JinjaError(s);
}

// --- source → segments -------------------------------------------------------

struct Segment {
  enum Kind { Text, Expr, Stmt } kind;
  std::string body;
  int line;
};

std::vector<Segment> segments(const std::string &src) {
  std::vector<Segment> out;
  size_t i = 0;
  int line = 1;
  bool trimNext = false;   // the last tag ended with '-': strip the next text's leading white space
  bool afterBlock = false; // trim_blocks: one newline right after %} or #} is dropped
  while (i < src.size()) {
    size_t open = i;
    while (open + 1 < src.size() && !(src[open] == '{' && (src[open + 1] == '{' || src[open + 1] == '%' || src[open + 1] == '#')))
      ++open;
    if (open + 1 >= src.size()) open = src.size();
    std::string text = src.substr(i, open - i);
    char kind = open < src.size() ? src[open + 1] : 0;
    char mark = kind && open + 2 < src.size() ? src[open + 2] : 0; // '-' strips before, '+' keeps
    // Whether the text starts a line (the file's start, or just after a newline).
    bool lineStart = i == 0;
    if (afterBlock && !text.empty() && text[0] == '\n') {
      text.erase(0, 1);
      lineStart = true;
    }
    if (trimNext) text.erase(0, std::min(text.size(), text.find_first_not_of(" \t\r\n")));
    if (mark == '-') {
      size_t end = text.find_last_not_of(" \t\r\n");
      text.erase(end == std::string::npos ? 0 : end + 1);
    } else if ((kind == '%' || kind == '#') && mark != '+') { // lstrip_blocks
      size_t nl = text.find_last_of('\n');
      size_t from = nl == std::string::npos ? 0 : nl + 1;
      if ((nl != std::string::npos || lineStart) && text.find_first_not_of(" \t", from) == std::string::npos)
        text.erase(from);
    }
    if (!text.empty()) out.push_back({Segment::Text, text, line});
    line += int(std::count(src.begin() + long(i), src.begin() + long(open), '\n'));
    if (open >= src.size()) break;
    const char *close = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
    size_t end = src.find(close, open + 2);
    if (end == std::string::npos)
      fail("line ", std::to_string(line), ": '{", std::string(1, kind), "' is never closed");
    size_t bodyStart = open + 2 + (mark == '-' || mark == '+' ? 1 : 0);
    trimNext = end > bodyStart && src[end - 1] == '-';
    std::string body = src.substr(bodyStart, end - bodyStart - (trimNext ? 1 : 0));
    if (kind != '#') out.push_back({kind == '{' ? Segment::Expr : Segment::Stmt, body, line});
    afterBlock = kind != '{';
    line += int(std::count(src.begin() + long(open), src.begin() + long(end + 2), '\n'));
    i = end + 2;
  }
  return out;
}

// --- tag → tokens ------------------------------------------------------------

struct Token {
  enum Kind { Name, Number, String, Op, End } kind;
  std::string text;
  json value; // numbers and strings
};

std::vector<Token> tokenize(const std::string &s, int line) {
  std::vector<Token> out;
  size_t i = 0;
  auto at = [&] { return "line " + std::to_string(line) + ": "; };
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace((unsigned char)c)) {
      ++i;
    } else if (std::isalpha((unsigned char)c) || c == '_') {
      size_t j = i;
      while (j < s.size() && (std::isalnum((unsigned char)s[j]) || s[j] == '_')) ++j;
      out.push_back({Token::Name, s.substr(i, j - i), {}});
      i = j;
    } else if (std::isdigit((unsigned char)c)) {
      size_t j = i;
      bool real = false;
      while (j < s.size() && (std::isdigit((unsigned char)s[j]) || (s[j] == '.' && !real && j + 1 < s.size() &&
                                                                      std::isdigit((unsigned char)s[j + 1]))))
        real |= s[j++] == '.';
      std::string t = s.substr(i, j - i);
      errno = 0;
      long long n = real ? 0 : std::strtoll(t.c_str(), nullptr, 10);
      bool exact = !real && errno != ERANGE; // larger integers become floats, as JSON would read them
      out.push_back({Token::Number, t, exact ? json(int64_t(n)) : json(std::strtod(t.c_str(), nullptr))});
      i = j;
    } else if (c == '\'' || c == '"') {
      std::string v;
      size_t j = i + 1;
      for (; j < s.size() && s[j] != c; ++j) {
        if (s[j] != '\\' || j + 1 >= s.size()) {
          v += s[j];
          continue;
        }
        char e = s[++j];
        switch (e) {
        case 'n': v += '\n'; break;
        case 't': v += '\t'; break;
        case 'r': v += '\r'; break;
        case '\\': v += '\\'; break;
        case '\'': v += '\''; break;
        case '"': v += '"'; break;
        default: v += '\\', v += e;
        }
      }
      if (j >= s.size()) fail(at(), "unterminated string");
      out.push_back({Token::String, s.substr(i, j + 1 - i), json(v)});
      i = j + 1;
    } else {
      static const char *ops[] = {"==", "!=", "<=", ">=", "//", "**", "<", ">", "+", "-", "*", "/", "%", "~",
                                  "(",  ")",  "[",  "]",  "{",  "}",  ",", ".", ":", "|", "="};
      const char *found = nullptr;
      for (const char *op : ops)
        if (s.compare(i, std::strlen(op), op) == 0) {
          found = op;
          break;
        }
      if (!found) fail(at(), "unexpected character '", std::string(1, c), "'");
      out.push_back({Token::Op, found, {}});
      i += std::strlen(found);
    }
  }
  out.push_back({Token::End, "", {}});
  return out;
}

} // namespace

// --- the tree ------------------------------------------------------------------

struct JinjaTemplate::Node {
  enum Kind {
    // expressions
    Literal, Name, Attr, Index, Slice, Call, Filter, Test, Unary, Binary, Cond, List, Dict,
    // statements
    Body, Text, Output, If, For, Set,
  } kind;
  std::string name;                     // Name, Attr, Filter, Test, Unary and Binary operator, Set target
  json value;                           // Literal; Text's text
  std::vector<std::shared_ptr<Node>> kids;
  std::vector<std::pair<std::string, std::shared_ptr<Node>>> kwargs; // Call, Filter
  std::vector<std::string> vars;        // For: loop variables; Set: target name, attribute
  bool negated = false;                 // Test: "is not"
  int line = 0;
};

namespace {

using NodeP = std::shared_ptr<JinjaTemplate::Node>;
using Node = JinjaTemplate::Node;

NodeP node(Node::Kind k, int line, std::string name = "") {
  auto n = std::make_shared<Node>();
  n->kind = k;
  n->line = line;
  n->name = std::move(name);
  return n;
}

// Nesting deeper than this is refused: the parser and the renderer recurse.
constexpr int kMaxNesting = 200;

class ExprParser {
public:
  ExprParser(std::vector<Token> t, int line) : t(std::move(t)), line(line) {}

  NodeP expression() { return conditional(); }
  bool atEnd() const { return t[p].kind == Token::End; }
  const Token &peek(size_t ahead = 0) const { return t[std::min(p + ahead, t.size() - 1)]; }
  bool isName(const char *n, size_t ahead = 0) const { return peek(ahead).kind == Token::Name && peek(ahead).text == n; }
  bool isOp(const char *o) const { return peek().kind == Token::Op && peek().text == o; }
  Token take() { return t[std::min(p++, t.size() - 1)]; }
  void expectOp(const char *o) {
    if (!isOp(o)) fail(where(), "expected '", o, "', found '", peek().text, "'");
    ++p;
  }
  std::string expectName() {
    if (peek().kind != Token::Name) fail(where(), "expected a name, found '", peek().text, "'");
    return take().text;
  }
  std::string where() const { return "line " + std::to_string(line) + ": "; }

private:
  struct Nested {
    Nested(ExprParser &p) : p(p) {
      if (++p.depth > kMaxNesting) fail(p.where(), "expressions nested deeper than ", std::to_string(kMaxNesting));
    }
    ~Nested() { --p.depth; }
    ExprParser &p;
  };

  NodeP conditional() {
    Nested guard(*this);
    NodeP e = orExpr();
    if (isName("if")) {
      ++p;
      auto c = node(Node::Cond, line);
      NodeP cond = orExpr();
      NodeP otherwise;
      if (isName("else")) {
        ++p;
        otherwise = conditional();
      } else {
        otherwise = node(Node::Literal, line);
        otherwise->name = "undefined";
      }
      c->kids = {e, cond, otherwise};
      return c;
    }
    return e;
  }
  NodeP binary(const char *op, NodeP l, NodeP r) {
    auto b = node(Node::Binary, line, op);
    b->kids = {std::move(l), std::move(r)};
    return b;
  }
  NodeP orExpr() {
    NodeP l = andExpr();
    while (isName("or")) ++p, l = binary("or", l, andExpr());
    return l;
  }
  NodeP andExpr() {
    NodeP l = notExpr();
    while (isName("and")) ++p, l = binary("and", l, notExpr());
    return l;
  }
  NodeP notExpr() {
    Nested guard(*this);
    if (isName("not")) {
      ++p;
      auto u = node(Node::Unary, line, "not");
      u->kids = {notExpr()};
      return u;
    }
    return compare();
  }
  NodeP compare() {
    NodeP l = math1();
    while (true) {
      if (peek().kind == Token::Op && (isOp("==") || isOp("!=") || isOp("<") || isOp(">") || isOp("<=") || isOp(">="))) {
        std::string op = take().text;
        l = binary(op.c_str(), l, math1());
      } else if (isName("in")) {
        ++p;
        l = binary("in", l, math1());
      } else if (isName("not") && isName("in", 1)) {
        p += 2;
        l = binary("not in", l, math1());
      } else {
        return l;
      }
    }
  }
  NodeP math1() {
    NodeP l = concat();
    while (isOp("+") || isOp("-")) {
      std::string op = take().text;
      l = binary(op.c_str(), l, concat());
    }
    return l;
  }
  NodeP concat() {
    NodeP l = math2();
    while (isOp("~")) ++p, l = binary("~", l, math2());
    return l;
  }
  NodeP math2() {
    NodeP l = unary();
    while (isOp("*") || isOp("/") || isOp("//") || isOp("%")) {
      std::string op = take().text;
      l = binary(op.c_str(), l, unary());
    }
    return l;
  }
  NodeP unary() {
    Nested guard(*this);
    if (isOp("-") || isOp("+")) {
      auto u = node(Node::Unary, line, take().text);
      u->kids = {unary()};
      return u;
    }
    return filters(postfix(primary()));
  }
  void arguments(Node &n) { // after '('
    while (!isOp(")")) {
      if (peek().kind == Token::Name && peek(1).kind == Token::Op && peek(1).text == "=") {
        std::string k = take().text;
        ++p;
        n.kwargs.push_back({k, expression()});
      } else {
        n.kids.push_back(expression());
      }
      if (!isOp(")")) expectOp(",");
    }
    ++p;
  }
  NodeP postfix(NodeP e) {
    while (true) {
      if (isOp(".")) {
        ++p;
        auto a = node(Node::Attr, line, expectName());
        a->kids = {e};
        e = a;
      } else if (isOp("[")) {
        ++p;
        NodeP parts[3];
        int colons = 0;
        while (!isOp("]")) {
          if (isOp(":")) {
            if (++colons > 2) fail(where(), "a slice has at most three parts");
            ++p;
            continue;
          }
          if (parts[colons]) fail(where(), "expected ':' or ']' in a subscript");
          parts[colons] = expression();
        }
        ++p;
        if (colons == 0) {
          if (!parts[0]) fail(where(), "an empty subscript");
          auto ix = node(Node::Index, line);
          ix->kids = {e, parts[0]};
          e = ix;
        } else {
          auto sl = node(Node::Slice, line);
          sl->kids = {e, parts[0], parts[1], parts[2]};
          e = sl;
        }
      } else if (isOp("(")) {
        ++p;
        auto c = node(Node::Call, line);
        c->kids = {e};
        arguments(*c);
        e = c;
      } else {
        return e;
      }
    }
  }
  NodeP filters(NodeP e) {
    while (true) {
      if (isOp("|")) {
        ++p;
        auto f = node(Node::Filter, line, expectName());
        f->kids = {e};
        if (isOp("(")) ++p, arguments(*f);
        e = f;
      } else if (isName("is")) {
        ++p;
        auto te = node(Node::Test, line);
        if (isName("not")) ++p, te->negated = true;
        te->name = expectName();
        te->kids = {e};
        // A test's one argument: `is sameas x`, `is divisibleby(3)`.
        if (isOp("(")) {
          ++p;
          arguments(*te);
        } else if (peek().kind == Token::Number || peek().kind == Token::String) {
          te->kids.push_back(primary());
        }
        e = te;
      } else {
        return e;
      }
    }
  }
  NodeP primary() {
    const Token &tok = peek();
    if (tok.kind == Token::Number || tok.kind == Token::String) {
      auto l = node(Node::Literal, line);
      l->value = take().value;
      // Adjacent strings concatenate, as in Python.
      while (tok.kind == Token::String && peek().kind == Token::String) l->value = l->value.get<std::string>() + take().value.get<std::string>();
      return l;
    }
    if (tok.kind == Token::Name) {
      std::string n = take().text;
      if (n == "true" || n == "True") return literal(json(true));
      if (n == "false" || n == "False") return literal(json(false));
      if (n == "none" || n == "None") return literal(json(nullptr));
      return node(Node::Name, line, n);
    }
    if (isOp("(")) {
      ++p;
      NodeP e = expression();
      if (isOp(",")) { // a tuple: a list here
        auto l = node(Node::List, line);
        l->kids.push_back(e);
        while (isOp(",")) {
          ++p;
          if (isOp(")")) break;
          l->kids.push_back(expression());
        }
        e = l;
      }
      expectOp(")");
      return e;
    }
    if (isOp("[")) {
      ++p;
      auto l = node(Node::List, line);
      while (!isOp("]")) {
        l->kids.push_back(expression());
        if (!isOp("]")) expectOp(",");
      }
      ++p;
      return l;
    }
    if (isOp("{")) {
      ++p;
      auto d = node(Node::Dict, line);
      while (!isOp("}")) {
        d->kids.push_back(expression());
        expectOp(":");
        d->kids.push_back(expression());
        if (!isOp("}")) expectOp(",");
      }
      ++p;
      return d;
    }
    fail(where(), tok.kind == Token::End ? "an expression ends too early" : "unexpected '" + tok.text + "'");
  }
  NodeP literal(json v) {
    auto l = node(Node::Literal, line);
    l->value = std::move(v);
    return l;
  }

  std::vector<Token> t;
  size_t p = 0;
  int line;
  int depth = 0;
};

// Statements: if/elif/else/endif, for/else/endfor, set.
class BlockParser {
public:
  explicit BlockParser(std::vector<Segment> s) : segs(std::move(s)) {}

  NodeP parseAll() {
    NodeP body = parseBody({});
    if (i < segs.size()) fail("line ", std::to_string(segs[i].line), ": unexpected {% ", firstWord(segs[i]), " %}");
    return body;
  }

private:
  static std::string firstWord(const Segment &s) {
    auto t = tokenize(s.body, s.line);
    return t[0].text;
  }

  // Parses until a statement whose first word is in `ends` (left unconsumed).
  NodeP parseBody(const std::vector<std::string> &ends) {
    if (int(ends.size()) > 0 && ++depth > kMaxNesting) fail("blocks nested deeper than ", std::to_string(kMaxNesting));
    struct Leave {
      int &d;
      bool nested;
      ~Leave() { d -= nested; }
    } leave{depth, !ends.empty()};
    auto body = node(Node::Body, i < segs.size() ? segs[i].line : 0);
    while (i < segs.size()) {
      const Segment &s = segs[i];
      if (s.kind == Segment::Text) {
        auto t = node(Node::Text, s.line);
        t->value = s.body;
        body->kids.push_back(t);
        ++i;
        continue;
      }
      ExprParser ep(tokenize(s.body, s.line), s.line);
      if (s.kind == Segment::Expr) {
        auto o = node(Node::Output, s.line);
        o->kids = {ep.expression()};
        if (!ep.atEnd()) fail(ep.where(), "unexpected '", ep.peek().text, "' in {{ }}");
        body->kids.push_back(o);
        ++i;
        continue;
      }
      std::string word = ep.peek().kind == Token::Name ? ep.peek().text : "";
      if (std::find(ends.begin(), ends.end(), word) != ends.end()) return body;
      ++i;
      ep.take();
      if (word == "if") {
        body->kids.push_back(parseIf(ep, s.line));
      } else if (word == "for") {
        body->kids.push_back(parseFor(ep, s.line));
      } else if (word == "set") {
        body->kids.push_back(parseSet(ep, s.line));
      } else {
        fail("line ", std::to_string(s.line), ": {% ", word.empty() ? ep.peek().text : word,
             " %} is not supported by qwen3c's Jinja interpreter");
      }
    }
    if (!ends.empty()) fail("the template ends inside a block: expected {% ", ends.back(), " %}");
    return body;
  }

  ExprParser tag(const std::string &word) { // the current statement, starting with `word`
    const Segment &s = segs[i];
    ExprParser ep(tokenize(s.body, s.line), s.line);
    if (!ep.isName(word.c_str())) fail("line ", std::to_string(s.line), ": expected {% ", word, " %}");
    ep.take();
    ++i;
    return ep;
  }

  static void endOf(ExprParser &ep, const char *what) {
    if (!ep.atEnd()) fail(ep.where(), "unexpected '", ep.peek().text, "' in {% ", what, " %}");
  }

  // The current statement, which must be `word` alone ({% else %}, {% endif %}, ...).
  void bareTag(const char *word) {
    ExprParser e = tag(word);
    endOf(e, word);
  }

  NodeP parseIf(ExprParser &ep, int line) {
    auto n = node(Node::If, line);
    NodeP cond = ep.expression();
    endOf(ep, "if");
    n->kids.push_back(cond);
    n->kids.push_back(parseBody({"elif", "else", "endif"}));
    while (true) {
      if (i >= segs.size()) fail("line ", std::to_string(line), ": {% if %} is never closed");
      std::string word = firstWord(segs[i]);
      if (word == "elif") {
        ExprParser e = tag("elif");
        n->kids.push_back(e.expression());
        endOf(e, "elif");
        n->kids.push_back(parseBody({"elif", "else", "endif"}));
      } else if (word == "else") {
        bareTag("else");
        n->kids.push_back(nullptr); // the else branch: no condition
        n->kids.push_back(parseBody({"endif"}));
      } else {
        bareTag("endif");
        return n;
      }
    }
  }

  NodeP parseFor(ExprParser &ep, int line) {
    auto n = node(Node::For, line);
    n->vars.push_back(ep.expectName());
    while (ep.isOp(",")) ep.take(), n->vars.push_back(ep.expectName());
    if (!ep.isName("in")) fail(ep.where(), "expected 'in' in {% for %}");
    ep.take();
    NodeP iter = ep.expression();
    NodeP filter;
    // `for x in xs if cond`: the conditional expression took the `if`.
    if (iter->kind == Node::Cond && iter->kids[2]->kind == Node::Literal && iter->kids[2]->name == "undefined") {
      filter = iter->kids[1];
      iter = iter->kids[0];
    }
    if (ep.isName("recursive")) fail(ep.where(), "{% for ... recursive %} is not supported");
    endOf(ep, "for");
    n->kids = {iter, filter, parseBody({"else", "endfor"}), nullptr};
    if (i < segs.size() && firstWord(segs[i]) == "else") {
      bareTag("else");
      n->kids[3] = parseBody({"endfor"});
    }
    if (i >= segs.size()) fail("line ", std::to_string(line), ": {% for %} is never closed");
    bareTag("endfor");
    return n;
  }

  NodeP parseSet(ExprParser &ep, int line) {
    auto n = node(Node::Set, line);
    n->vars.push_back(ep.expectName());
    if (ep.isOp(".")) ep.take(), n->vars.push_back(ep.expectName());
    if (!ep.isOp("=")) fail(ep.where(), "{% set %} without '=' (block assignments) is not supported");
    ep.take();
    n->kids = {ep.expression()};
    endOf(ep, "set");
    return n;
  }

  std::vector<Segment> segs;
  size_t i = 0;
  int depth = 0;
};

// --- values ----------------------------------------------------------------------

struct Value {
  enum Kind { Undefined, Data, Namespace } kind = Undefined;
  json data;
  std::shared_ptr<json> ns; // Namespace: attributes, shared by every copy
  static Value of(json j) { return {Data, std::move(j), nullptr}; }
};

bool truthy(const Value &v) {
  if (v.kind == Value::Undefined) return false;
  if (v.kind == Value::Namespace) return true;
  const json &j = v.data;
  if (j.is_null()) return false;
  if (j.is_boolean()) return j.get<bool>();
  if (j.is_number_integer()) return j.get<int64_t>() != 0;
  if (j.is_number()) return j.get<double>() != 0;
  if (j.is_string()) return !j.get_ref<const std::string &>().empty();
  return !j.empty();
}

std::string repr(const json &j);

// Python's str() of a value, as {{ }} prints it.
std::string str(const json &j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "None";
  if (j.is_boolean()) return j.get<bool>() ? "True" : "False";
  if (j.is_number_float()) {
    double d = j.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e16) return std::to_string(int64_t(d)) + ".0";
    return j.dump();
  }
  if (j.is_number()) return j.dump();
  return repr(j);
}

std::string repr(const json &j) {
  if (j.is_string()) {
    std::string s = "'";
    for (char c : j.get<std::string>()) {
      if (c == '\'' || c == '\\') s += '\\';
      if (c == '\n') s += "\\n";
      else s += c;
    }
    return s + "'";
  }
  if (j.is_array()) {
    std::string s = "[";
    for (size_t k = 0; k < j.size(); ++k) s += (k ? ", " : "") + repr(j[k]);
    return s + "]";
  }
  if (j.is_object()) {
    std::string s = "{";
    bool first = true;
    for (auto it = j.begin(); it != j.end(); ++it, first = false) s += (first ? "" : ", ") + repr(json(it.key())) + ": " + repr(*it);
    return s + "}";
  }
  return str(j);
}

std::vector<std::string> codepoints(const std::string &s) {
  std::vector<std::string> out;
  for (size_t k = 0; k < s.size();) {
    unsigned char c = (unsigned char)s[k];
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    out.push_back(s.substr(k, n));
    k += n;
  }
  return out;
}

std::string stripChars(const std::string &s, const std::string &chars, bool left, bool right) {
  size_t b = 0, e = s.size();
  if (left) while (b < e && chars.find(s[b]) != std::string::npos) ++b;
  if (right) while (e > b && chars.find(s[e - 1]) != std::string::npos) --e;
  return s.substr(b, e - b);
}

class Renderer {
public:
  explicit Renderer(const json &vars) { scopes.emplace_back(); for (auto it = vars.begin(); it != vars.end(); ++it) scopes[0][it.key()] = Value::of(*it); }

  void run(const Node &n) {
    switch (n.kind) {
    case Node::Body:
      for (const auto &k : n.kids) run(*k);
      break;
    case Node::Text:
      out += n.value.get_ref<const std::string &>();
      break;
    case Node::Output: {
      Value v = eval(*n.kids[0]);
      if (v.kind == Value::Data) out += str(v.data);
      else if (v.kind == Value::Namespace) out += "<Namespace>";
      break;
    }
    case Node::If:
      for (size_t k = 0; k + 1 < n.kids.size(); k += 2)
        if (!n.kids[k] || truthy(eval(*n.kids[k]))) {
          run(*n.kids[k + 1]);
          break;
        }
      break;
    case Node::For: runFor(n); break;
    case Node::Set: {
      Value v = eval(*n.kids[0]);
      if (n.vars.size() == 1) {
        scopes.back()[n.vars[0]] = v;
      } else {
        Value target = lookup(n.vars[0]);
        if (target.kind != Value::Namespace)
          fail("line ", std::to_string(n.line), ": cannot set '", n.vars[1], "' on '", n.vars[0], "': not a namespace()");
        if (v.kind != Value::Data) fail("line ", std::to_string(n.line), ": cannot store that in a namespace");
        (*target.ns)[n.vars[1]] = v.data;
      }
      break;
    }
    default: fail("internal error: not a statement");
    }
  }

  std::string out;

private:
  [[noreturn]] void error(const Node &n, const std::string &what) { fail("line ", std::to_string(n.line), ": ", what); }

  Value lookup(const std::string &name) {
    for (auto it = scopes.rbegin(); it != scopes.rend(); ++it)
      if (auto f = it->find(name); f != it->end()) return f->second;
    return {};
  }

  void runFor(const Node &n) {
    Value seq = eval(*n.kids[0]);
    std::vector<json> items;
    if (seq.kind == Value::Data && seq.data.is_array()) {
      items.assign(seq.data.begin(), seq.data.end());
    } else if (seq.kind == Value::Data && seq.data.is_object()) {
      for (auto it = seq.data.begin(); it != seq.data.end(); ++it) items.push_back(it.key());
    } else if (seq.kind == Value::Data && seq.data.is_string()) {
      for (auto &c : codepoints(seq.data.get<std::string>())) items.push_back(c);
    } else if (seq.kind != Value::Undefined && !(seq.kind == Value::Data && seq.data.is_null())) {
      error(n, "cannot loop over " + str(seq.data));
    }
    std::vector<json> kept;
    for (json &item : items) {
      if (n.kids[1]) {
        scopes.emplace_back();
        bind(n, item);
        bool keep = truthy(eval(*n.kids[1]));
        scopes.pop_back();
        if (!keep) continue;
      }
      kept.push_back(std::move(item));
    }
    for (size_t k = 0; k < kept.size(); ++k) {
      scopes.emplace_back();
      bind(n, kept[k]);
      int64_t len = int64_t(kept.size()), idx = int64_t(k);
      json loop{{"index0", idx}, {"index", idx + 1}, {"revindex0", len - idx - 1}, {"revindex", len - idx},
                {"first", k == 0}, {"last", k + 1 == kept.size()}, {"length", len}};
      if (k > 0) loop["previtem"] = kept[k - 1];
      if (k + 1 < kept.size()) loop["nextitem"] = kept[k + 1];
      scopes.back()["loop"] = Value::of(loop);
      run(*n.kids[2]);
      scopes.pop_back();
    }
    if (kept.empty() && n.kids[3]) run(*n.kids[3]);
  }

  void bind(const Node &n, const json &item) {
    if (n.vars.size() == 1) {
      scopes.back()[n.vars[0]] = Value::of(item);
      return;
    }
    if (!item.is_array() || item.size() != n.vars.size())
      error(n, "cannot unpack " + repr(item) + " into " + std::to_string(n.vars.size()) + " names");
    for (size_t v = 0; v < n.vars.size(); ++v) scopes.back()[n.vars[v]] = Value::of(item[v]);
  }

  json need(const Node &n, const Value &v, const char *what) {
    if (v.kind == Value::Undefined) error(n, std::string(what) + " of an undefined value");
    if (v.kind == Value::Namespace) return *v.ns;
    return v.data;
  }

  Value eval(const Node &n) {
    switch (n.kind) {
    case Node::Literal: return n.name == "undefined" ? Value{} : Value::of(n.value);
    case Node::Name: return lookup(n.name);
    case Node::List: {
      json a = json::array();
      for (const auto &k : n.kids) a.push_back(need(n, eval(*k), "a list item"));
      return Value::of(a);
    }
    case Node::Dict: {
      json d = json::object();
      for (size_t k = 0; k + 1 < n.kids.size(); k += 2) {
        json key = need(n, eval(*n.kids[k]), "a key");
        if (!key.is_string()) error(n, "dictionary keys must be strings");
        d[key.get<std::string>()] = need(n, eval(*n.kids[k + 1]), "a value");
      }
      return Value::of(d);
    }
    case Node::Attr: {
      Value o = eval(*n.kids[0]);
      if (o.kind == Value::Namespace) return o.ns->contains(n.name) ? Value::of((*o.ns)[n.name]) : Value{};
      if (o.kind == Value::Undefined) error(n, "'" + n.name + "' of an undefined value");
      if (o.data.is_object() && o.data.contains(n.name)) return Value::of(o.data[n.name]);
      return {};
    }
    case Node::Index: return index(n, eval(*n.kids[0]), eval(*n.kids[1]));
    case Node::Slice: return slice(n);
    case Node::Call: return call(n);
    case Node::Filter: return filter(n);
    case Node::Test: {
      bool r = test(n);
      return Value::of(n.negated ? !r : r);
    }
    case Node::Unary: {
      Value v = eval(*n.kids[0]);
      if (n.name == "not") return Value::of(!truthy(v));
      json j = need(n, v, "a sign");
      if (!j.is_number()) error(n, "'" + n.name + "' needs a number");
      if (n.name == "+") return Value::of(j);
      return j.is_number_integer() ? Value::of(-j.get<int64_t>()) : Value::of(-j.get<double>());
    }
    case Node::Binary: return binary(n);
    case Node::Cond: return truthy(eval(*n.kids[1])) ? eval(*n.kids[0]) : eval(*n.kids[2]);
    default: error(n, "internal error: not an expression");
    }
  }

  Value index(const Node &n, const Value &o, const Value &k) {
    if (o.kind == Value::Namespace) {
      json key = need(n, k, "an index");
      return key.is_string() && o.ns->contains(key.get<std::string>()) ? Value::of((*o.ns)[key.get<std::string>()])
                                                                         : Value{};
    }
    json obj = need(n, o, "an index"), key = need(n, k, "an index");
    if (obj.is_object()) {
      if (!key.is_string()) return {};
      return obj.contains(key.get<std::string>()) ? Value::of(obj[key.get<std::string>()]) : Value{};
    }
    if (obj.is_array() || obj.is_string()) {
      if (!key.is_number_integer()) error(n, "a list index must be an integer");
      std::vector<std::string> cps;
      if (obj.is_string()) cps = codepoints(obj.get<std::string>());
      int64_t size = obj.is_array() ? int64_t(obj.size()) : int64_t(cps.size()), i = key.get<int64_t>();
      if (i < 0) i += size;
      if (i < 0 || i >= size) return {};
      return obj.is_array() ? Value::of(obj[size_t(i)]) : Value::of(cps[size_t(i)]);
    }
    error(n, "cannot index " + repr(obj));
  }

  Value slice(const Node &n) {
    json obj = need(n, eval(*n.kids[0]), "a slice");
    auto part = [&](int k, bool &given) -> int64_t {
      given = false;
      if (!n.kids[size_t(k)]) return 0;
      Value v = eval(*n.kids[size_t(k)]);
      if (v.kind == Value::Data && v.data.is_null()) return 0;
      json j = need(n, v, "a slice bound");
      if (!j.is_number_integer()) error(n, "slice bounds must be integers");
      given = true;
      return j.get<int64_t>();
    };
    std::vector<json> items;
    if (obj.is_array()) items.assign(obj.begin(), obj.end());
    else if (obj.is_string()) for (auto &c : codepoints(obj.get<std::string>())) items.push_back(c);
    else error(n, "cannot slice " + repr(obj));
    const int64_t size = int64_t(items.size());
    bool hasStart, hasStop, hasStep;
    int64_t start = part(1, hasStart), stop = part(2, hasStop), step = part(3, hasStep);
    if (!hasStep) step = 1;
    if (step == 0) error(n, "slice step cannot be zero");
    auto clampIndex = [&](int64_t i, int64_t lo, int64_t hi) {
      if (i < 0) i += size;
      return std::clamp(i, lo, hi);
    };
    if (step > 0) {
      start = hasStart ? clampIndex(start, 0, size) : 0;
      stop = hasStop ? clampIndex(stop, 0, size) : size;
    } else {
      start = hasStart ? clampIndex(start, -1, size - 1) : size - 1;
      stop = hasStop ? clampIndex(stop, -1, size - 1) : -1;
    }
    json outItems = json::array();
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) outItems.push_back(items[size_t(i)]);
    if (obj.is_array()) return Value::of(outItems);
    std::string s;
    for (auto &c : outItems) s += c.get<std::string>();
    return Value::of(s);
  }

  std::vector<json> args(const Node &n, size_t from) {
    std::vector<json> a;
    for (size_t k = from; k < n.kids.size(); ++k) a.push_back(need(n, eval(*n.kids[k]), "an argument"));
    return a;
  }

  static std::string stringArg(const Node &n, const std::vector<json> &a, size_t k, const char *what) {
    if (k >= a.size() || !a[k].is_string()) fail("line ", std::to_string(n.line), ": ", what, " needs a string argument");
    return a[k].get<std::string>();
  }

  Value call(const Node &n) {
    const Node &callee = *n.kids[0];
    if (callee.kind == Node::Name) {
      if (callee.name == "namespace") {
        auto ns = std::make_shared<json>(json::object());
        for (const auto &[k, v] : n.kwargs) (*ns)[k] = need(n, eval(*v), "a namespace value");
        return {Value::Namespace, {}, ns};
      }
      if (callee.name == "raise_exception") {
        std::vector<json> a = args(n, 1);
        fail("the chat template raised an error: ", a.empty() ? std::string("(no message)") : str(a[0]));
      }
      if (callee.name == "range") {
        std::vector<json> a = args(n, 1);
        int64_t lo = 0, hi = 0, step = 1;
        if (a.size() == 1) hi = a[0].get<int64_t>();
        else if (a.size() >= 2) lo = a[0].get<int64_t>(), hi = a[1].get<int64_t>();
        if (a.size() == 3) step = a[2].get<int64_t>();
        if (step == 0 || a.empty() || a.size() > 3) error(n, "range() takes 1 to 3 integers, step not 0");
        json r = json::array();
        for (int64_t i = lo; step > 0 ? i < hi : i > hi; i += step) r.push_back(i);
        return Value::of(r);
      }
      error(n, "the function '" + callee.name + "' is not supported by qwen3c's Jinja interpreter");
    }
    if (callee.kind != Node::Attr) error(n, "only methods and namespace(), range(), raise_exception() can be called");
    json self = need(n, eval(*callee.kids[0]), ("." + callee.name + "()").c_str());
    const std::string &m = callee.name;
    std::vector<json> a = args(n, 1);
    if (self.is_string()) {
      const std::string s = self.get<std::string>();
      if (m == "startswith" || m == "endswith") {
        std::vector<std::string> options;
        if (!a.empty() && a[0].is_array()) for (auto &x : a[0]) options.push_back(x.get<std::string>());
        else options.push_back(stringArg(n, a, 0, m.c_str()));
        for (const auto &o : options)
          if (m == "startswith" ? s.compare(0, o.size(), o) == 0
                                : s.size() >= o.size() && s.compare(s.size() - o.size(), o.size(), o) == 0)
            return Value::of(true);
        return Value::of(false);
      }
      if (m == "strip" || m == "lstrip" || m == "rstrip") {
        std::string chars = a.empty() || a[0].is_null() ? std::string(" \t\n\r\f\v") : stringArg(n, a, 0, m.c_str());
        return Value::of(stripChars(s, chars, m != "rstrip", m != "lstrip"));
      }
      if (m == "split") {
        json parts = json::array();
        int64_t maxSplit = a.size() > 1 ? a[1].get<int64_t>() : -1;
        if (a.empty() || a[0].is_null()) { // runs of white space
          size_t k = 0;
          while (true) {
            k = s.find_first_not_of(" \t\n\r\f\v", k);
            if (k == std::string::npos) break;
            if (maxSplit >= 0 && int64_t(parts.size()) == maxSplit) {
              parts.push_back(s.substr(k));
              break;
            }
            size_t e = s.find_first_of(" \t\n\r\f\v", k);
            parts.push_back(s.substr(k, e == std::string::npos ? std::string::npos : e - k));
            if (e == std::string::npos) break;
            k = e;
          }
          return Value::of(parts);
        }
        std::string sep = stringArg(n, a, 0, "split");
        if (sep.empty()) error(n, "split() with an empty separator");
        size_t k = 0;
        for (size_t e; (e = s.find(sep, k)) != std::string::npos && (maxSplit < 0 || int64_t(parts.size()) < maxSplit);
             k = e + sep.size())
          parts.push_back(s.substr(k, e - k));
        parts.push_back(s.substr(k));
        return Value::of(parts);
      }
      if (m == "lower" || m == "upper") {
        std::string r = s;
        for (char &c : r) c = char(m == "lower" ? std::tolower((unsigned char)c) : std::toupper((unsigned char)c));
        return Value::of(r);
      }
      if (m == "replace") {
        std::string from = stringArg(n, a, 0, "replace"), to = stringArg(n, a, 1, "replace"), r;
        if (from.empty()) error(n, "replace() with an empty string");
        size_t k = 0;
        for (size_t e; (e = s.find(from, k)) != std::string::npos; k = e + from.size()) r += s.substr(k, e - k) + to;
        return Value::of(r + s.substr(k));
      }
      if (m == "find") {
        size_t at = s.find(stringArg(n, a, 0, "find"));
        return Value::of(at == std::string::npos ? int64_t(-1) : int64_t(at));
      }
    } else if (self.is_object()) {
      if (m == "items") {
        json r = json::array();
        for (auto it = self.begin(); it != self.end(); ++it) r.push_back(json::array({it.key(), *it}));
        return Value::of(r);
      }
      if (m == "keys" || m == "values") {
        json r = json::array();
        for (auto it = self.begin(); it != self.end(); ++it) r.push_back(m == "keys" ? json(it.key()) : *it);
        return Value::of(r);
      }
      if (m == "get") {
        std::string key = stringArg(n, a, 0, "get");
        if (self.contains(key)) return Value::of(self[key]);
        return a.size() > 1 ? Value::of(a[1]) : Value::of(nullptr);
      }
    }
    error(n, "the method ." + m + "() of " + std::string(self.type_name()) + " is not supported by qwen3c's Jinja interpreter");
  }

  Value filter(const Node &n) {
    const std::string &f = n.name;
    Value v = eval(*n.kids[0]);
    std::vector<json> a = args(n, 1);
    if (f == "default" || f == "d") {
      bool boolean = a.size() > 1 && a[1].is_boolean() && a[1].get<bool>();
      for (const auto &[k, val] : n.kwargs)
        if (k == "boolean") boolean = truthy(eval(*val));
      if (v.kind == Value::Undefined || (boolean && !truthy(v))) return Value::of(a.empty() ? json("") : a[0]);
      return v;
    }
    json j = need(n, v, ("the filter '" + f + "'").c_str());
    if (f == "tojson") {
      for (const auto &[k, val] : n.kwargs)
        if (k == "indent" || k == "separators" || k == "sort_keys") error(n, "tojson(" + k + "=...) is not supported");
      if (!a.empty()) error(n, "tojson(indent) is not supported");
      return Value::of(templateJson(j));
    }
    if (f == "length" || f == "count") {
      if (j.is_string()) return Value::of(int64_t(codepoints(j.get<std::string>()).size()));
      if (j.is_array() || j.is_object()) return Value::of(int64_t(j.size()));
      error(n, "length of " + std::string(j.type_name()));
    }
    if (f == "string") return Value::of(str(j));
    if (f == "trim") {
      if (!j.is_string()) error(n, "trim needs a string");
      return Value::of(stripChars(j.get<std::string>(), " \t\n\r\f\v", true, true));
    }
    if (f == "lower" || f == "upper") {
      std::string r = str(j);
      for (char &c : r) c = char(f == "lower" ? std::tolower((unsigned char)c) : std::toupper((unsigned char)c));
      return Value::of(r);
    }
    if (f == "safe") return Value::of(j);
    if (f == "first" || f == "last") {
      if (!j.is_array()) error(n, f + " needs a list");
      return j.empty() ? Value{} : Value::of(f == "first" ? j.front() : j.back());
    }
    if (f == "join") {
      if (!j.is_array()) error(n, "join needs a list");
      std::string sep = a.empty() ? "" : str(a[0]), r;
      for (size_t k = 0; k < j.size(); ++k) r += (k ? sep : "") + str(j[k]);
      return Value::of(r);
    }
    if (f == "items") {
      if (!j.is_object()) error(n, "items needs a mapping");
      json r = json::array();
      for (auto it = j.begin(); it != j.end(); ++it) r.push_back(json::array({it.key(), *it}));
      return Value::of(r);
    }
    if (f == "list") {
      if (j.is_array()) return Value::of(j);
      if (j.is_string()) {
        json r = json::array();
        for (auto &c : codepoints(j.get<std::string>())) r.push_back(c);
        return Value::of(r);
      }
      error(n, "list of " + std::string(j.type_name()));
    }
    if (f == "reverse") {
      if (j.is_array()) return Value::of(json(std::vector<json>(j.rbegin(), j.rend())));
      if (j.is_string()) {
        auto cps = codepoints(j.get<std::string>());
        std::string r;
        for (auto it = cps.rbegin(); it != cps.rend(); ++it) r += *it;
        return Value::of(r);
      }
      error(n, "reverse of " + std::string(j.type_name()));
    }
    if (f == "int") return Value::of(j.is_number() ? int64_t(j.get<double>()) : int64_t(0));
    error(n, "the filter '" + f + "' is not supported by qwen3c's Jinja interpreter");
  }

  bool test(const Node &n) {
    Value v = eval(*n.kids[0]);
    const std::string &t = n.name;
    if (t == "defined") return v.kind != Value::Undefined;
    if (t == "undefined") return v.kind == Value::Undefined;
    if (v.kind == Value::Undefined) return false;
    if (v.kind == Value::Namespace) return t == "mapping";
    const json &j = v.data;
    if (t == "none") return j.is_null();
    if (t == "string") return j.is_string();
    if (t == "number") return j.is_number();
    if (t == "integer") return j.is_number_integer();
    if (t == "float") return j.is_number_float();
    if (t == "boolean") return j.is_boolean();
    if (t == "true") return j.is_boolean() && j.get<bool>();
    if (t == "false") return j.is_boolean() && !j.get<bool>();
    if (t == "mapping") return j.is_object();
    if (t == "sequence" || t == "iterable") return j.is_array() || j.is_string() || (t == "iterable" && j.is_object());
    if (t == "eq" || t == "equalto" || t == "sameas") {
      std::vector<json> a = args(n, 1);
      return !a.empty() && j == a[0];
    }
    error(n, "the test 'is " + t + "' is not supported by qwen3c's Jinja interpreter");
  }

  Value binary(const Node &n) {
    const std::string &op = n.name;
    if (op == "and") {
      Value l = eval(*n.kids[0]);
      return truthy(l) ? eval(*n.kids[1]) : l;
    }
    if (op == "or") {
      Value l = eval(*n.kids[0]);
      return truthy(l) ? l : eval(*n.kids[1]);
    }
    Value lv = eval(*n.kids[0]), rv = eval(*n.kids[1]);
    if (op == "==" || op == "!=") {
      bool eq = lv.kind == rv.kind && (lv.kind != Value::Data || lv.data == rv.data) &&
                (lv.kind != Value::Namespace || lv.ns == rv.ns);
      return Value::of(op == "==" ? eq : !eq);
    }
    if (op == "~") {
      auto s = [](const Value &v) { return v.kind == Value::Data ? str(v.data) : std::string(); };
      return Value::of(s(lv) + s(rv));
    }
    json l = need(n, lv, ("'" + op + "'").c_str()), r = need(n, rv, ("'" + op + "'").c_str());
    if (op == "in" || op == "not in") {
      bool in = false;
      if (r.is_string() && l.is_string()) in = r.get<std::string>().find(l.get<std::string>()) != std::string::npos;
      else if (r.is_array()) in = std::find(r.begin(), r.end(), l) != r.end();
      else if (r.is_object()) in = l.is_string() && r.contains(l.get<std::string>());
      else error(n, "'in' needs a string, list or mapping on its right");
      return Value::of(op == "in" ? in : !in);
    }
    if (op == "+" && l.is_string() && r.is_string()) return Value::of(l.get<std::string>() + r.get<std::string>());
    if (op == "+" && l.is_array() && r.is_array()) {
      json c = l;
      for (auto &x : r) c.push_back(x);
      return Value::of(c);
    }
    if (op == "*" && l.is_string() && r.is_number_integer()) {
      std::string s;
      for (int64_t k = 0; k < r.get<int64_t>(); ++k) s += l.get<std::string>();
      return Value::of(s);
    }
    if (l.is_string() && r.is_string() && (op == "<" || op == ">" || op == "<=" || op == ">=")) {
      int c = l.get<std::string>().compare(r.get<std::string>());
      return Value::of(op == "<" ? c < 0 : op == ">" ? c > 0 : op == "<=" ? c <= 0 : c >= 0);
    }
    if (!l.is_number() || !r.is_number()) error(n, "'" + op + "' of " + repr(l) + " and " + repr(r));
    bool ints = l.is_number_integer() && r.is_number_integer();
    double x = l.get<double>(), y = r.get<double>();
    if (op == "<") return Value::of(x < y);
    if (op == ">") return Value::of(x > y);
    if (op == "<=") return Value::of(x <= y);
    if (op == ">=") return Value::of(x >= y);
    if (ints && op != "/") {
      int64_t a = l.get<int64_t>(), b = r.get<int64_t>();
      if (op == "+") return Value::of(a + b);
      if (op == "-") return Value::of(a - b);
      if (op == "*") return Value::of(a * b);
      if (b == 0) error(n, "division by zero");
      int64_t q = a / b - ((a % b != 0) && ((a < 0) != (b < 0))); // Python's floor division
      if (op == "//") return Value::of(q);
      if (op == "%") return Value::of(a - q * b);
    }
    if (op == "+") return Value::of(x + y);
    if (op == "-") return Value::of(x - y);
    if (op == "*") return Value::of(x * y);
    if (y == 0) error(n, "division by zero");
    if (op == "/") return Value::of(x / y);
    if (op == "//") return Value::of(std::floor(x / y));
    if (op == "%") return Value::of(x - std::floor(x / y) * y);
    error(n, "unknown operator '" + op + "'");
  }

  std::vector<std::map<std::string, Value>> scopes;
};

} // namespace

// A value of the wrong type deep in an operation (a string where range()
// wants an integer) surfaces as the library's exception: a JinjaError too.
JinjaTemplate JinjaTemplate::parse(const std::string &source) {
  JinjaTemplate t;
  try {
    t.root = BlockParser(segments(source)).parseAll();
  } catch (const JinjaError &) {
    throw;
  } catch (const std::exception &e) {
    throw JinjaError(std::string("cannot parse the template: ") + e.what());
  }
  return t;
}

std::string JinjaTemplate::render(const nlohmann::ordered_json &variables) const {
  Renderer r(variables);
  try {
    r.run(*root);
  } catch (const JinjaError &) {
    throw;
  } catch (const std::exception &e) {
    throw JinjaError(std::string("cannot render the template: ") + e.what());
  }
  return r.out;
}

} // namespace qwen3c_rt
