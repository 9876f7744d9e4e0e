// Pointwise (1x1, stride 1, unpadded) convolution backward passes as plain GEMMs over NHWC rows, and the bias
// gradient (column sums of dy). oneDNN 2.6's jit_1x1 backward-weights with NHWC measured 10-40x slower than sgemm.
// In bf16 the same products run as oneDNN matmuls on bf16 copies of the operands (f32 accumulation and result).
#include <omp.h>

#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "common.h"

namespace hg {

namespace {

void check(dnnl_status_t status, const char *what) {
  if (status != dnnl_success) throw std::runtime_error(std::string(what) + ": dnnl_sgemm failed");
}

#define HG_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

/** acc[j] += sum of rows [r0, r1) of dy[:, j], summing blocks of rows in float and the blocks in double. */
HG_CLONES void columnSums(const float *dy, int64_t r0, int64_t r1, int64_t c, double *acc, float *block) {
  constexpr int64_t BLOCK = 256;
  for (int64_t b = r0; b < r1; b += BLOCK) {
    const int64_t e = b + BLOCK < r1 ? b + BLOCK : r1;
    for (int64_t j = 0; j < c; ++j) block[j] = 0.f;
    for (int64_t i = b; i < e; ++i) {
      const float *row = dy + i * c;
      for (int64_t j = 0; j < c; ++j) block[j] += row[j];
    }
    for (int64_t j = 0; j < c; ++j) acc[j] += block[j];
  }
}

}  // namespace

void biasGradient(const float *dy, float *db, int64_t rows, int64_t channels) {
  const int threads = rows * channels >= (1 << 15) ? omp_get_max_threads() : 1;
  std::vector<double> partial(static_cast<size_t>(threads * channels), 0.0);
  std::vector<float> blocks(static_cast<size_t>(threads * channels));
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t r0 = rows * t / nt, r1 = rows * (t + 1) / nt;
    columnSums(dy, r0, r1, channels, partial.data() + t * channels, blocks.data() + t * channels);
  }
  for (int64_t j = 0; j < channels; ++j) {
    double s = 0;
    for (int t = 0; t < threads; ++t) s += partial[static_cast<size_t>(t * channels + j)];
    db[j] = static_cast<float>(s);
  }
}

void gemmBackwardData(const float *dy, const float *w, float *dx, int64_t rows, int64_t ic, int64_t oc) {
  // dx[rows, ic] = dy[rows, oc] x w^T, w being HWIO = [ic, oc] row-major.
  check(dnnl_sgemm('N', 'T', rows, ic, oc, 1.f, dy, oc, w, oc, 0.f, dx, ic), "pointwise backward data");
}

void gemmBackwardWeights(const float *x, const float *dy, float *dw, float *db, int64_t rows, int64_t ic, int64_t oc) {
  // dw[ic, oc] = x[rows, ic]^T x dy[rows, oc].
  check(dnnl_sgemm('T', 'N', ic, oc, rows, 1.f, x, ic, dy, oc, 0.f, dw, oc), "pointwise backward weights");
  if (db != nullptr) biasGradient(dy, db, rows, oc);
}

namespace {

using dnnl::memory;
using dt = memory::data_type;

/** dst[m, n] (f32, row-major) = A[m, k] x B[k, n], A and B bf16 given by their dims and strides. */
struct Bf16Matmul {
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul prim;
  Bf16Matmul(const memory::desc &a, const memory::desc &b, const memory::desc &c)
      : pd(makePd(a, b, c)), prim(pd) {}
  static dnnl::matmul::primitive_desc makePd(const memory::desc &a, const memory::desc &b, const memory::desc &c) {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    return dnnl::matmul::primitive_desc(dnnl::matmul::desc(a, b, c), attr, cpuEngine());
  }
  void run(void *a, void *b, float *c) {
    prim.execute(cpuStream(), {{DNNL_ARG_SRC, memory(pd.src_desc(), cpuEngine(), a)},
                               {DNNL_ARG_WEIGHTS, memory(pd.weights_desc(), cpuEngine(), b)},
                               {DNNL_ARG_DST, memory(pd.dst_desc(), cpuEngine(), c)},
                               {DNNL_ARG_SCRATCHPAD, scratchpadMemory(pd.scratchpad_desc())}});
    cpuStream().wait();
  }
};

/** A row-major [rows, cols] matrix, or with `transposed` the transpose of a row-major [cols, rows] one. */
memory::desc matrix(int64_t rows, int64_t cols, dt type, bool transposed) {
  return transposed ? memory::desc({rows, cols}, type, memory::dims{1, rows})
                    : memory::desc({rows, cols}, type, memory::dims{cols, 1});
}

Bf16Matmul &matmulFor(int64_t m, int64_t k, int64_t n, bool aT, bool bT) {
  static std::unordered_map<std::string, std::unique_ptr<Bf16Matmul>> cache;
  const int32_t v[5] = {static_cast<int32_t>(m), static_cast<int32_t>(k), static_cast<int32_t>(n), aT, bT};
  const std::string key = keyOf(v, 5, 0);
  auto it = cache.find(key);
  if (it != cache.end()) return *it->second;
  auto *e = new Bf16Matmul(matrix(m, k, dt::bf16, aT), matrix(k, n, dt::bf16, bT), matrix(m, n, dt::f32, false));
  cache.emplace(key, std::unique_ptr<Bf16Matmul>(e));
  return *e;
}

/** A bf16 copy of `count` floats in workspace `slot`. */
uint16_t *bf16Copy(const float *p, size_t count, int slot) {
  auto *out = static_cast<uint16_t *>(workspace(slot, count * sizeof(uint16_t)));
  toBf16(p, out, count);
  return out;
}

/** A bf16 copy of a (small) filter, kept in its own buffer: the two workspace slots hold the activations. */
uint16_t *filterCopy(const float *w, size_t count) {
  static std::vector<uint16_t> buffer;
  if (buffer.size() < count) buffer.resize(count);
  toBf16(w, buffer.data(), count);
  return buffer.data();
}

}  // namespace

void gemmBackwardDataBf16(const float *dy, const float *w, float *dx, int64_t rows, int64_t ic, int64_t oc) {
  // dx[rows, ic] = dy[rows, oc] x w^T, w being [ic, oc] row-major.
  uint16_t *a = bf16Copy(dy, static_cast<size_t>(rows * oc), 0);
  uint16_t *b = filterCopy(w, static_cast<size_t>(ic * oc));
  matmulFor(rows, oc, ic, false, true).run(a, b, dx);
}

void gemmBackwardWeightsBf16(const float *x, const float *dy, float *dw, float *db, int64_t rows, int64_t ic, int64_t oc) {
  // dw[ic, oc] = x[rows, ic]^T x dy[rows, oc].
  uint16_t *a = bf16Copy(x, static_cast<size_t>(rows * ic), 0);
  uint16_t *b = bf16Copy(dy, static_cast<size_t>(rows * oc), 1);
  matmulFor(ic, rows, oc, true, false).run(a, b, dw);
  if (db != nullptr) biasGradient(dy, db, rows, oc);
}

}  // namespace hg
