// libFuzzer target: the chat template on arbitrary message text and roles.
#include "runtime/ChatTemplate.h"
#include "runtime/Generate.h"

#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *roles[] = {"system", "user", "assistant", "tool"};
  std::vector<qwen3c_rt::ChatMessage> messages;
  std::string s(reinterpret_cast<const char *>(data), size);
  // Messages separated by '\x01'; the first byte of each picks the role.
  size_t start = 0;
  while (start < s.size() && messages.size() < 16) {
    size_t end = s.find('\x01', start);
    if (end == std::string::npos) end = s.size();
    std::string part = s.substr(start, end - start);
    std::string role = part.empty() ? "user" : roles[uint8_t(part[0]) % 4];
    messages.push_back({role, part.empty() ? "" : part.substr(1)});
    start = end + 1;
  }
  try {
    (void)qwen3c_rt::renderQwen3Chat(messages, size % 2, size % 3);
  } catch (const qwen3c_rt::RunError &) {
  }
  return 0;
}
