//===- ExportGgufCommand.cpp - `qwen3c export-gguf` --------------------------===//
#include "frontend/Error.h"
#include "tools/qwen3c/Commands.h"
#include "tools/qwen3c/GgufWriter.h"

#include <cstdio>

namespace q3c {

void addExportGgufCommand(CLI::App &app) {
  auto checkpoint = std::make_shared<std::string>(), output = std::make_shared<std::string>();
  auto dtype = std::make_shared<std::string>("bf16");
  auto *cmd = app.add_subcommand("export-gguf", "write a checkpoint as a GGUF file for llama.cpp (f32 or bf16)");
  cmd->add_option("checkpoint", *checkpoint, "Hugging Face checkpoint folder")->required();
  cmd->add_option("-o,--output", *output, "the GGUF file")->required();
  cmd->add_option("--dtype", *dtype, "bf16 or f32 (1-D tensors stay f32)")->capture_default_str();
  cmd->callback([=] {
    if (*dtype != "bf16" && *dtype != "f32") fail("--dtype: '", *dtype, "' is not bf16 or f32");
    writeGguf(*checkpoint, *output, *dtype == "bf16" ? GgufType::BF16 : GgufType::F32);
    std::printf("wrote %s\n", output->c_str());
  });
}

} // namespace q3c
