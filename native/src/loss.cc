// The training loss of one stack as two fused passes: the weighted heatmap MSE,
//   loss = sum_{n,y,x,k} w[n,k] (pred - target)^2 / (N h w K),
// accumulated in double, and its gradient to the prediction, 2 w[n,k] (pred - target) / (N h w K) * dy, in one
// write pass: instead of squaredDifference, mul, mean (and as many kernels again backward) with a temporary each.
#include "common.h"

namespace hg {
namespace {

// Below this many elements one thread is faster than waking the OpenMP team (as in elementwise.cc).
constexpr size_t PARALLEL_MIN = 1 << 15;

struct LossShape {
  int64_t n, h, w, k;
  size_t size() const { return static_cast<size_t>(n * h * w * k); }
};

/** The arguments both kernels share: pred, targets (0, 1), weights [N, K] (2) and shape [N, h, w, K] (4), checked. */
struct LossArgs {
  const float *pred, *target, *weights;
  LossShape s;
};

LossShape lossShape(const Napi::CallbackInfo &info, size_t i, const char *op) {
  const int32_t *s = i32Arg(info, i, 4, "shape");
  LossShape shape{s[0], s[1], s[2], s[3]};
  if (shape.n < 0 || shape.h < 0 || shape.w < 0 || shape.k < 0) throw std::invalid_argument(std::string(op) + ": negative dimension");
  if (f32Length(info, 0) != shape.size() || f32Length(info, 1) != shape.size()) {
    throw std::invalid_argument(std::string(op) + ": pred and targets must hold N*h*w*K values");
  }
  if (f32Length(info, 2) != static_cast<size_t>(shape.n * shape.k)) {
    throw std::invalid_argument(std::string(op) + ": weights must hold N*K values");
  }
  return shape;
}

LossArgs lossArgs(const Napi::CallbackInfo &info, const char *op) {
  return {f32Arg(info, 0, "pred"), f32Arg(info, 1, "targets"), f32Arg(info, 2, "weights"), lossShape(info, 4, op)};
}

/**
 * heatmapLoss(pred, targets, weights, out, shape): out[0] = sum w[n,k] (pred - target)^2 / (N h w K).
 * pred, targets: [N, h, w, K]; weights: [N, K]; out: [1]. Rows (n, y) are shared among the threads; each element's
 * term and every sum are computed in double, so the result is the exact sum rounded once (up to summation order).
 */
Napi::Value HeatmapLoss(const Napi::CallbackInfo &info) {
  return guarded(info, "heatmapLoss", [&] {
    const auto [pred, target, weights, s] = lossArgs(info, "heatmapLoss");
    float *out = f32Arg(info, 3, "out");
    if (f32Length(info, 3) != 1) throw std::invalid_argument("heatmapLoss: out must hold one value");
    const int64_t rows = s.n * s.h;
    const int64_t rowLength = s.w * s.k;
    double total = 0;
#pragma omp parallel for schedule(static) reduction(+ : total) if (s.size() >= PARALLEL_MIN)
    for (int64_t r = 0; r < rows; ++r) {
      const float *wr = weights + (r / s.h) * s.k;
      const float *p = pred + r * rowLength;
      const float *t = target + r * rowLength;
      double sum = 0;
      for (int64_t x = 0; x < s.w; ++x, p += s.k, t += s.k) {
        for (int64_t k = 0; k < s.k; ++k) {
          const double d = static_cast<double>(p[k]) - static_cast<double>(t[k]);
          sum += static_cast<double>(wr[k]) * (d * d);
        }
      }
      total += sum;
    }
    out[0] = static_cast<float>(total / static_cast<double>(s.size()));
  });
}

/**
 * heatmapLossGrad(pred, targets, weights, dpred, shape, scale): dpred = scale * w[n,k] * (pred - target), where the
 * caller passes scale = 2 dy / (N h w K). Same layout and threading as heatmapLoss; every element is written.
 */
Napi::Value HeatmapLossGrad(const Napi::CallbackInfo &info) {
  return guarded(info, "heatmapLossGrad", [&] {
    const auto [pred, target, weights, s] = lossArgs(info, "heatmapLossGrad");
    float *dpred = f32Arg(info, 3, "dpred");
    const double scale = numberArg(info, 5, "scale");
    if (f32Length(info, 3) != s.size()) throw std::invalid_argument("heatmapLossGrad: dpred must hold N*h*w*K values");
    const int64_t rows = s.n * s.h;
    const int64_t rowLength = s.w * s.k;
#pragma omp parallel for schedule(static) if (s.size() >= PARALLEL_MIN)
    for (int64_t r = 0; r < rows; ++r) {
      const float *wr = weights + (r / s.h) * s.k;
      const int64_t base = r * rowLength;
      for (int64_t x = 0; x < s.w; ++x) {
        const float *p = pred + base + x * s.k;
        const float *t = target + base + x * s.k;
        float *g = dpred + base + x * s.k;
        for (int64_t k = 0; k < s.k; ++k) {
          g[k] = static_cast<float>(scale * static_cast<double>(wr[k]) * (static_cast<double>(p[k]) - static_cast<double>(t[k])));
        }
      }
    }
  });
}

}  // namespace

void registerLoss(Napi::Env env, Napi::Object exports) {
  exports.Set("heatmapLoss", Napi::Function::New(env, HeatmapLoss, "heatmapLoss"));
  exports.Set("heatmapLossGrad", Napi::Function::New(env, HeatmapLossGrad, "heatmapLossGrad"));
}

}  // namespace hg
