// spikejax's CPU kernels as XLA FFI handlers (`spikejax/network/_native.py` builds and
// registers them): the spike delivery (`SpikejaxDeliver`; `deliver_events` calls it with
// kernel "native") and a kernel boundary (`SpikejaxBoundary`, at the end).
//
// The delivery:
// The same sums, in the same order, as the XLA loop it replaces (`deliver_events`, kernel
// "single"): for each spiking neuron (the set bits of `words`, word by word, lowest bit
// first; at most `count` of them), for each projection of the pre population, in order, add
// the weight (one, or one per synapse) of every synapse of the neuron's row at its target
// in the flattened ring buffer `(members x D x W)`: column `col + target`, slot
// `(k + 1 + delay) % D`, member `b` (the words of `M` members lie one after the other,
// `words_per_member` each). Each projection's table is `rows = [offsets (n_pre + 2),
// targets]` (int32), its weight a scalar or per synapse in the targets' order, and its
// delays (int8/int16/int32, per synapse, in the same order) unless it has one delay. With
// `clear`, each member's slot `k % D` (the one the step has read) is zeroed first, in place,
// so that XLA does not clear and copy the ring buffer itself.
#include <cstdint>
#include <cstring>
#include <vector>
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

struct Table {
  const int32_t* rows;
  const void* weight;
  bool per_synapse;
  const void* delays;  // null: the one delay `delay_value`
  ffi::DataType delay_type;
  int64_t col;
  int64_t delay_value;
};

// Add row `start, ..., start + n - 1` of table `t` for a spike emitted at the end of step
// `k1 - 1`; `off`: the receptor's column plus the member's offset; `Dl`: the delays' type.
template <typename F, typename Dl>
inline void add_row(F* flat, const Table& t, int64_t base, int64_t start, int64_t n,
                    int64_t off, int64_t k1, int64_t D, int64_t W) {
  const int32_t* tgt = t.rows + base + start;
  const F* w = static_cast<const F*>(t.weight) + (t.per_synapse ? start : 0);
  const F w0 = w[0];  // the one weight of a scalar-weight table (read once: flat may alias)
  if (t.delays == nullptr) {
    F* slot = flat + off + (D > 1 ? (k1 + t.delay_value) % D : 0) * W;
    if (t.per_synapse) {
      for (int64_t i = 0; i < n; ++i) slot[tgt[i]] += w[i];
    } else {
      for (int64_t i = 0; i < n; ++i) slot[tgt[i]] += w0;
    }
    return;
  }
  // slot (k1 + d) % D without a division per synapse: the delays lie in [0, D)
  const Dl* d = static_cast<const Dl*>(t.delays) + start;
  const int64_t first = k1 % D;
  for (int64_t i = 0; i < n; ++i) {
    int64_t s = first + int64_t(d[i]);
    s = s >= D ? s - D : s;
    flat[tgt[i] + s * W + off] += t.per_synapse ? w[i] : w0;
  }
}

