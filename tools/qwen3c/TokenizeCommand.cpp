//===- TokenizeCommand.cpp - `qwen3c tokenize`: text <-> token ids ----------===//
#include "frontend/Error.h"
#include "frontend/GgufCheckpoint.h"
#include "runtime/Generate.h"
#include "runtime/Tokenizer.h"
#include "tools/qwen3c/Commands.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace q3c {
namespace {

struct Options {
  std::string path, text, file;
  bool decode = false, haveText = false;
};

std::string readInput(const Options &o) {
  if (o.haveText == !o.file.empty()) fail("give exactly one of --text and -f");
  if (o.haveText) return o.text;
  std::ifstream in(o.file, std::ios::binary);
  if (!in) fail(o.file, ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void tokenize(const Options &o) {
  std::string json = o.path;
  if (std::filesystem::is_directory(json)) json = (std::filesystem::path(json) / "tokenizer.json").string();
  std::unique_ptr<qwen3c_rt::Tokenizer> tok;
  if (json.size() > 5 && json.compare(json.size() - 5, 5, ".gguf") == 0) { // its tokenizer.ggml.* metadata
    TokenizerJson tj = ggufTokenizerJson(readGguf(json));
    tok = qwen3c_rt::Tokenizer::fromJson(tj.json, tj.source);
  } else {
    tok = qwen3c_rt::Tokenizer::fromFile(json);
  }
  std::string input = readInput(o);
  if (!o.decode) {
    std::printf("%s\n", nlohmann::json(tok->encode(input)).dump().c_str());
    return;
  }
  // Ids as a JSON array or separated by commas / white space.
  std::vector<int32_t> ids;
  std::string item;
  auto flush = [&] {
    if (item.empty()) return;
    char *end = nullptr;
    long v = std::strtol(item.c_str(), &end, 10);
    if (*end || v < 0 || size_t(v) >= tok->tokenDecoder().size()) fail("--decode: '", item, "' is not a token id");
    ids.push_back(int32_t(v));
    item.clear();
  };
  for (char c : input) {
    if (c == ',' || c == '[' || c == ']' || std::isspace((unsigned char)c)) flush();
    else item += c;
  }
  flush();
  std::string text = tok->decode(ids);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::printf("\n");
}

} // namespace

void addTokenizeCommand(CLI::App &app) {
  auto o = std::make_shared<Options>();
  auto *cmd = app.add_subcommand("tokenize", "text to Qwen3 token ids (or back with --decode)");
  cmd->add_option("tokenizer", o->path, "checkpoint folder, tokenizer.json or a .gguf file")->required();
  cmd->add_option("--text", o->text, "the text (or ids with --decode)")->each([o](const std::string &) { o->haveText = true; });
  cmd->add_option("-f,--file", o->file, "read the text (or ids) from a file");
  cmd->add_flag("--decode", o->decode, "ids to text");
  cmd->callback([o] { tokenize(*o); });
}

} // namespace q3c
