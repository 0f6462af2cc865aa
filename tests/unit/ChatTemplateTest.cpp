// The C++ Qwen3 chat template against renderings by an independent Jinja
// implementation (tests/chat/make_golden.mjs, @huggingface/jinja).
#include "runtime/ChatTemplate.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

using qwen3c_rt::ChatMessage;

namespace {
nlohmann::json load(const char *name) {
  std::ifstream in(std::string(QWEN3C_TESTS_DIR) + "/chat/" + name);
  return nlohmann::json::parse(in);
}
} // namespace

TEST(ChatTemplate, MatchesJinjaRenderings) {
  // Ordered: the tools' JSON keeps the file's key order, as tojson prints it.
  std::ifstream in(std::string(QWEN3C_TESTS_DIR) + "/chat/conversations.json");
  auto cases = nlohmann::ordered_json::parse(in);
  auto golden = load("golden.json");
  ASSERT_EQ(cases.size(), golden.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    std::vector<ChatMessage> messages;
    for (const auto &m : cases[i]["messages"]) {
      ChatMessage msg(m["role"].get<std::string>(), m["content"].get<std::string>());
      if (m.contains("reasoning_content")) msg.reasoning = m["reasoning_content"].get<std::string>();
      for (const auto &call : m.value("tool_calls", nlohmann::ordered_json::array())) {
        const auto &args = call["function"]["arguments"];
        msg.toolCalls.push_back({call["function"]["name"].get<std::string>(),
                                 args.is_string() ? args.get<std::string>() : qwen3c_rt::templateJson(args)});
      }
      messages.push_back(msg);
    }
    std::vector<std::string> tools;
    for (const auto &t : cases[i].value("tools", nlohmann::ordered_json::array()))
      tools.push_back(qwen3c_rt::templateJson(t));
    bool thinking = cases[i].value("enable_thinking", true);
    EXPECT_EQ(qwen3c_rt::renderQwen3Chat(messages, cases[i]["add_generation_prompt"].get<bool>(), thinking, tools),
              golden[i]["text"].get<std::string>())
        << cases[i]["name"];
  }
}

TEST(ChatTemplate, RejectsUnknownRoles) {
  EXPECT_ANY_THROW(qwen3c_rt::renderQwen3Chat({{"narrator", "x"}}, true, true));
}

TEST(ChatTemplate, TemplateJsonIsPythonsJsonDumps) {
  auto v = nlohmann::ordered_json::parse(R"({"b": [1, 2.5, true, null], "a": "q\"\n\u0001é"})");
  EXPECT_EQ(qwen3c_rt::templateJson(v), "{\"b\": [1, 2.5, true, null], \"a\": \"q\\\"\\n\\u0001é\"}");
}
