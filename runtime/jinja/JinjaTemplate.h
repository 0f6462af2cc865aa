//===- JinjaTemplate.h - the checkpoint's chat template, interpreted -*- C++ -*-===//
//
// A Jinja interpreter for what Hugging Face chat templates use, run as
// transformers runs them (trim_blocks and lstrip_blocks on): text, {{ }}
// and {% %} with whitespace control, comments; if/elif/else, for (loop.*,
// a filter condition, else), set (names and namespace attributes);
// literals, names, attributes, subscripts and slices, calls, filters
// (tojson, length, trim, ...), tests (defined, none, string, ...), the
// operators of Jinja's grammar with its precedence, and the string and dict
// methods templates call (startswith, split, strip, items, get, ...).
//
// Parsing checks the whole template: a construct outside that subset is an
// error naming it and its line, when the model is built, never a silent
// difference when it runs.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_RUNTIME_JINJA_JINJATEMPLATE_H
#define QWEN3C_RUNTIME_JINJA_JINJATEMPLATE_H

#include <nlohmann/json.hpp>

#include <memory>
#include <stdexcept>
#include <string>

namespace qwen3c_rt {

struct JinjaError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class JinjaTemplate {
public:
  // Throws JinjaError naming the construct and its line.
  static JinjaTemplate parse(const std::string &source);
  // Renders with these variables (messages, tools, add_generation_prompt,
  // enable_thinking, bos_token, ...). Throws JinjaError (also for the
  // template's own raise_exception).
  std::string render(const nlohmann::ordered_json &variables) const;

  struct Node;

private:
  std::shared_ptr<const Node> root;
};

} // namespace qwen3c_rt

#endif
