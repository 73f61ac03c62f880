// GET /api/reports and /api/reports.csv (admin, or the reports-only admin sign-in):
// the Reports screen's numbers for a range of local days.
#pragma once

#include "appliance/http/route_deps.hpp"
#include "appliance/http/router.hpp"

namespace consult::http {

void add_report_routes(Router& router, const Access& deps);

}  // namespace consult::http
