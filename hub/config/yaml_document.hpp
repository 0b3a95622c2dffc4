// The one YAML document of a configuration text (transit-hubd's configuration, the appliance's
// user data), read without yaml-cpp's LoadAll: in yaml-cpp 0.7 (Debian 12's) LoadAll loops for
// ever, allocating, on some malformed streams (a line holding only ",", found by fuzzing).
//
// Owns nothing; any thread.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <string>

namespace transit::hub {

struct FirstYamlDocument {
  YAML::Node root;            // the first document (null when there is none)
  std::size_t documents = 0;  // 0, 1, or 2 for "more than one"
};

// Throws YAML::Exception on a syntax error in the first two documents.
FirstYamlDocument loadFirstYamlDocument(const std::string& text);

}  // namespace transit::hub
