// ApiRequest: an OpenAI request body checked field by field.
#include "runtime/server/ApiRequest.h"
#include "runtime/ChatFormat.h"
#include "runtime/Tokenizer.h"

#include <gtest/gtest.h>

using qwen3c_rt::ApiError;
using qwen3c_rt::ApiLimits;
using qwen3c_rt::CompletionRequest;
using qwen3c_rt::parseCompletionRequest;

namespace {
const qwen3c_rt::Tokenizer &tokenizer() {
  static auto t = qwen3c_rt::Tokenizer::fromFile(QWEN3C_TOKENIZER_DIR "/tokenizer.json");
  return *t;
}
// The built-in Qwen3 format (the checkpoint's template is JinjaTemplateTest's).
const qwen3c_rt::ChatFormat &chatFormat() {
  static qwen3c_rt::ChatFormat f(std::nullopt);
  return f;
}
ApiLimits limits(int64_t context = 64) { return {&tokenizer(), &chatFormat(), context, 151936}; }

// The error a body gets: "status param: message".
std::string errorOf(const std::string &body, bool chat = true, int64_t context = 64) {
  try {
    parseCompletionRequest(body, chat, limits(context));
  } catch (const ApiError &e) {
    return std::to_string(e.status) + " " + e.param + ": " + e.what();
  }
  return "accepted";
}
} // namespace

TEST(ApiRequest, ChatMessagesAreRenderedWithTheTemplate) {
  CompletionRequest r = parseCompletionRequest(
      R"({"messages":[{"role":"developer","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Hi"}]}],
          "chat_template_kwargs":{"enable_thinking":false}})",
      true, limits());
  EXPECT_EQ(tokenizer().decode(r.prompt), "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                                          "<|im_start|>assistant\n<think>\n\n</think>\n\n");
  // Nothing said: Qwen3's recommended sampling, the rest of the context.
  EXPECT_DOUBLE_EQ(r.sampling.temp, 0.6);
  EXPECT_DOUBLE_EQ(r.sampling.topP, 0.95);
  EXPECT_EQ(r.sampling.topK, 20);
  EXPECT_EQ(r.maxTokens, 64 - int64_t(r.prompt.size()));
  EXPECT_FALSE(r.stream);
}

TEST(ApiRequest, SamplingFieldsAreHonoured) {
  CompletionRequest r = parseCompletionRequest(
      R"({"prompt":"x","temperature":0,"top_p":0.5,"top_k":3,"min_p":0.1,"seed":7,"presence_penalty":1.5,
          "frequency_penalty":-0.5,"max_tokens":5,"stop":["a","bc"],"stream":true,"stream_options":{"include_usage":true}})",
      false, limits());
  EXPECT_EQ(r.prompt, tokenizer().encode("x"));
  EXPECT_DOUBLE_EQ(r.sampling.temp, 0);
  EXPECT_DOUBLE_EQ(r.sampling.topP, 0.5);
  EXPECT_EQ(r.sampling.topK, 3);
  EXPECT_DOUBLE_EQ(r.sampling.minP, 0.1);
  EXPECT_EQ(r.sampling.seed, 7u);
  EXPECT_DOUBLE_EQ(r.sampling.presencePenalty, 1.5);
  EXPECT_DOUBLE_EQ(r.sampling.frequencyPenalty, -0.5);
  EXPECT_EQ(r.maxTokens, 5);
  EXPECT_EQ(r.stops, (std::vector<std::string>{"a", "bc"}));
  EXPECT_TRUE(r.stream && r.includeUsage);
  // Token ids as the prompt; max_completion_tokens is max_tokens' newer name.
  r = parseCompletionRequest(R"({"prompt":[1,2,3],"max_completion_tokens":2,"stop":"z"})", false, limits());
  EXPECT_EQ(r.prompt, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(r.maxTokens, 2);
  EXPECT_EQ(r.stops, std::vector<std::string>{"z"});
}

TEST(ApiRequest, ToolsAndToolCallsAreRendered) {
  CompletionRequest r = parseCompletionRequest(
      R"({"messages":[{"role":"user","content":"Weather?"},
          {"role":"assistant","content":null,"tool_calls":[{"id":"1","type":"function",
            "function":{"name":"weather","arguments":"{\"city\": \"Oslo\"}"}}]},
          {"role":"tool","tool_call_id":"1","content":"snow"}],
          "tools":[{"type":"function","function":{"name":"weather","parameters":{"type":"object"}}}]})",
      true, limits(4096));
  EXPECT_TRUE(r.tools);
  std::string text = tokenizer().decode(r.prompt);
  EXPECT_NE(text.find("<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"weather\", \"parameters\": "
                      "{\"type\": \"object\"}}}\n</tools>"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("<|im_start|>assistant\n<tool_call>\n{\"name\": \"weather\", \"arguments\": {\"city\": "
                      "\"Oslo\"}}\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\nsnow\n</tool_response>"),
            std::string::npos)
      << text;
  // tool_choice "none": no tools offered.
  r = parseCompletionRequest(R"({"messages":[{"role":"user","content":"x"}],"tool_choice":"none",
      "tools":[{"type":"function","function":{"name":"f"}}]})", true, limits(4096));
  EXPECT_FALSE(r.tools);
  EXPECT_EQ(tokenizer().decode(r.prompt).find("# Tools"), std::string::npos);
}

