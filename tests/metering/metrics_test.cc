// The metrics registry: label values find their cell whatever string holds them, and every
// cell renders once with its labels.
#include "metering/metrics.h"

#include <gtest/gtest.h>

#include <string>

namespace recd::metering {
namespace {

TEST(MetricsFamily, EqualLabelValuesFindOneCellWhateverHoldsThem) {
  MetricsRegistry registry;
  CounterFamily* family = registry.AddCounter("t_total", "help", {"tenant", "status"});
  const std::string tenant = "acme";
  Counter* a = family->Get({tenant, "200"});
  Counter* b = family->Get({std::string_view("acme"), std::to_string(200)});
  EXPECT_EQ(a, b);
  EXPECT_NE(a, family->Get({tenant, "404"}));
  // A value is not split at a boundary: ("ab", "c") and ("a", "bc") are different cells.
  EXPECT_NE(family->Get({"ab", "c"}), family->Get({"a", "bc"}));
  a->Inc(2);
  b->Inc();
  EXPECT_EQ(a->value(), 3u);
}

TEST(MetricsFamily, RendersEachCellWithItsLabels) {
  MetricsRegistry registry;
  CounterFamily* family = registry.AddCounter("t_total", "help", {"tenant", "status"});
  family->Get({"acme", "200"})->Inc(3);
  family->Get({"_other", "429"})->Inc();
  registry.AddCounter("t_plain_total", "help", {})->Get({})->Inc();
  const std::string out = registry.Render();
  EXPECT_NE(out.find("t_total{tenant=\"acme\",status=\"200\"} 3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("t_total{tenant=\"_other\",status=\"429\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("t_plain_total 1\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace recd::metering
