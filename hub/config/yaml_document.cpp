#include "hub/config/yaml_document.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <sstream>

namespace transit::hub {
namespace {

// Counts documents; their content is read by YAML::Load.
class Discard final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

}  // namespace

FirstYamlDocument loadFirstYamlDocument(const std::string& text) {
  // At most two documents are looked at: the loop LoadAll never leaves is a parser that keeps
  // reporting one more (empty) document.
  std::istringstream stream(text);
  YAML::Parser parser(stream);
  Discard discard;
  FirstYamlDocument first;
  while (first.documents < 2 && parser.HandleNextDocument(discard)) ++first.documents;
  if (first.documents > 0) first.root = YAML::Load(text);
  return first;
}

}  // namespace transit::hub