template <typename F>
static ffi::Error deliver_impl(ffi::AnyBuffer flat_in, ffi::Buffer<ffi::U32> words,
                               ffi::Buffer<ffi::S32> count, ffi::Buffer<ffi::S32> k,
                               ffi::RemainingArgs tables, ffi::Result<ffi::AnyBuffer> flat_out,
                               int64_t D, int64_t W, int64_t words_per_member,
                               int64_t n_pre, ffi::Span<const int64_t> cols,
                               ffi::Span<const int64_t> delay_value,
                               ffi::Span<const int64_t> has_delays,
                               ffi::Span<const int64_t> per_synapse, int64_t clear) {
  F* flat = flat_out->typed_data<F>();
  const F* src = flat_in.typed_data<F>();
  if (flat != src) std::memcpy(flat, src, sizeof(F) * flat_in.element_count());
  const int32_t* kk = k.typed_data();
  const int64_t nk = k.element_count();
  if (clear) {  // each member's slot k % D, read by this step, is emptied before delivering
    const int64_t members = words.element_count() / words_per_member;
    for (int64_t b = 0; b < members; ++b) {
      const int64_t slot = int64_t(kk[nk > 1 ? b : 0]) % D;
      std::memset(flat + (b * D + slot) * W, 0, sizeof(F) * W);
    }
  }
  const int64_t P = cols.size();
  std::vector<Table> tab(P);
  size_t a = 0;
  for (int64_t p = 0; p < P; ++p) {
    Table& t = tab[p];
    auto r = tables.get<ffi::AnyBuffer>(a++);
    auto w = tables.get<ffi::AnyBuffer>(a++);
    if (!r.has_value() || !w.has_value())
      return ffi::Error::InvalidArgument("spikejax_deliver: missing table");
    t.rows = static_cast<const int32_t*>(r->untyped_data());
    t.weight = w->untyped_data();
    t.per_synapse = per_synapse[p] != 0;
    t.delays = nullptr;
    t.delay_type = ffi::S32;
    if (has_delays[p]) {
      auto d = tables.get<ffi::AnyBuffer>(a++);
      if (!d.has_value()) return ffi::Error::InvalidArgument("spikejax_deliver: missing delays");
      t.delays = d->untyped_data();
      t.delay_type = d->element_type();
    }
    t.col = cols[p];
    t.delay_value = delay_value[p];
  }
  const int64_t L = D * W;
  const int64_t base = n_pre + 2;
  const uint32_t* wd = words.typed_data();
  const int64_t n_words = words.element_count();
  const int64_t total = count.typed_data()[0];
  // the spikes to deliver, in order: member b and neuron j of each
  thread_local std::vector<int64_t> spikes;
  spikes.clear();
  for (int64_t w = 0; w < n_words && int64_t(spikes.size()) < total; ++w) {
    uint32_t m = wd[w];
    while (m != 0 && int64_t(spikes.size()) < total) {
      spikes.push_back(w * 32 + __builtin_ctz(m));
      m &= m - 1;
    }
  }
  const int64_t S = spikes.size();
  const int64_t per_member = words_per_member * 32;
  // Rows are read from tables far larger than the caches: each spike's row offsets are
  // fetched `kAheadOffsets` spikes ahead and its synapses `kAheadRows` spikes ahead, so that
  // the loads of later spikes overlap the adds of this one.
  constexpr int64_t kAheadOffsets = 16, kAheadRows = 8;
  for (int64_t s = 0; s < S; ++s) {
    if (s + kAheadOffsets < S) {
      const int64_t j = spikes[s + kAheadOffsets] % per_member;
      for (int64_t p = 0; p < P; ++p) __builtin_prefetch(tab[p].rows + j);
    }
    if (s + kAheadRows < S) {
      const int64_t j = spikes[s + kAheadRows] % per_member;
      for (int64_t p = 0; p < P; ++p) {
        const Table& t = tab[p];
        const int64_t a = t.rows[j], e = t.rows[j + 1];
        const char* tg = reinterpret_cast<const char*>(t.rows + base + a);
        for (int64_t x = 0; x < (e - a) * 4; x += 64) __builtin_prefetch(tg + x);
        if (t.per_synapse) {
          const char* wt = static_cast<const char*>(t.weight) + a * sizeof(F);
          for (int64_t x = 0; x < (e - a) * int64_t(sizeof(F)); x += 64) __builtin_prefetch(wt + x);
        }
        if (t.delays != nullptr) {
          const int64_t size = t.delay_type == ffi::S8 ? 1 : t.delay_type == ffi::S16 ? 2 : 4;
          const char* d = static_cast<const char*>(t.delays) + a * size;
          for (int64_t x = 0; x < (e - a) * size; x += 64) __builtin_prefetch(d + x);
        }
      }
    }
    const int64_t b = spikes[s] / per_member;
    const int64_t j = spikes[s] % per_member;
    const int64_t k1 = int64_t(kk[nk > 1 ? b : 0]) + 1;
    for (int64_t p = 0; p < P; ++p) {
      const Table& t = tab[p];
      const int64_t start = t.rows[j];
      const int64_t n = t.rows[j + 1] - start;
      const int64_t off = t.col + b * L;
      if (t.delay_type == ffi::S8) {
        add_row<F, int8_t>(flat, t, base, start, n, off, k1, D, W);
      } else if (t.delay_type == ffi::S16) {
        add_row<F, int16_t>(flat, t, base, start, n, off, k1, D, W);
      } else {
        add_row<F, int32_t>(flat, t, base, start, n, off, k1, D, W);
      }
    }
  }
  return ffi::Error::Success();
}

static ffi::Error deliver(ffi::AnyBuffer flat_in, ffi::Buffer<ffi::U32> words,
                          ffi::Buffer<ffi::S32> count, ffi::Buffer<ffi::S32> k,
                          ffi::RemainingArgs tables, ffi::Result<ffi::AnyBuffer> flat_out,
                          int64_t D, int64_t W, int64_t words_per_member, int64_t n_pre,
                          ffi::Span<const int64_t> cols, ffi::Span<const int64_t> delay_value,
                          ffi::Span<const int64_t> has_delays,
                          ffi::Span<const int64_t> per_synapse, int64_t clear) {
  if (flat_in.element_type() == ffi::F32)
    return deliver_impl<float>(flat_in, words, count, k, tables, flat_out, D, W,
                               words_per_member, n_pre, cols, delay_value, has_delays,
                               per_synapse, clear);
  if (flat_in.element_type() == ffi::F64)
    return deliver_impl<double>(flat_in, words, count, k, tables, flat_out, D, W,
                                words_per_member, n_pre, cols, delay_value, has_delays,
                                per_synapse, clear);
  return ffi::Error::InvalidArgument("spikejax_deliver: the buffer must be float32 or float64");
}

XLA_FFI_DEFINE_HANDLER_SYMBOL(SpikejaxDeliver, deliver,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::Buffer<ffi::U32>>()
                                  .Arg<ffi::Buffer<ffi::S32>>()
                                  .Arg<ffi::Buffer<ffi::S32>>()
                                  .RemainingArgs()
                                  .Ret<ffi::AnyBuffer>()
                                  .Attr<int64_t>("D")
                                  .Attr<int64_t>("W")
                                  .Attr<int64_t>("words_per_member")
                                  .Attr<int64_t>("n_pre")
                                  .Attr<ffi::Span<const int64_t>>("cols")
                                  .Attr<ffi::Span<const int64_t>>("delay_value")
                                  .Attr<ffi::Span<const int64_t>>("has_delays")
                                  .Attr<ffi::Span<const int64_t>>("per_synapse")
                                  .Attr<int64_t>("clear"));

// The kernel boundary: returns its argument, aliased (XLA hands the call the argument's own
// buffer, so nothing is copied and there is nothing to do). XLA's CPU backend computes each
// array a step outputs in a kernel of its own and repeats in each the arithmetic they share;
// a value passed through this call is computed once, in one kernel, and the kernels after it
// read it (`spikejax.network._native.boundary`).
static ffi::Error keep(ffi::AnyBuffer, ffi::Result<ffi::AnyBuffer>) {
  return ffi::Error::Success();
}

XLA_FFI_DEFINE_HANDLER_SYMBOL(SpikejaxBoundary, keep,
                              ffi::Ffi::Bind().Arg<ffi::AnyBuffer>().Ret<ffi::AnyBuffer>());
