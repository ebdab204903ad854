// emberdb: the command-line tool. Subcommands live in *_command(s).cc files; this file only
// builds the parser and dispatches. Exit codes are defined in command.h.
#include <CLI/CLI.hpp>
#include <iostream>

#include "command.h"

namespace emberdb::cli {

int UsageError(const CLI::App& command, const std::string& message) {
  std::cerr << "emberdb: " << message << "\n\n" << command.help();
  return kExitUsage;
}

int RuntimeError(const std::string& message) {
  std::cerr << "emberdb: " << message << "\n";
  return kExitRuntime;
}

int StatusError(const Status& status, const std::string& context) {
  return RuntimeError(context.empty() ? status.message() : context + ": " + status.message());
}

}  // namespace emberdb::cli

int main(int argc, char** argv) {
  using namespace emberdb::cli;
  CLI::App app("emberdb: an embedded vector database, from the command line", "emberdb");
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show the help of every command");
  CommandList commands;
  AddIngestCommand(&app, &commands);
  AddQueryCommands(&app, &commands);
  AddCollectionCommands(&app, &commands);
  AddTransferCommands(&app, &commands);
  AddEmbedCommand(&app, &commands);
  AddDemoCommand(&app, &commands);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    // --help on any command: its own help on stdout.
    std::cout << app.help();
    return kExitOk;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    std::cerr << "emberdb: " << e.what() << "\n\n" << app.help();
    return kExitUsage;
  }
  for (const auto& command : commands) {
    if (command.app->parsed()) {
      try {
        return command.run();
      } catch (const std::exception& e) {
        // Nothing should throw here; if it does, say so instead of aborting.
        return RuntimeError(std::string("unexpected error: ") + e.what());
      }
    }
  }
  std::cerr << app.help();
  return kExitUsage;
}
