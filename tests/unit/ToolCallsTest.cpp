// Qwen3's <tool_call> blocks read back as OpenAI tool calls.
#include "runtime/server/ToolCalls.h"

#include <gtest/gtest.h>

using qwen3c_rt::AssistantOutput;
using qwen3c_rt::parseToolCalls;
using qwen3c_rt::ToolCallStream;

TEST(ToolCalls, BlocksBecomeCalls) {
  AssistantOutput o = parseToolCalls("Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
                                     "{\"city\": \"Zürich\", \"days\": 2}}\n</tool_call>\n<tool_call>\n{\"name\": "
                                     "\"time_now\", \"arguments\": {}}\n</tool_call>\n");
  EXPECT_EQ(o.content, "Let me check.");
  ASSERT_EQ(o.calls.size(), 2u);
  EXPECT_EQ(o.calls[0].name, "get_weather");
  EXPECT_EQ(o.calls[0].arguments, "{\"city\":\"Zürich\",\"days\":2}");
  EXPECT_EQ(o.calls[1].name, "time_now");
  EXPECT_EQ(o.calls[1].arguments, "{}");
  // Arguments given as a JSON string are passed on as they are.
  o = parseToolCalls("<tool_call>{\"name\": \"f\", \"arguments\": \"{\\\"a\\\": 1}\"}</tool_call>");
  EXPECT_EQ(o.content, "");
  ASSERT_EQ(o.calls.size(), 1u);
  EXPECT_EQ(o.calls[0].arguments, "{\"a\": 1}");
}

TEST(ToolCalls, AnythingElseStaysContent) {
  for (const char *text : {
           "no calls here",
           "<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n",          // unclosed (cut by max_tokens)
           "<tool_call>\nnot json\n</tool_call>",                           // not JSON
           "<tool_call>{\"arguments\": {}}</tool_call>",                     // no name
           "<tool_call>{\"name\": \"f\", \"arguments\": 3}</tool_call>",     // arguments neither object nor string
           "<tool_call>{\"name\": \"f\"}</tool_call> and then text",         // text after a block
       }) {
    AssistantOutput o = parseToolCalls(text);
    EXPECT_TRUE(o.calls.empty()) << text;
    EXPECT_EQ(o.content, text);
  }
}

TEST(ToolCalls, StreamHoldsBackWhatMayBeginACall) {
  ToolCallStream s;
  std::string sent;
  for (const char *piece : {"Let", " me", " check.", "\n", "<tool", "_call>\n{\"name\": \"f\", ", "\"arguments\": {}}",
                            "\n</tool_call>"})
    sent += s.add(piece);
  EXPECT_EQ(sent, "Let me check.");
  AssistantOutput o = s.finish();
  EXPECT_EQ(o.content, "");
  ASSERT_EQ(o.calls.size(), 1u);
  EXPECT_EQ(o.calls[0].name, "f");
}

TEST(ToolCalls, StreamReleasesHeldTextThatWasNoCall) {
  ToolCallStream s;
  std::string sent = s.add("a <tool") + s.add("box> b ");
  EXPECT_EQ(sent, "a <toolbox> b");
  AssistantOutput o = s.finish();
  EXPECT_TRUE(o.calls.empty());
  EXPECT_EQ(o.content, " "); // the held white space
  // A block that does not parse: everything held comes out at the end.
  ToolCallStream t;
  sent = t.add("x\n") + t.add("<tool_call>oops");
  EXPECT_EQ(sent, "x");
  o = t.finish();
  EXPECT_TRUE(o.calls.empty());
  EXPECT_EQ(sent + o.content, "x\n<tool_call>oops");
}

#include "runtime/server/ApiResponse.h"

#include <nlohmann/json.hpp>

TEST(ToolCalls, ResponsesCarryThemAsOpenAIDoes) {
  qwen3c_rt::ResponseHeader h{true, "chatcmpl-7", 1, "m"};
  AssistantOutput out{"", {{"get_weather", "{\"city\":\"Oslo\"}"}}, ""};
  auto j = nlohmann::json::parse(qwen3c_rt::completionObject(h, out, "stop", {10, 5}));
  const auto &choice = j["choices"][0];
  EXPECT_EQ(choice["finish_reason"], "tool_calls");
  EXPECT_TRUE(choice["message"]["content"].is_null());
  EXPECT_EQ(choice["message"]["tool_calls"][0]["id"], "call_chatcmpl-7_0");
  EXPECT_EQ(choice["message"]["tool_calls"][0]["type"], "function");
  EXPECT_EQ(choice["message"]["tool_calls"][0]["function"]["name"], "get_weather");
  EXPECT_EQ(choice["message"]["tool_calls"][0]["function"]["arguments"], "{\"city\":\"Oslo\"}");
  EXPECT_EQ(j["usage"]["total_tokens"], 15);
  // Streamed: one chunk with indexed calls.
  std::string event = qwen3c_rt::toolCallsEvent(h, out.calls);
  ASSERT_EQ(event.rfind("data: ", 0), 0u);
  auto chunk = nlohmann::json::parse(event.substr(6));
  EXPECT_EQ(chunk["object"], "chat.completion.chunk");
  EXPECT_EQ(chunk["choices"][0]["delta"]["tool_calls"][0]["index"], 0);
  EXPECT_EQ(chunk["choices"][0]["delta"]["tool_calls"][0]["function"]["name"], "get_weather");
  // Without calls, the text is the content.
  j = nlohmann::json::parse(qwen3c_rt::completionObject(h, {"hi", {}, ""}, "length", {1, 1}));
  EXPECT_EQ(j["choices"][0]["message"]["content"], "hi");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_FALSE(j["choices"][0]["message"].contains("tool_calls"));
}
