// libFuzzer target: config.json text (and, as a model config, its tensor inventory).
#include "frontend/Error.h"
#include "frontend/ModelConfig.h"
#include "frontend/TensorInventory.h"

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, false);
  if (j.is_discarded()) return 0;
  try {
    q3c::ModelConfig c = q3c::ModelConfig::fromJson(j, "config.json");
    // Only small models: the inventory of a huge config is legitimately huge.
    if (c.numLayers * (c.numExperts + 1) < 10000) (void)q3c::expectedTensors(c);
  } catch (const q3c::Error &) {
  }
  return 0;
}
