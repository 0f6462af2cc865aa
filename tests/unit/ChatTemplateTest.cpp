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
  auto cases = load("conversations.json");
  auto golden = load("golden.json");
  ASSERT_EQ(cases.size(), golden.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    std::vector<ChatMessage> messages;
    for (const auto &m : cases[i]["messages"])
      messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
    bool thinking = cases[i].value("enable_thinking", true);
    EXPECT_EQ(qwen3c_rt::renderQwen3Chat(messages, cases[i]["add_generation_prompt"].get<bool>(), thinking),
              golden[i]["text"].get<std::string>())
        << cases[i]["name"];
  }
}

TEST(ChatTemplate, RejectsUnknownRoles) {
  EXPECT_ANY_THROW(qwen3c_rt::renderQwen3Chat({{"narrator", "x"}}, true, true));
}
