#include "limits/billing.h"

#include <chrono>

namespace tb::limits {

namespace {

int64_t Overage(int64_t used, int64_t included, int64_t micros_per_1000) {
    if (included == kUnlimited || used <= included) return 0;
    // (used - included) * price / 1000 without overflow for any realistic count and price.
    __int128 micros = static_cast<__int128>(used - included) * micros_per_1000 / 1000;
    return static_cast<int64_t>(micros);
}

int64_t ToCents(int64_t micros) { return (micros + 5000) / 10000; }

}  // namespace

Charges EstimateCharges(const Plan& plan, int64_t requests, int64_t documents_written) {
    Charges c;
    c.currency = plan.currency;
    c.base_cents = ToCents(plan.price_monthly_micros);
    c.overage_cents =
        ToCents(Overage(requests, plan.included_requests, plan.overage_per_1000_requests_micros) +
                Overage(documents_written, plan.included_documents_written,
                        plan.overage_per_1000_documents_written_micros));
    c.total_cents = c.base_cents + c.overage_cents;
    return c;
}

std::pair<int64_t, int64_t> MonthOf(int64_t unix_seconds) {
    using namespace std::chrono;
    sys_days day = floor<days>(sys_seconds(seconds(unix_seconds)));
    year_month_day ymd(day);
    sys_days start = sys_days(ymd.year() / ymd.month() / 1);
    sys_days end = sys_days((ymd.year() / ymd.month() + months(1)) / 1);
    return {duration_cast<seconds>(start.time_since_epoch()).count(),
            duration_cast<seconds>(end.time_since_epoch()).count()};
}

}  // namespace tb::limits
