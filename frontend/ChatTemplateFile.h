//===- ChatTemplateFile.h - a checkpoint's chat template, found -*- C++ -*-===//
#ifndef QWEN3C_FRONTEND_CHATTEMPLATEFILE_H
#define QWEN3C_FRONTEND_CHATTEMPLATEFILE_H

#include <optional>
#include <string>

namespace q3c {

struct ChatTemplateFile {
  std::string path;   // where it was read, for errors
  std::string source; // the Jinja text
};

// The checkpoint folder's chat template as transformers finds it:
// chat_template.jinja, else tokenizer_config.json's "chat_template" (a
// string, or a list of {name, template} whose "default" is used). None when
// neither has one. Malformed JSON fails naming the file.
std::optional<ChatTemplateFile> readChatTemplate(const std::string &dir);

} // namespace q3c

#endif
