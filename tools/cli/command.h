// How subcommands plug into main.cc, and how they report failure.
//
// Each command group file adds its subcommands to the root CLI11 app and registers the function
// that runs when that subcommand was chosen. Exit codes: 0 success, 1 usage error (the message
// and the command's usage text on stderr), 2 runtime error (one sentence on stderr), 130 when
// interrupted by Ctrl-C.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "emberdb/status.h"

namespace emberdb::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;
inline constexpr int kExitRuntime = 2;
inline constexpr int kExitInterrupted = 130;

struct Command {
  CLI::App* app;
  std::function<int()> run;
};
using CommandList = std::vector<Command>;

void AddIngestCommand(CLI::App* root, CommandList* commands);
void AddQueryCommands(CLI::App* root, CommandList* commands);       // query get delete count
void AddCollectionCommands(CLI::App* root, CommandList* commands);  // collections create drop stats
void AddTransferCommands(CLI::App* root, CommandList* commands);    // export import
void AddEmbedCommand(CLI::App* root, CommandList* commands);
void AddDemoCommand(CLI::App* root, CommandList* commands);

// Prints "emberdb: MESSAGE" and the command's usage to stderr; returns kExitUsage.
int UsageError(const CLI::App& command, const std::string& message);
// Prints "emberdb: MESSAGE" to stderr; returns kExitRuntime.
int RuntimeError(const std::string& message);
// A failed Status as a runtime error; `context` (may be empty) says what was being done.
int StatusError(const Status& status, const std::string& context = "");

}  // namespace emberdb::cli
