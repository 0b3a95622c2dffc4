// transit-hubctl: the command-line client of the Transit Hub REST API. All logic lives in
// hub/ctl/commands.hpp (tested); this only hands over the process's arguments, environment and
// streams.
#include <iostream>

#include "hub/ctl/commands.hpp"

int main(int argc, char** argv) {
  return transit::ctl::runCtl(argc, argv, transit::ctl::Environment::fromProcess(), std::cin,
                              std::cout, std::cerr);
}