TEST(ApiRequest, BadRequestsNameTheField) {
  EXPECT_EQ(errorOf(R"({"messages":[{"role":"user","content":"x"}],"tools":[{"type":"retrieval"}]})", true, 4096),
            "400 tools[0]: 'tools[0]' must be {\"type\": \"function\", \"function\": {\"name\": ..., "
            "\"parameters\": ...}}");
  EXPECT_EQ(errorOf(R"({"messages":[{"role":"user","content":"x"}],"tool_choice":"required",
      "tools":[{"type":"function","function":{"name":"f"}}]})", true, 4096),
            "400 tool_choice: 'tool_choice' must be \"auto\" or \"none\" (a forced tool call is not supported)");
  EXPECT_EQ(errorOf(R"({"messages":[{"role":"user","content":"x","tool_calls":[]}]})"),
            "400 messages[0].tool_calls: 'messages[0].tool_calls': only assistant messages carry tool calls");
  EXPECT_EQ(errorOf(R"({"messages":[{"role":"assistant","content":"x","tool_calls":[{"function":{}}]}]})"),
            "400 messages[0].tool_calls[0]: 'messages[0].tool_calls[0]' must be {\"type\": \"function\", "
            "\"function\": {\"name\", \"arguments\"}}");
  EXPECT_EQ(errorOf("{"), "400 : the request body is not valid JSON");
  EXPECT_EQ(errorOf("[]"), "400 : the request body must be a JSON object");
  EXPECT_EQ(errorOf(R"({})"), "400 messages: 'messages' is required");
  EXPECT_EQ(errorOf(R"({"messages":[]})"), "400 messages: 'messages' must be a non-empty array");
  EXPECT_EQ(errorOf(R"({"messages":[{"content":"x"}]})"), "400 messages[0].role: 'messages[0].role' is required");
  EXPECT_EQ(errorOf(R"({"messages":[{"role":"user","content":[{"type":"image_url"}]}]})"),
            "400 messages[0].content[0]: 'messages[0].content[0]': only parts of type 'text' are supported");
  EXPECT_EQ(errorOf(R"({"messages":[{"role":"user","content":"\ud800"}]})").substr(0, 25), "400 : the request body is");
  EXPECT_EQ(errorOf(R"({"prompt":"x","temperature":3})", false),
            "400 temperature: 'temperature' must be in [0.0, 2.0], got 3");
  EXPECT_EQ(errorOf(R"({"prompt":"x","top_k":1.5})", false), "400 top_k: 'top_k' must be an integer");
  EXPECT_EQ(errorOf(R"({"prompt":"x","stream":"yes"})", false), "400 stream: 'stream' must be a boolean");
  EXPECT_EQ(errorOf(R"({"prompt":"x","max_tokens":0})", false),
            "400 max_tokens: 'max_tokens' must be in [1, 9223372036854775807], got 0");
  EXPECT_EQ(errorOf(R"({"prompt":"x","max_tokens":64})", false),
            "400 max_tokens: the context is 64 tokens: a prompt of 1 tokens leaves room for 63, not max_tokens = 64");
  EXPECT_EQ(errorOf(R"({"prompt":[5,-1]})", false), "400 prompt: token id -1 is out of range (vocabulary of 151936)");
  EXPECT_EQ(errorOf(R"({"prompt":["a","b"]})", false),
            "400 prompt: 'prompt' must be a string or an array of token ids (one prompt per request)");
  EXPECT_EQ(errorOf(R"({"prompt":"x","stop":[""]})", false), "400 stop: stop strings must not be empty");
  EXPECT_EQ(errorOf(R"({"prompt":"x","n":2})", false), "400 n: 'n' must be 1 (one choice per request)");
  EXPECT_EQ(errorOf(R"({"prompt":"x","logprobs":true})", false), "400 logprobs: logprobs are not supported");
  // A prompt that fills the context leaves nothing to generate.
  EXPECT_EQ(errorOf(R"({"prompt":[1,2,3,4]})", false, 4),
            "400 prompt: the prompt is 4 tokens; this server's context is 4 tokens, room for at most 3 with one to "
            "generate");
}
