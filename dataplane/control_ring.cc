#include "dataplane/control_ring.h"

#include <rte_ring.h>

#include "dataplane/tsan.h"

namespace nvmove::dp {

void to_control(WorkerContext &ctx, rte_mbuf *m) {
  tsan_release(m);  // the control thread reads what this worker wrote
  if (!ctx.to_control || rte_ring_enqueue(ctx.to_control, m) != 0)
    return drop(ctx, m, Counter::drop_control_ring_full);
  ctx.counters.add(Counter::to_control);
}

}  // namespace nvmove::dp
