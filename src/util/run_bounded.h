// Runs coroutine jobs with a bound on how many are under way at once, without a thread each:
// a job that waits on the network (an AWS call) suspends, and the next one starts where a job
// finishes. Used for lease revocations by prefix and for tokens expiring together.
#pragma once

#include <functional>
#include <vector>

#include "util/status.h"
#include "util/task.h"

namespace vault {

// Runs `jobs` with at most `limit` at once; resolves with every job's status, in order.
Task<std::vector<Status>> RunBounded(std::vector<std::function<Task<Status>()>> jobs, int limit);

}  // namespace vault
