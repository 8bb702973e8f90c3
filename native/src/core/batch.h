/*
 * batch.h - per-burst entry points of the histogram and the sequence tracker
 * (internal: the engine's receiver calls them once per burst instead of once
 * per packet). Each gives exactly the state the same values fed one by one
 * through sk_hist_record / sk_seq_feed would, in the same order.
 */
#ifndef SK_BATCH_H
#define SK_BATCH_H

#include <stdint.h>

#include "simkit.h"

void sk_hist_record_batch(struct sk_hist *h, const uint64_t *values_ns, unsigned n);
void sk_seq_feed_batch(struct sk_seq *t, const uint64_t *seqs, unsigned n);

#endif /* SK_BATCH_H */
