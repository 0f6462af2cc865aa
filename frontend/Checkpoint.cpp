//===- Checkpoint.cpp - open, map and validate a checkpoint folder ----------===//
#include "frontend/Checkpoint.h"
#include "frontend/Error.h"
#include "frontend/GgufCheckpoint.h"
#include "frontend/GgufFile.h"
#include "frontend/TensorInventory.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

namespace fs = std::filesystem;

namespace q3c {

ShardIndex parseShardIndex(const std::string &path, const std::string &text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception &e) {
    fail(path, ": malformed JSON: ", e.what());
  }
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    fail(path, ": missing 'weight_map' object");
  ShardIndex index;
  std::set<std::string> seen;
  for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
    if (!it.value().is_string())
      fail(path, ": weight_map entry '", it.key(), "' is not a file name");
    std::string f = it.value().get<std::string>();
    if (f.empty() || f.find_first_of(std::string("/\\\0", 3)) != std::string::npos || f == "." || f == "..")
      fail(path, ": weight_map entry '", it.key(), "' names a bad file '", f, "'");
    index.tensorToFile[it.key()] = f;
    if (seen.insert(f).second) index.files.push_back(f);
  }
  if (index.files.empty()) fail(path, ": weight_map is empty");
  return index;
}

namespace {
bool startsWithGgufMagic(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::memcmp(magic, "GGUF", 4) == 0;
}
} // namespace

Checkpoint Checkpoint::open(const std::string &dir) {
  if (fs::is_regular_file(dir)) {
    if (startsWithGgufMagic(dir)) return openGguf(dir);
    fail(dir, ": not a checkpoint folder or a GGUF file");
  }
  Checkpoint ck;
  ck.dir_ = dir;
  if (!fs::is_directory(dir)) fail(dir, ": not a checkpoint folder or a GGUF file");
  ck.config_ = ModelConfig::load((fs::path(dir) / "config.json").string());

  // Which files hold the weights: a sharded index, or one model.safetensors.
  std::vector<std::string> fileNames;
  std::map<std::string, std::string> indexMap; // tensor -> file, when sharded
  fs::path index = fs::path(dir) / "model.safetensors.index.json";
  std::string indexPath = index.string();
  if (fs::exists(index)) {
    std::ifstream in(index, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in && !in.eof()) fail(indexPath, ": cannot read");
    ShardIndex parsed = parseShardIndex(indexPath, text);
    indexMap = std::move(parsed.tensorToFile);
    fileNames = std::move(parsed.files);
  } else if (fs::exists(fs::path(dir) / "model.safetensors")) {
    fileNames.push_back("model.safetensors");
  } else {
    fail(dir, ": no model.safetensors or model.safetensors.index.json");
  }

  for (const auto &f : fileNames) {
    ck.files_.push_back(SafeTensorsFile::open((fs::path(dir) / f).string()));
    const SafeTensorsFile &file = *ck.files_.back();
    for (const auto &[name, view] : file.tensors()) {
      if (!indexMap.empty()) {
        auto it = indexMap.find(name);
        if (it == indexMap.end() || it->second != f)
          fail(file.path(), ": tensor '", name, "' is not listed for this file in ", indexPath);
      }
      auto [pos, inserted] = ck.byName_.emplace(name, &view);
      if (!inserted)
        fail(file.path(), ": tensor '", name, "' also appears in ", pos->second->file);
    }
  }
  for (const auto &[name, f] : indexMap)
    if (!ck.byName_.count(name))
      fail(indexPath, ": tensor '", name, "' is listed for ", f, " but that file lacks it");

  // Every tensor the config implies, with its shape; nothing else.
  std::set<std::string> expected;
  for (const auto &spec : expectedTensors(ck.config_)) {
    expected.insert(spec.name);
    auto it = ck.byName_.find(spec.name);
    if (it == ck.byName_.end())
      fail(dir, ": missing tensor '", spec.name, "' (expected ", shapeString(spec.shape),
           " from config.json)");
    if (it->second->shape != spec.shape)
      fail(it->second->file, ": tensor '", spec.name, "' has shape ",
           shapeString(it->second->shape), ", expected ", shapeString(spec.shape),
           " from config.json");
  }
  for (const auto &[name, view] : ck.byName_) {
    if (expected.count(name)) continue;
    // Tied checkpoints sometimes still carry a copy of the head: ignore it.
    if (name == "lm_head.weight" && ck.config_.tieWordEmbeddings) continue;
    fail(view->file, ": unexpected tensor '", name, "' (not part of a ",
         ck.config_.architecture, " with this config.json)");
  }
  return ck;
}

const TensorView &Checkpoint::tensor(const std::string &name) const {
  bool tied = name == "lm_head.weight" && config_.tieWordEmbeddings;
  auto it = byName_.find(tied ? std::string("model.embed_tokens.weight") : name);
  if (it == byName_.end()) fail(dir_, ": missing tensor '", name, "'");
  return *it->second;
}

std::optional<std::string> Checkpoint::tokenizerPath() const {
  if (gguf_) return std::nullopt;
  fs::path p = fs::path(dir_) / "tokenizer.json";
  if (fs::exists(p)) return p.string();
  return std::nullopt;
}

std::optional<TokenizerJson> Checkpoint::tokenizerJson() const {
  if (gguf_) return ggufTokenizerJson(gguf_->file());
  auto path = tokenizerPath();
  if (!path) return std::nullopt;
  std::ifstream in(*path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) fail(*path, ": cannot read");
  return TokenizerJson{*path, std::move(text)};
}

std::optional<ChatTemplateFile> Checkpoint::chatTemplate() const {
  if (gguf_) return ggufChatTemplate(gguf_->file());
  return readChatTemplate(dir_);
}

int64_t Checkpoint::weightBytes() const {
  int64_t n = 0;
  for (const auto &[name, v] : byName_) n += int64_t(v->nbytes);
  return n;
}

} // namespace q3c
