// A Qwen3 answer's <think> part split off as reasoning_content, whole and streamed.
#include "runtime/server/Reasoning.h"

#include <gtest/gtest.h>

using qwen3c_rt::ReasoningStream;
using qwen3c_rt::splitReasoning;

TEST(Reasoning, SplitsAThinkBlock) {
  auto a = splitReasoning("<think>\nStep 1.\nStep 2.\n</think>\n\nThe answer.");
  EXPECT_EQ(a.reasoning, "Step 1.\nStep 2.");
  EXPECT_EQ(a.content, "The answer.");
  // No block at the start: all content; one cut before </think>: all reasoning.
  a = splitReasoning("Plain <think> text");
  EXPECT_EQ(a.reasoning, "");
  EXPECT_EQ(a.content, "Plain <think> text");
  a = splitReasoning("<think>\nstill going");
  EXPECT_EQ(a.reasoning, "still going");
  EXPECT_EQ(a.content, "");
  a = splitReasoning("<think>\n\n</think>\n\nHi"); // enable_thinking=false's empty block
  EXPECT_EQ(a.reasoning, "");
  EXPECT_EQ(a.content, "Hi");
}

TEST(Reasoning, StreamsTheSameSplit) {
  for (const std::string &text : {std::string("<think>\nStep 1.\nStep 2.\n</think>\n\nThe answer."),
                                 std::string("Plain <think> text"), std::string("<think>\nstill going"),
                                 std::string("<thi"), std::string("<think>\n\n</think>\n\nHi")}) {
    // Every split of the text into two-byte pieces, as tokens arrive.
    ReasoningStream s;
    std::string reasoning, content;
    for (size_t i = 0; i < text.size(); i += 2) {
      auto part = s.add(text.substr(i, 2));
      reasoning += part.reasoning;
      content += part.content;
    }
    auto rest = s.finish();
    reasoning += rest.reasoning;
    content += rest.content;
    auto whole = splitReasoning(text);
    EXPECT_EQ(reasoning, whole.reasoning) << text;
    EXPECT_EQ(content, whole.content) << text;
  }
}

#include "runtime/server/ApiResponse.h"

#include <nlohmann/json.hpp>

TEST(Reasoning, ResponsesCarryItAsReasoningContent) {
  qwen3c_rt::ResponseHeader h{true, "chatcmpl-1", 1, "m"};
  auto j = nlohmann::json::parse(qwen3c_rt::completionObject(h, {"Hi", {}, "Greet."}, "stop", {1, 1}));
  EXPECT_EQ(j["choices"][0]["message"]["reasoning_content"], "Greet.");
  EXPECT_EQ(j["choices"][0]["message"]["content"], "Hi");
  std::string e = qwen3c_rt::chunkEvent(h, "", nullptr, false, "Thinking");
  auto chunk = nlohmann::json::parse(e.substr(6));
  EXPECT_EQ(chunk["choices"][0]["delta"]["reasoning_content"], "Thinking");
  EXPECT_FALSE(chunk["choices"][0]["delta"].contains("content"));
  // No reasoning: no field.
  j = nlohmann::json::parse(qwen3c_rt::completionObject(h, {"Hi", {}, ""}, "stop", {1, 1}));
  EXPECT_FALSE(j["choices"][0]["message"].contains("reasoning_content"));
}
