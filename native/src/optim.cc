// Fused optimiser update: one pass of RMSprop (PyTorch's form, no momentum) over a parameter, its mean-square
// slot and its gradient, instead of ten element-wise kernels with a temporary each.
#include <cmath>

#include "common.h"

namespace hg {
namespace {

constexpr size_t PARALLEL_MIN = 1 << 15;

/**
 * rmsprop(param, slot, grad, paramOut, slotOut, lr, alpha, epsilon):
 *   slotOut = alpha * slot + (1 - alpha) * grad^2;  paramOut = param - lr * grad / (sqrt(slotOut) + epsilon).
 */
Napi::Value Rmsprop(const Napi::CallbackInfo &info) {
  return guarded(info, "rmsprop", [&] {
    const float *p = f32Arg(info, 0, "param");
    const float *v = f32Arg(info, 1, "slot");
    const float *g = f32Arg(info, 2, "grad");
    float *pOut = f32Arg(info, 3, "paramOut");
    float *vOut = f32Arg(info, 4, "slotOut");
    const float lr = static_cast<float>(numberArg(info, 5, "lr"));
    const float alpha = static_cast<float>(numberArg(info, 6, "alpha"));
    const float eps = static_cast<float>(numberArg(info, 7, "epsilon"));
    const size_t n = f32Length(info, 0);
    for (size_t i = 1; i <= 4; ++i) {
      if (f32Length(info, i) != n) throw std::invalid_argument("rmsprop: all arrays must have the same length");
    }
    const float beta = 1.f - alpha;
#pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN)
    for (size_t i = 0; i < n; ++i) {
      const float nv = alpha * v[i] + beta * (g[i] * g[i]);
      vOut[i] = nv;
      pOut[i] = p[i] - lr * (g[i] / (std::sqrt(nv) + eps));
    }
  });
}

}  // namespace

void registerOptim(Napi::Env env, Napi::Object exports) {
  exports.Set("rmsprop", Napi::Function::New(env, Rmsprop, "rmsprop"));
}

}  // namespace hg
