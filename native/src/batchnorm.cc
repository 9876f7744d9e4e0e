// Batch normalisation over N, H, W of NHWC tensors as OpenMP loops: training forward (optionally fused with ReLU),
// its fused backward (dx, dgamma, dbeta), and inference with given statistics. Not oneDNN's: its training kernels
// synchronise with spinning barriers, which stall badly when the cores are shared (measured 16 ms per call vs <1).
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "common.h"

namespace hg {
namespace {

constexpr size_t PARALLEL_MIN = 1 << 15;

/** Shape [n, h, w, c] from TS: rows = n*h*w positions of c channels each. */
struct BnShape {
  size_t rows, c;
  explicit BnShape(const int32_t *v)
      : rows(static_cast<size_t>(v[0]) * v[1] * v[2]), c(static_cast<size_t>(v[3])) {}
  size_t size() const { return rows * c; }
  int threads() const { return size() >= PARALLEL_MIN ? omp_get_max_threads() : 1; }
};

// Rows are summed in float within blocks of this many rows, blocks in double: vectorisable and still accurate.
constexpr size_t BLOCK_ROWS = 64;

#define HG_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

/** Per-thread partial sums of x and x^2 over rows [r0, r1), added into (sum, sumSq) in double. */
HG_CLONES void sumsForward(const float *x, size_t r0, size_t r1, size_t c, double *sum, double *sumSq, float *fs,
                           float *fq) {
  for (size_t b = r0; b < r1; b += BLOCK_ROWS) {
    const size_t e = std::min(r1, b + BLOCK_ROWS);
    for (size_t j = 0; j < c; ++j) fs[j] = fq[j] = 0.f;
    for (size_t r = b; r < e; ++r) {
      const float *row = x + r * c;
      for (size_t j = 0; j < c; ++j) {
        fs[j] += row[j];
        fq[j] += row[j] * row[j];
      }
    }
    for (size_t j = 0; j < c; ++j) {
      sum[j] += fs[j];
      sumSq[j] += fq[j];
    }
  }
}

/**
 * Per-thread partial sums of dy' and dy' (x - mean). With `scale` and `shift` (the fused ReLU's backward), dy' is dy
 * where x * scale + shift > 0, the forward's own test for y > 0 (affineRows), else 0: y itself is not read.
 */
HG_CLONES void sumsBackward(const float *x, const float *dy, const float *scale, const float *shift, const float *mean,
                            size_t r0, size_t r1, size_t c, double *sumDy, double *sumDyXc, float *__restrict__ fs,
                            float *__restrict__ fq) {
  // The scratch sums alias nothing (restrict): else the masked loop's alias checks exceed gcc's limit, unvectorised.
  for (size_t b = r0; b < r1; b += BLOCK_ROWS) {
    const size_t e = std::min(r1, b + BLOCK_ROWS);
    for (size_t j = 0; j < c; ++j) fs[j] = fq[j] = 0.f;
    for (size_t r = b; r < e; ++r) {
      const float *xr = x + r * c;
      const float *dr = dy + r * c;
      if (scale != nullptr) {
        for (size_t j = 0; j < c; ++j) {
          // Both loads unconditional, so that the select vectorises.
          const float xv = xr[j], d = dr[j];
          const float g = xv * scale[j] + shift[j] > 0.f ? d : 0.f;
          fs[j] += g;
          fq[j] += g * (xv - mean[j]);
        }
      } else {
        for (size_t j = 0; j < c; ++j) {
          fs[j] += dr[j];
          fq[j] += dr[j] * (xr[j] - mean[j]);
        }
      }
    }
    for (size_t j = 0; j < c; ++j) {
      sumDy[j] += fs[j];
      sumDyXc[j] += fq[j];
    }
  }
}

/**
 * Runs `partial(r0, r1, a, b, fa, fb)` over each thread's static share of rows with zeroed double accumulators a, b
 * of length c, then adds the threads' accumulators in a fixed order, so results do not depend on scheduling.
 */
template <typename Partial>
void channelSums(const BnShape &s, Partial partial, std::vector<double> &sumA, std::vector<double> &sumB) {
  const int nt = s.threads();
  const size_t c = s.c;
  std::vector<double> part(static_cast<size_t>(nt) * 2 * c, 0.0);
  std::vector<float> scratch(static_cast<size_t>(nt) * 2 * c);
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    const int n = omp_get_num_threads();
    const size_t r0 = s.rows * t / n, r1 = s.rows * (t + 1) / n;
    double *a = part.data() + static_cast<size_t>(t) * 2 * c;
    float *f = scratch.data() + static_cast<size_t>(t) * 2 * c;
    partial(r0, r1, a, a + c, f, f + c);
  }
  sumA.assign(c, 0.0);
  sumB.assign(c, 0.0);
  for (int t = 0; t < nt; ++t) {
    const double *a = part.data() + static_cast<size_t>(t) * 2 * c;
    for (size_t j = 0; j < c; ++j) {
      sumA[j] += a[j];
      sumB[j] += a[c + j];
    }
  }
}

/** y = x * scale + shift per channel, optionally clamped at 0, over rows [r0, r1). */
HG_CLONES void affineRows(const float *x, const float *scale, const float *shift, float *y, bool relu, size_t r0,
                          size_t r1, size_t c) {
  for (size_t r = r0; r < r1; ++r) {
    const float *in = x + r * c;
    float *out = y + r * c;
    if (relu) {
      for (size_t j = 0; j < c; ++j) {
        const float v = in[j] * scale[j] + shift[j];
        out[j] = v > 0.f ? v : 0.f;
      }
    } else {
      for (size_t j = 0; j < c; ++j) out[j] = in[j] * scale[j] + shift[j];
    }
  }
}

void affine(const BnShape &s, const float *x, const float *scale, const float *shift, float *y, bool relu) {
#pragma omp parallel num_threads(s.threads())
  {
    const int t = omp_get_thread_num(), n = omp_get_num_threads();
    affineRows(x, scale, shift, y, relu, s.rows * t / n, s.rows * (t + 1) / n, s.c);
  }
}

/** dx = k1 dy' - k2 - k3 (x - mean), per channel; dy' as in sumsBackward. */
HG_CLONES void backwardRows(const float *x, const float *dy, const float *scale, const float *shift, const float *mean,
                            const float *k1, const float *k2, const float *k3, float *dx, size_t r0, size_t r1, size_t c) {
  for (size_t r = r0; r < r1; ++r) {
    const float *xr = x + r * c;
    const float *dr = dy + r * c;
    float *out = dx + r * c;
    if (scale != nullptr) {
      for (size_t j = 0; j < c; ++j) {
        const float xv = xr[j], d = dr[j];
        const float g = xv * scale[j] + shift[j] > 0.f ? d : 0.f;
        out[j] = k1[j] * g - k2[j] - k3[j] * (xv - mean[j]);
      }
    } else {
      for (size_t j = 0; j < c; ++j) out[j] = k1[j] * dr[j] - k2[j] - k3[j] * (xr[j] - mean[j]);
    }
  }
}

void backwardDx(const BnShape &s, const float *x, const float *dy, const float *scale, const float *shift,
                const float *mean, const float *k1, const float *k2, const float *k3, float *dx) {
#pragma omp parallel num_threads(s.threads())
  {
    const int t = omp_get_thread_num(), n = omp_get_num_threads();
    backwardRows(x, dy, scale, shift, mean, k1, k2, k3, dx, s.rows * t / n, s.rows * (t + 1) / n, s.c);
  }
}

/**
 * The affine map of batch norm with statistics (mean, variance): y = x * scale + shift per channel. One function for
 * the training forward (statistics in double, as summed), inference and the fused backward's ReLU test, so that the
 * backward's test x * scale + shift > 0 repeats the forward's arithmetic.
 */
void affineOf(double mean, double variance, double gamma, double beta, double eps, float *scale, float *shift) {
  const double k = gamma / std::sqrt(variance + eps);
  *scale = static_cast<float>(k);
  *shift = static_cast<float>(beta - mean * k);
}

/** batchNormTrain(x, gamma, beta, y, mean, variance, shape, epsilon, relu): batch statistics (variance biased). */
Napi::Value BatchNormTrain(const Napi::CallbackInfo &info) {
  return guarded(info, "batchNormTrain", [&] {
    const float *x = f32Arg(info, 0, "x");
    const float *gamma = f32Arg(info, 1, "gamma");
    const float *beta = f32Arg(info, 2, "beta");
    float *y = f32Arg(info, 3, "y");
    float *mean = f32Arg(info, 4, "mean");
    float *variance = f32Arg(info, 5, "variance");
    BnShape s(i32Arg(info, 6, 4, "shape"));
    for (size_t i : {0, 3}) expectLength(info, i, s.size(), "batchNormTrain", i == 0 ? "x" : "y");
    for (size_t i : {1, 2, 4, 5}) expectLength(info, i, s.c, "batchNormTrain", "a per-channel argument");
    const double eps = numberArg(info, 7, "epsilon");
    const bool relu = info[8].ToBoolean().Value();
    const size_t c = s.c;
    std::vector<double> sum, sumSq;
    // One pass: E[x] and E[x^2] in double (cancellation only matters when |mean| / std nears 1e8).
    channelSums(
        s,
        [&](size_t r0, size_t r1, double *a, double *b, float *fa, float *fb) { sumsForward(x, r0, r1, c, a, b, fa, fb); },
        sum, sumSq);
    std::vector<float> scale(c), shift(c);
    const double count = static_cast<double>(s.rows);
    for (size_t j = 0; j < c; ++j) {
      const double m = sum[j] / count;
      const double v = std::max(0.0, sumSq[j] / count - m * m);
      mean[j] = static_cast<float>(m);
      variance[j] = static_cast<float>(v);
      affineOf(m, v, gamma[j], beta[j], eps, &scale[j], &shift[j]);
    }
    affine(s, x, scale.data(), shift.data(), y, relu);
  });
}

/** batchNormInfer(x, mean, variance, gamma, beta, y, shape, epsilon, relu?): y with given (running) statistics. */
Napi::Value BatchNormInfer(const Napi::CallbackInfo &info) {
  return guarded(info, "batchNormInfer", [&] {
    const float *x = f32Arg(info, 0, "x");
    const float *mean = f32Arg(info, 1, "mean");
    const float *variance = f32Arg(info, 2, "variance");
    const float *gamma = f32Arg(info, 3, "gamma");
    const float *beta = f32Arg(info, 4, "beta");
    float *y = f32Arg(info, 5, "y");
    BnShape s(i32Arg(info, 6, 4, "shape"));
    for (size_t i : {0, 5}) expectLength(info, i, s.size(), "batchNormInfer", i == 0 ? "x" : "y");
    for (size_t i : {1, 2, 3, 4}) expectLength(info, i, s.c, "batchNormInfer", "a per-channel argument");
    const double eps = numberArg(info, 7, "epsilon");
    std::vector<float> scale(s.c), shift(s.c);
    for (size_t j = 0; j < s.c; ++j) affineOf(mean[j], variance[j], gamma[j], beta[j], eps, &scale[j], &shift[j]);
    const bool relu = info.Length() > 8 && info[8].ToBoolean().Value();
    affine(s, x, scale.data(), shift.data(), y, relu);
  });
}

/**
 * batchNormGrad(x, dy, gamma, mean, variance, dx, dgamma, dbeta, shape, epsilon, beta | null): training-mode backward.
 * With beta, the backward of relu(bn(x)): dy is first masked where the forward's output was not positive, tested
 * on x with the forward's affine map (affineOf) instead of reading the output (two fewer passes over a tensor).
 *   dbeta = sum dy', dgamma = sum dy' xhat, dx = gamma invstd (dy' - dbeta / M - xhat dgamma / M).
 */
Napi::Value BatchNormGrad(const Napi::CallbackInfo &info) {
  return guarded(info, "batchNormGrad", [&] {
    const float *x = f32Arg(info, 0, "x");
    const float *dy = f32Arg(info, 1, "dy");
    const float *gamma = f32Arg(info, 2, "gamma");
    const float *mean = f32Arg(info, 3, "mean");
    const float *variance = f32Arg(info, 4, "variance");
    float *dx = f32Arg(info, 5, "dx");
    float *dgamma = f32Arg(info, 6, "dgamma");
    float *dbeta = f32Arg(info, 7, "dbeta");
    BnShape s(i32Arg(info, 8, 4, "shape"));
    for (size_t i : {0, 1, 5}) expectLength(info, i, s.size(), "batchNormGrad", i == 0 ? "x" : i == 1 ? "dy" : "dx");
    for (size_t i : {2, 3, 4, 6, 7}) expectLength(info, i, s.c, "batchNormGrad", "a per-channel argument");
    const double eps = numberArg(info, 9, "epsilon");
    const float *beta = f32ArgOrNull(info, 10, "beta");
    const size_t c = s.c;
    std::vector<float> scale, shift;
    if (beta != nullptr) {
      expectLength(info, 10, c, "batchNormGrad", "beta");
      scale.resize(c);
      shift.resize(c);
      for (size_t j = 0; j < c; ++j) affineOf(mean[j], variance[j], gamma[j], beta[j], eps, &scale[j], &shift[j]);
    }
    const float *sc = beta != nullptr ? scale.data() : nullptr;
    const float *sh = beta != nullptr ? shift.data() : nullptr;
    std::vector<double> sumDy, sumDyXc;
    channelSums(
        s,
        [&](size_t r0, size_t r1, double *a, double *b, float *fa, float *fb) {
          sumsBackward(x, dy, sc, sh, mean, r0, r1, c, a, b, fa, fb);
        },
        sumDy, sumDyXc);
    std::vector<float> k1(c), k2(c), k3(c);
    const double count = static_cast<double>(s.rows);
    for (size_t j = 0; j < c; ++j) {
      const double invstd = 1.0 / std::sqrt(static_cast<double>(variance[j]) + eps);
      dbeta[j] = static_cast<float>(sumDy[j]);
      dgamma[j] = static_cast<float>(sumDyXc[j] * invstd);
      k1[j] = static_cast<float>(gamma[j] * invstd);
      k2[j] = static_cast<float>(gamma[j] * invstd * sumDy[j] / count);
      k3[j] = static_cast<float>(gamma[j] * invstd * invstd * invstd * sumDyXc[j] / count);
    }
    backwardDx(s, x, dy, sc, sh, mean, k1.data(), k2.data(), k3.data(), dx);
  });
}

}  // namespace

void registerBatchNorm(Napi::Env env, Napi::Object exports) {
  exports.Set("batchNormTrain", Napi::Function::New(env, BatchNormTrain, "batchNormTrain"));
  exports.Set("batchNormInfer", Napi::Function::New(env, BatchNormInfer, "batchNormInfer"));
  exports.Set("batchNormGrad", Napi::Function::New(env, BatchNormGrad, "batchNormGrad"));
}

}  // namespace hg
