//===- ChatTemplateFile.cpp -------------------------------------------------===//
#include "frontend/ChatTemplateFile.h"
#include "frontend/Error.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace q3c {

std::optional<ChatTemplateFile> readChatTemplate(const std::string &dir) {
  namespace fs = std::filesystem;
  auto slurp = [](const fs::path &p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) fail(p.string(), ": cannot read");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  fs::path jinja = fs::path(dir) / "chat_template.jinja";
  if (fs::exists(jinja)) return ChatTemplateFile{jinja.string(), slurp(jinja)};
  fs::path config = fs::path(dir) / "tokenizer_config.json";
  if (!fs::exists(config)) return std::nullopt;
  auto j = nlohmann::json::parse(slurp(config), nullptr, false);
  if (j.is_discarded() || !j.is_object()) fail(config.string(), ": malformed JSON");
  auto it = j.find("chat_template");
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return ChatTemplateFile{config.string(), it->get<std::string>()};
  if (it->is_array())
    for (const auto &named : *it)
      if (named.is_object() && named.value("name", "") == "default" && named.contains("template") &&
          named["template"].is_string())
        return ChatTemplateFile{config.string(), named["template"].get<std::string>()};
  fail(config.string(), ": 'chat_template' must be a string or a list of {name, template} with a \"default\"");
}

} // namespace q3c
