// The JSON of summary files: escaped strings, null for non-finite numbers,
// nested objects and lists indented, keys in insertion order.
#include <gtest/gtest.h>

#include <limits>

#include "io/json.hpp"

namespace sinapsis {
namespace {

TEST(JsonObject, EscapesStringsAndWritesNullForNonFiniteNumbers) {
  JsonObject o;
  o.add("text", std::string("a \"quoted\"\\path\nline\x01"))
      .add("nan", std::numeric_limits<double>::quiet_NaN())
      .add("inf", std::numeric_limits<double>::infinity())
      .add("x", 0.25)
      .add("n", std::size_t(3))
      .add("yes", true);
  EXPECT_EQ(o.text(),
            "{\n  \"text\": \"a \\\"quoted\\\"\\\\path\\nline\\u0001\",\n  \"nan\": null,\n  \"inf\": null,\n"
            "  \"x\": 0.25,\n  \"n\": 3,\n  \"yes\": true\n}");
}

TEST(JsonObject, NestsObjectsAndLists) {
  JsonObject inner;
  inner.add("a", 1);
  JsonObject o;
  o.add("inner", inner).add("hosts", std::vector<std::string>{"n1", "n2"}).add("empty", JsonObject());
  o.add("rows", std::vector<JsonObject>{inner, inner});
  EXPECT_EQ(o.text(),
            "{\n  \"inner\": {\n    \"a\": 1\n  },\n  \"hosts\": [\"n1\", \"n2\"],\n  \"empty\": {},\n"
            "  \"rows\": [\n  {\n    \"a\": 1\n  },\n  {\n    \"a\": 1\n  }\n  ]\n}");
}

}  // namespace
}  // namespace sinapsis
