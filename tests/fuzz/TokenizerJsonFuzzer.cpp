// libFuzzer target: tokenizer.json from arbitrary bytes. Loading either fails
// with RunError or gives a tokenizer that encodes and decodes a fixed text
// without crashing (a vocabulary without every byte may refuse, by name).
#include "runtime/Generate.h"
#include "runtime/Tokenizer.h"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  try {
    auto tok = qwen3c_rt::Tokenizer::fromJson(text, "fuzz/tokenizer.json");
    auto ids = tok->encode("Hello, world! <|im_end|> 123 caf\xc3\xa9");
    (void)tok->decode(ids);
    auto again = qwen3c_rt::Tokenizer::fromBinary(tok->serialize().data(), tok->serialize().size(), "fuzz");
    (void)again->encode("ab");
  } catch (const qwen3c_rt::RunError &) {
  }
  return 0;
}
