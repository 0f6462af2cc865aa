// The Jinja interpreter: the pinned Qwen3 chat template against renderings
// by an independent implementation (@huggingface/jinja, tests/chat/), the
// language's corners, and errors that name the construct.
#include "runtime/jinja/JinjaTemplate.h"

#include <gtest/gtest.h>

#include <fstream>

using qwen3c_rt::JinjaError;
using qwen3c_rt::JinjaTemplate;
using json = nlohmann::ordered_json;

namespace {
json load(const std::string &path) {
  std::ifstream in(path);
  return json::parse(in);
}
std::string render(const std::string &src, const json &vars = json::object()) {
  return JinjaTemplate::parse(src).render(vars);
}
std::string errorOf(const std::string &src, const json &vars = json::object()) {
  try {
    render(src, vars);
  } catch (const JinjaError &e) {
    return e.what();
  }
  return "rendered";
}
} // namespace

TEST(JinjaTemplate, RendersTheQwen3TemplateAsJinjaDoes) {
  json config = load(QWEN3C_TOKENIZER_DIR "/tokenizer_config.json");
  JinjaTemplate t = JinjaTemplate::parse(config["chat_template"].get<std::string>());
  json cases = load(QWEN3C_TESTS_DIR "/chat/conversations.json");
  json golden = load(QWEN3C_TESTS_DIR "/chat/golden.json");
  ASSERT_EQ(cases.size(), golden.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    json vars{{"messages", cases[i]["messages"]}, {"add_generation_prompt", cases[i]["add_generation_prompt"]}};
    if (cases[i].contains("enable_thinking")) vars["enable_thinking"] = cases[i]["enable_thinking"];
    if (cases[i].contains("tools")) vars["tools"] = cases[i]["tools"];
    EXPECT_EQ(t.render(vars), golden[i]["text"].get<std::string>()) << cases[i]["name"];
  }
}

TEST(JinjaTemplate, WhitespaceControlAndBlockTrimming) {
  // trim_blocks drops the newline after a block tag; lstrip_blocks the
  // indentation before one; '-' strips all white space on its side.
  EXPECT_EQ(render("{% if true %}\n  a\n  {% endif %}\nb"), "  a\nb");
  EXPECT_EQ(render("x  {{- 'y' -}}  z"), "xyz");
  EXPECT_EQ(render("a {# note #} b"), "a  b");
  EXPECT_EQ(render("{%+ if true %}k{% endif %}"), "k");
}

TEST(JinjaTemplate, Expressions) {
  json v{{"xs", {3, 1, 2}}, {"d", {{"k", "v"}, {"n", nullptr}}}, {"s", "a,b,,c"}};
  EXPECT_EQ(render("{{ xs[::-1] }} {{ xs[1:] }} {{ xs[-1] }} {{ xs|length - 1 }}", v), "[2, 1, 3] [1, 2] 2 2");
  EXPECT_EQ(render("{{ s.split(',') }} {{ s.split(',')[-1] }} {{ '  x\n'.strip() }}|{{ '\nx\n'.lstrip('\n') }}", v),
            "['a', 'b', '', 'c'] c x|x\n");
  EXPECT_EQ(render("{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ 1 / 2 }} {{ 2 * 3 + 1 }} {{ 'a' ~ 1 ~ true }}"),
            "3 -4 1 0.5 7 a1True");
  EXPECT_EQ(render("{{ d.k }}{{ d['k'] }}|{{ d.missing is defined }}|{{ d.n is none }}|{{ d.k is string }}", v),
            "vv|False|True|True");
  EXPECT_EQ(render("{{ 'b' in 'abc' }} {{ 2 in xs }} {{ 'k' in d }} {{ 5 not in xs }}", v), "True True True True");
  EXPECT_EQ(render("{{ 'yes' if xs else 'no' }} {{ none or 'dflt' }} {{ 0 and 1 }} {{ not xs }}", v), "yes dflt 0 False");
  EXPECT_EQ(render("{{ d|tojson }} {{ d.items()|list|length }} {{ missing|default('x') }}", v),
            "{\"k\": \"v\", \"n\": null} 2 x");
  EXPECT_EQ(render("{{ [1, 'a'] }} {{ {'a': 1}['a'] }} {{ 'abc'.startswith(('x', 'a')) }}"), "[1, 'a'] 1 True");
}

TEST(JinjaTemplate, LoopsAndNamespaces) {
  json v{{"xs", {"a", "b", "c"}}, {"d", {{"x", 1}, {"y", 2}}}};
  EXPECT_EQ(render("{% for x in xs %}{{ loop.index0 }}{{ x }}{% if not loop.last %},{% endif %}{% endfor %}", v),
            "0a,1b,2c");
  EXPECT_EQ(render("{% for x in xs if x != 'b' %}{{ loop.index }}{{ x }}{% endfor %}", v), "1a2c");
  EXPECT_EQ(render("{% for k, n in d.items() %}{{ k }}={{ n }};{% endfor %}", v), "x=1;y=2;");
  EXPECT_EQ(render("{% for x in [] %}x{% else %}empty{% endfor %}"), "empty");
  // set in a loop stays in the loop; a namespace carries out of it.
  EXPECT_EQ(render("{% set n = 0 %}{% set ns = namespace(n=0) %}{% for x in xs %}{% set n = n + 1 %}"
                   "{% set ns.n = ns.n + 1 %}{% endfor %}{{ n }} {{ ns.n }}",
                   v),
            "0 3");
  EXPECT_EQ(render("{% if false %}a{% elif 1 > 2 %}b{% else %}c{% endif %}"), "c");
}

TEST(JinjaTemplate, UnsupportedConstructsAreNamedWithTheirLine) {
  EXPECT_EQ(errorOf("a\n{% macro f() %}x{% endmacro %}"),
            "line 2: {% macro %} is not supported by qwen3c's Jinja interpreter");
  EXPECT_EQ(errorOf("{{ x | wordwrap }}", {{"x", "a"}}),
            "line 1: the filter 'wordwrap' is not supported by qwen3c's Jinja interpreter");
  EXPECT_EQ(errorOf("{% if x %}"), "the template ends inside a block: expected {% endif %}");
  EXPECT_EQ(errorOf("{{ x "), "line 1: '{{' is never closed");
  EXPECT_EQ(errorOf("{{ raise_exception('bad roles') }}"), "the chat template raised an error: bad roles");
  EXPECT_EQ(errorOf("{{ x.y }}"), "line 1: 'y' of an undefined value");
  EXPECT_EQ(errorOf("{{ " + std::string(300, '(') + "1" + std::string(300, ')') + " }}"),
            "line 1: expressions nested deeper than 200");
  std::string deep;
  for (int k = 0; k < 300; ++k) deep += "{% if true %}";
  EXPECT_EQ(errorOf(deep), "blocks nested deeper than 200");
  // Fuzzing found these escaping as the library's exceptions.
  EXPECT_EQ(render("{{ 99999999999999999999 > 1 }}"), "True"); // past int64: a float, as JSON reads it
  EXPECT_EQ(errorOf("{{ range('a') }}").rfind("cannot render the template: ", 0), 0u);
  EXPECT_EQ(errorOf("{{ 'a'.zfill(3) }}"),
            "line 1: the method .zfill() of string is not supported by qwen3c's Jinja interpreter");
}
