// Child processes for crash tests: a test registers a body under a name, and SpawnChild starts
// this same test binary afresh (/proc/self/exe --child NAME ARGS...) with stdout on a pipe.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace emberdb_test {

using ChildBody = std::function<int(int argc, char** argv)>;

inline std::map<std::string, ChildBody>& ChildRegistry() {
  static std::map<std::string, ChildBody> registry;
  return registry;
}

struct RegisterChild {
  RegisterChild(const std::string& name, ChildBody body) {
    ChildRegistry()[name] = std::move(body);
  }
};

inline int RunChild(const std::string& name, int argc, char** argv) {
  auto it = ChildRegistry().find(name);
  if (it == ChildRegistry().end()) {
    std::fprintf(stderr, "no child body named %s\n", name.c_str());
    return 2;
  }
  return it->second(argc, argv);
}

// A running child whose stdout the parent reads through `fd`.
struct Child {
  pid_t pid = -1;
  int fd = -1;
};

inline Child SpawnChild(const std::string& name, const std::vector<std::string>& args) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    std::vector<std::string> all = {"/proc/self/exe", "--child", name};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  close(fds[1]);
  return {pid, fds[0]};
}

// Kills the child with SIGKILL (if still running) and reaps it.
inline void KillChild(Child& c) {
  if (c.pid > 0) {
    kill(c.pid, SIGKILL);
    waitpid(c.pid, nullptr, 0);
    c.pid = -1;
  }
}

}  // namespace emberdb_test
