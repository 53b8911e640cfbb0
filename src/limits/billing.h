#pragma once
// The estimated charges of a billing period (API.md §8 GET /v1/billing): the plan's monthly
// base, plus overage for the requests and documents written past what the plan includes,
// priced per 1000 units. Exact arithmetic in millionths; each part rounds half up to cents,
// and the total is the sum of the rounded parts (so the bill adds up as shown).

#include <cstdint>
#include <string>

#include "limits/plans.h"

namespace tb::limits {

struct Charges {
    int64_t base_cents = 0, overage_cents = 0, total_cents = 0;
    std::string currency;
};

Charges EstimateCharges(const Plan& plan, int64_t requests, int64_t documents_written);

// The calendar month (UTC) holding `unix_seconds`: [start, end) in Unix seconds.
std::pair<int64_t, int64_t> MonthOf(int64_t unix_seconds);

}  // namespace tb::limits
