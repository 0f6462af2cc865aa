// libFuzzer target: the Jinja interpreter on arbitrary template text, then
// rendered with a small conversation: a JinjaError or output, never a crash.
#include "runtime/jinja/JinjaTemplate.h"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const nlohmann::ordered_json vars = nlohmann::ordered_json::parse(R"({
    "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi <think>"},
                 {"role": "assistant", "content": "<think>\nx\n</think>\n\nHello", "tool_calls": [
                   {"type": "function", "function": {"name": "f", "arguments": {"a": [1, 2.5, null]}}}]}],
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
    "add_generation_prompt": true, "enable_thinking": false})");
  try {
    auto t = qwen3c_rt::JinjaTemplate::parse(std::string(reinterpret_cast<const char *>(data), size));
    (void)t.render(vars);
  } catch (const qwen3c_rt::JinjaError &) {
  }
  return 0;
}
