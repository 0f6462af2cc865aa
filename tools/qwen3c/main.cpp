//===- main.cpp - qwen3c, the Qwen3 ahead-of-time compiler driver -----------===//
#include "frontend/Error.h"
#include "frontend/SignalCleanup.h"
#include "tools/qwen3c/Commands.h"

#include <cstdio>

namespace {
std::string gCommandLine;
} // namespace

std::string q3c::commandLine() { return gCommandLine; }

void q3c::setCommandLine(int argc, char **argv) {
  gCommandLine = "qwen3c";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool plain = !a.empty() && a.find_first_of(" \t'\"$\\") == std::string::npos;
    gCommandLine += " " + (plain ? a : "'" + a + "'");
  }
}

int main(int argc, char **argv) {
  q3c::installSignalCleanup();
  CLI::App app{"qwen3c: compile Qwen3 checkpoints (dense and MoE) to native executables"};
  app.require_subcommand(1);
  q3c::addMakeCheckpointCommand(app);
  q3c::addInspectCommand(app);
  q3c::addEmitIRCommand(app);
  q3c::addRunEagerCommand(app);
  q3c::addBuildCommand(app);
  q3c::addTokenizeCommand(app);
  q3c::addBenchCommand(app);
  q3c::addExportGgufCommand(app);
  q3c::addExplainCommand(app);
  q3c::setCommandLine(argc, argv);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e);
  } catch (const q3c::Error &e) {
    std::fprintf(stderr, "qwen3c: error: %s\n", e.what());
    return 1;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "qwen3c: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
