//===- ExportGgufCommand.cpp - `qwen3c export-gguf` --------------------------===//
#include "frontend/Error.h"
#include "tools/qwen3c/Commands.h"
#include "tools/qwen3c/GgufWriter.h"

#include <cstdio>
#include <map>

namespace q3c {

void addExportGgufCommand(CLI::App &app) {
  auto checkpoint = std::make_shared<std::string>(), output = std::make_shared<std::string>();
  auto dtype = std::make_shared<std::string>("bf16");
  auto *cmd = app.add_subcommand("export-gguf", "write a checkpoint as a GGUF file for llama.cpp (f32, bf16, q8_0 or q4_0)");
  cmd->add_option("checkpoint", *checkpoint, "Hugging Face checkpoint folder")->required();
  cmd->add_option("-o,--output", *output, "the GGUF file")->required();
  cmd->add_option("--dtype", *dtype,
                  "bf16, f32, q8_0 or q4_0 (llama.cpp's rules; 1-D tensors and the MoE router stay f32)")
      ->capture_default_str();
  cmd->callback([=] {
    const std::map<std::string, GgufType> types{
        {"f32", GgufType::F32}, {"bf16", GgufType::BF16}, {"q8_0", GgufType::Q8_0}, {"q4_0", GgufType::Q4_0}};
    auto it = types.find(*dtype);
    if (it == types.end()) fail("--dtype: '", *dtype, "' is not bf16, f32, q8_0 or q4_0");
    writeGguf(*checkpoint, *output, it->second);
    std::printf("wrote %s\n", output->c_str());
  });
}

} // namespace q3c
