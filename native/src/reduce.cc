// Sums over the leading or the trailing axes of a tensor viewed as [outer, inner] (bias gradients, loss
// reductions), with double accumulators per thread so the result does not depend on the thread count much.
#include <omp.h>

#include <vector>

#include "common.h"

namespace hg {
namespace {

constexpr size_t PARALLEL_MIN = 1 << 15;

/** sumLeading(x, out, outer, inner): out[j] = sum_i x[i * inner + j]  (e.g. NHWC over N, H, W -> [C]). */
Napi::Value SumLeading(const Napi::CallbackInfo &info) {
  return guarded(info, "sumLeading", [&] {
    const float *x = f32Arg(info, 0, "x");
    float *out = f32Arg(info, 1, "out");
    const size_t outer = static_cast<size_t>(numberArg(info, 2, "outer"));
    const size_t inner = static_cast<size_t>(numberArg(info, 3, "inner"));
    if (f32Length(info, 0) != outer * inner || f32Length(info, 1) != inner) {
      throw std::invalid_argument("sumLeading: lengths do not match outer x inner");
    }
    const int threads = outer * inner >= PARALLEL_MIN ? omp_get_max_threads() : 1;
    std::vector<double> partial(static_cast<size_t>(threads) * inner, 0.0);
#pragma omp parallel num_threads(threads)
    {
      double *acc = partial.data() + static_cast<size_t>(omp_get_thread_num()) * inner;
#pragma omp for schedule(static)
      for (size_t i = 0; i < outer; ++i) {
        const float *row = x + i * inner;
        for (size_t j = 0; j < inner; ++j) acc[j] += row[j];
      }
    }
    for (size_t j = 0; j < inner; ++j) {
      double s = 0;
      for (int t = 0; t < threads; ++t) s += partial[static_cast<size_t>(t) * inner + j];
      out[j] = static_cast<float>(s);
    }
  });
}

/** sumTrailing(x, out, outer, inner): out[i] = sum_j x[i * inner + j]  (e.g. a full reduction with outer = 1). */
Napi::Value SumTrailing(const Napi::CallbackInfo &info) {
  return guarded(info, "sumTrailing", [&] {
    const float *x = f32Arg(info, 0, "x");
    float *out = f32Arg(info, 1, "out");
    const size_t outer = static_cast<size_t>(numberArg(info, 2, "outer"));
    const size_t inner = static_cast<size_t>(numberArg(info, 3, "inner"));
    if (f32Length(info, 0) != outer * inner || f32Length(info, 1) != outer) {
      throw std::invalid_argument("sumTrailing: lengths do not match outer x inner");
    }
    const bool parallel = outer * inner >= PARALLEL_MIN;
    if (outer == 1) {
      double s = 0;
#pragma omp parallel for schedule(static) reduction(+ : s) if (parallel)
      for (size_t j = 0; j < inner; ++j) s += x[j];
      out[0] = static_cast<float>(s);
      return;
    }
#pragma omp parallel for schedule(static) if (parallel)
    for (size_t i = 0; i < outer; ++i) {
      const float *row = x + i * inner;
      double s = 0;
      for (size_t j = 0; j < inner; ++j) s += row[j];
      out[i] = static_cast<float>(s);
    }
  });
}

}  // namespace

void registerReduce(Napi::Env env, Napi::Object exports) {
  exports.Set("sumLeading", Napi::Function::New(env, SumLeading, "sumLeading"));
  exports.Set("sumTrailing", Napi::Function::New(env, SumTrailing, "sumTrailing"));
}

}  // namespace hg
