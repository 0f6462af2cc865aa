// model.safetensors.index.json parsing: plain file names only, clear errors.
#include "frontend/Checkpoint.h"
#include "frontend/Error.h"

#include <gtest/gtest.h>

#include <string>

using q3c::parseShardIndex;

namespace {

std::string errorOf(const std::string &text) {
  try {
    parseShardIndex("ck/model.safetensors.index.json", text);
  } catch (const q3c::Error &e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST(ShardIndex, ListsFilesInFirstMentionOrder) {
  auto index = parseShardIndex("i.json", R"({"metadata": {}, "weight_map": {"b": "two.safetensors",
      "a": "one.safetensors", "c": "two.safetensors"}})");
  // nlohmann orders keys, so "a" (one) is seen before "b" (two).
  EXPECT_EQ(index.files, (std::vector<std::string>{"one.safetensors", "two.safetensors"}));
  EXPECT_EQ(index.tensorToFile.at("c"), "two.safetensors");
}

TEST(ShardIndex, RejectsBadInput) {
  EXPECT_NE(errorOf("{").find("ck/model.safetensors.index.json: malformed JSON"), std::string::npos);
  EXPECT_NE(errorOf("[]").find("missing 'weight_map' object"), std::string::npos);
  EXPECT_NE(errorOf(R"({"weight_map": {}})").find("weight_map is empty"), std::string::npos);
  EXPECT_NE(errorOf(R"({"weight_map": {"a": 3}})").find("weight_map entry 'a' is not a file name"), std::string::npos);
  for (const char *bad : {"../x.safetensors", "/etc/passwd", ".", "..", "", "a\\\\b"})
    EXPECT_NE(errorOf(std::string(R"({"weight_map": {"t": ")") + bad + "\"}}").find("names a bad file"),
              std::string::npos)
        << bad;
  EXPECT_NE(errorOf(std::string("{\"weight_map\": {\"t\": \"a\\u0000b\"}}")).find("names a bad file"), std::string::npos);
}
