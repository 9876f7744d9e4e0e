// Element-wise kernels as OpenMP loops (memory-bound, so plain loops the compiler vectorises): unary ops,
// ReLU's gradient, binary ops with scalar / trailing-vector broadcasting, and AddN.
#include <omp.h>

#include <cmath>
#include <vector>

#include "common.h"

namespace hg {
namespace {

// Below this many elements one thread is faster than waking the OpenMP team.
constexpr size_t PARALLEL_MIN = 1 << 15;

// Keep in sync with UNARY_OPS in src/backend/native/kernels/elementwise.ts.
enum Unary { RELU = 0, SQUARE = 1, SQRT = 2, NEG = 3, STEP = 4, RSQRT = 5 };
// Keep in sync with BINARY_OPS in src/backend/native/kernels/elementwise.ts.
enum Binary { ADD = 0, SUB = 1, MUL = 2, DIV = 3, SQUARED_DIFFERENCE = 4, MAXIMUM = 5 };

template <typename Op>
void unaryLoop(const float *x, float *y, size_t n, Op op) {
#pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN)
  for (size_t i = 0; i < n; ++i) y[i] = op(x[i]);
}

/** unary(op, x, y, alpha): y = op(x); alpha is STEP's value for x <= 0 (NaN stays NaN, as in TF.js). */
Napi::Value UnaryOp(const Napi::CallbackInfo &info) {
  return guarded(info, "unary", [&] {
    int op = static_cast<int>(numberArg(info, 0, "op"));
    float *x = f32Arg(info, 1, "x");
    float *y = f32Arg(info, 2, "y");
    float alpha = static_cast<float>(numberArg(info, 3, "alpha"));
    size_t n = f32Length(info, 1);
    if (f32Length(info, 2) != n) throw std::invalid_argument("x and y differ in length");
    switch (op) {
      case RELU: unaryLoop(x, y, n, [](float v) { return v > 0.f ? v : 0.f; }); break;
      case SQUARE: unaryLoop(x, y, n, [](float v) { return v * v; }); break;
      case SQRT: unaryLoop(x, y, n, [](float v) { return std::sqrt(v); }); break;
      case NEG: unaryLoop(x, y, n, [](float v) { return -v; }); break;
      case STEP: unaryLoop(x, y, n, [alpha](float v) { return std::isnan(v) ? v : (v > 0.f ? 1.f : alpha); }); break;
      case RSQRT: unaryLoop(x, y, n, [](float v) { return 1.f / std::sqrt(v); }); break;
      default: throw std::invalid_argument("unknown unary op " + std::to_string(op));
    }
  });
}

/** reluGrad(dy, x, dx): dx = x > 0 ? dy : 0 (what TF.js's Relu gradient, dy * step(x), computes in two passes). */
Napi::Value ReluGrad(const Napi::CallbackInfo &info) {
  return guarded(info, "reluGrad", [&] {
    const float *dy = f32Arg(info, 0, "dy");
    const float *x = f32Arg(info, 1, "x");
    float *dx = f32Arg(info, 2, "dx");
    size_t n = f32Length(info, 0);
    if (f32Length(info, 1) != n || f32Length(info, 2) != n) throw std::invalid_argument("dy, x and dx differ in length");
#pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN)
    for (size_t i = 0; i < n; ++i) dx[i] = x[i] > 0.f ? dy[i] : 0.f;
  });
}

/**
 * out[i] = op(a[ia(i)], b[ib(i)]) where each operand either has out's length, or is a scalar, or is a vector
 * repeated along the leading axes (the trailing-suffix broadcasts of NHWC bias adds and per-channel scales).
 */
template <typename Op>
void binaryLoop(const float *a, size_t na, const float *b, size_t nb, float *out, size_t n, Op op) {
  if (na == n && nb == n) {
#pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN)
    for (size_t i = 0; i < n; ++i) out[i] = op(a[i], b[i]);
  } else if (na == n && nb == 1) {
    const float s = b[0];
#pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN)
    for (size_t i = 0; i < n; ++i) out[i] = op(a[i], s);
  } else if (na == 1 && nb == n) {
    const float s = a[0];
#pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN)
    for (size_t i = 0; i < n; ++i) out[i] = op(s, b[i]);
  } else if (na == n && nb > 0 && n % nb == 0) {
    const size_t rows = n / nb;
#pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN)
    for (size_t r = 0; r < rows; ++r) {
      const float *ar = a + r * nb;
      float *o = out + r * nb;
      for (size_t j = 0; j < nb; ++j) o[j] = op(ar[j], b[j]);
    }
  } else if (nb == n && na > 0 && n % na == 0) {
    const size_t rows = n / na;
#pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN)
    for (size_t r = 0; r < rows; ++r) {
      const float *br = b + r * na;
      float *o = out + r * na;
      for (size_t j = 0; j < na; ++j) o[j] = op(a[j], br[j]);
    }
  } else {
    throw std::invalid_argument("unsupported broadcast: lengths " + std::to_string(na) + " and " + std::to_string(nb) +
                                " into " + std::to_string(n));
  }
}

/** binary(op, a, b, out): see binaryLoop for the broadcasts allowed. */
Napi::Value BinaryOp(const Napi::CallbackInfo &info) {
  return guarded(info, "binary", [&] {
    int op = static_cast<int>(numberArg(info, 0, "op"));
    const float *a = f32Arg(info, 1, "a");
    const float *b = f32Arg(info, 2, "b");
    float *out = f32Arg(info, 3, "out");
    size_t na = f32Length(info, 1), nb = f32Length(info, 2), n = f32Length(info, 3);
    switch (op) {
      case ADD: binaryLoop(a, na, b, nb, out, n, [](float u, float v) { return u + v; }); break;
      case SUB: binaryLoop(a, na, b, nb, out, n, [](float u, float v) { return u - v; }); break;
      case MUL: binaryLoop(a, na, b, nb, out, n, [](float u, float v) { return u * v; }); break;
      case DIV: binaryLoop(a, na, b, nb, out, n, [](float u, float v) { return u / v; }); break;
      case SQUARED_DIFFERENCE:
        binaryLoop(a, na, b, nb, out, n, [](float u, float v) { return (u - v) * (u - v); });
        break;
      case MAXIMUM: binaryLoop(a, na, b, nb, out, n, [](float u, float v) { return u > v ? u : v; }); break;
      default: throw std::invalid_argument("unknown binary op " + std::to_string(op));
    }
  });
}

/**
 * General broadcasting: out has shape `shape` (rank <= 8); element (i0..iR-1) reads a at sum(i_d * aStrides[d]) and
 * b likewise, a stride being 0 along a broadcast dimension. The last dimension is the vectorised inner loop.
 */
template <typename Op>
void stridedLoop(const float *a, const float *b, float *out, const int32_t *shape, const int32_t *as, const int32_t *bs,
                 int rank, Op op) {
  const size_t inner = static_cast<size_t>(shape[rank - 1]);
  size_t outer = 1;
  for (int d = 0; d < rank - 1; ++d) outer *= static_cast<size_t>(shape[d]);
  const size_t aInner = static_cast<size_t>(as[rank - 1]), bInner = static_cast<size_t>(bs[rank - 1]);
#pragma omp parallel for schedule(static) if (outer * inner >= PARALLEL_MIN)
  for (size_t o = 0; o < outer; ++o) {
    size_t rest = o, ao = 0, bo = 0;
    for (int d = rank - 2; d >= 0; --d) {
      const size_t i = rest % static_cast<size_t>(shape[d]);
      rest /= static_cast<size_t>(shape[d]);
      ao += i * static_cast<size_t>(as[d]);
      bo += i * static_cast<size_t>(bs[d]);
    }
    float *dst = out + o * inner;
    for (size_t j = 0; j < inner; ++j) dst[j] = op(a[ao + j * aInner], b[bo + j * bInner]);
  }
}

/** binaryStrided(op, a, b, out, shape: Int32Array(rank), aStrides, bStrides): see stridedLoop. */
Napi::Value BinaryStrided(const Napi::CallbackInfo &info) {
  return guarded(info, "binaryStrided", [&] {
    int op = static_cast<int>(numberArg(info, 0, "op"));
    const float *a = f32Arg(info, 1, "a");
    const float *b = f32Arg(info, 2, "b");
    float *out = f32Arg(info, 3, "out");
    const int rank = static_cast<int>(info[4].As<Napi::Int32Array>().ElementLength());
    if (rank < 1 || rank > 8) throw std::invalid_argument("binaryStrided: rank must be 1..8");
    const int32_t *shape = i32Arg(info, 4, rank, "shape");
    const int32_t *as = i32Arg(info, 5, rank, "aStrides");
    const int32_t *bs = i32Arg(info, 6, rank, "bStrides");
    // Bounds: the last element read from each operand must lie inside it (the loop reads at offsets that only grow
    // with the index when no extent or stride is negative: a negative stride read before the array's start).
    size_t total = 1, aLast = 0, bLast = 0;
    for (int d = 0; d < rank; ++d) {
      if (shape[d] < 0 || as[d] < 0 || bs[d] < 0) {
        throw std::invalid_argument("binaryStrided: shape and strides must not be negative");
      }
      total *= static_cast<size_t>(shape[d]);
      aLast += static_cast<size_t>(shape[d] - 1) * as[d];
      bLast += static_cast<size_t>(shape[d] - 1) * bs[d];
    }
    if (total != f32Length(info, 3) || (total > 0 && (aLast >= f32Length(info, 1) || bLast >= f32Length(info, 2)))) {
      throw std::invalid_argument("binaryStrided: shape and strides do not fit the arrays");
    }
    if (total == 0) return;
    switch (op) {
      case ADD: stridedLoop(a, b, out, shape, as, bs, rank, [](float u, float v) { return u + v; }); break;
      case SUB: stridedLoop(a, b, out, shape, as, bs, rank, [](float u, float v) { return u - v; }); break;
      case MUL: stridedLoop(a, b, out, shape, as, bs, rank, [](float u, float v) { return u * v; }); break;
      case DIV: stridedLoop(a, b, out, shape, as, bs, rank, [](float u, float v) { return u / v; }); break;
      case SQUARED_DIFFERENCE:
        stridedLoop(a, b, out, shape, as, bs, rank, [](float u, float v) { return (u - v) * (u - v); });
        break;
      case MAXIMUM: stridedLoop(a, b, out, shape, as, bs, rank, [](float u, float v) { return u > v ? u : v; }); break;
      default: throw std::invalid_argument("unknown binary op " + std::to_string(op));
    }
  });
}

/** addN(inputs: Float32Array[], out): out = sum of inputs, all the same length. */
Napi::Value AddN(const Napi::CallbackInfo &info) {
  return guarded(info, "addN", [&] {
    if (!info[0].IsArray()) throw Napi::TypeError::New(info.Env(), "addN: inputs must be an array of Float32Array");
    Napi::Array list = info[0].As<Napi::Array>();
    float *out = f32Arg(info, 1, "out");
    size_t n = f32Length(info, 1);
    std::vector<const float *> inputs;
    for (uint32_t k = 0; k < list.Length(); ++k) {
      Napi::Value v = list.Get(k);
      if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array ||
          v.As<Napi::Float32Array>().ElementLength() != n) {
        throw Napi::TypeError::New(info.Env(), "addN: input " + std::to_string(k) + " is not a Float32Array of length " +
                                                   std::to_string(n));
      }
      inputs.push_back(v.As<Napi::Float32Array>().Data());
    }
    if (inputs.empty()) throw std::invalid_argument("addN needs at least one input");
    const size_t count = inputs.size();
    const float *const *in = inputs.data();
#pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN)
    for (size_t i = 0; i < n; ++i) {
      float s = in[0][i];
      for (size_t k = 1; k < count; ++k) s += in[k][i];
      out[i] = s;
    }
  });
}

}  // namespace

void registerElementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("unary", Napi::Function::New(env, UnaryOp, "unary"));
  exports.Set("reluGrad", Napi::Function::New(env, ReluGrad, "reluGrad"));
  exports.Set("binary", Napi::Function::New(env, BinaryOp, "binary"));
  exports.Set("binaryStrided", Napi::Function::New(env, BinaryStrided, "binaryStrided"));
  exports.Set("addN", Napi::Function::New(env, AddN, "addN"));
}

}  // namespace hg
