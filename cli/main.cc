// herald: the command-line client. Wiring only; see cli.h.
#include <cstdlib>
#include <iostream>

#include "cli/cli.h"

int main(int argc, char** argv) {
  return herald::cli::Run(
      argc, argv, herald::cli::GrpcConnector(),
      [](const char* name) {
        const char* v = std::getenv(name);
        return std::string(v ? v : "");
      },
      std::cout, std::cerr);
}
