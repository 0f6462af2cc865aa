//===- Commands.h - the qwen3c driver's subcommands -------------*- C++ -*-===//
#ifndef QWEN3C_TOOLS_COMMANDS_H
#define QWEN3C_TOOLS_COMMANDS_H

#include <CLI/CLI.hpp>

namespace q3c {

// Each adds its subcommand to the app; the callback runs it and throws
// q3c::Error on bad input.
void addMakeCheckpointCommand(CLI::App &app);
void addInspectCommand(CLI::App &app);
void addEmitIRCommand(CLI::App &app);
void addRunEagerCommand(CLI::App &app);
void addBuildCommand(CLI::App &app);
void addTokenizeCommand(CLI::App &app);
void addBenchCommand(CLI::App &app);
void addExportGgufCommand(CLI::App &app);
void addExplainCommand(CLI::App &app);

// The command line qwen3c was started with, for reports.
std::string commandLine();
void setCommandLine(int argc, char **argv);

} // namespace q3c

#endif
