// Shared helpers of the native backend: the oneDNN engine/stream singletons, argument unpacking from
// JS typed arrays (pointers into the tensors' own buffers, never copies) and a user-managed scratchpad.
#pragma once
#include <napi.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <dnnl.hpp>
#include <mutex>
#include <string>

namespace hg {

dnnl::engine &cpuEngine();
dnnl::stream &cpuStream();

/** One scratchpad shared by all primitives (they run one at a time on the main thread); grows on demand. */
void *scratchpad(size_t bytes);
/** Two more grow-on-demand buffers (slot 0 or 1), for activations reordered to or from a blocked layout. */
void *workspace(int slot, size_t bytes);
/** Wraps the shared scratchpad as a oneDNN memory for `pd`'s scratchpad descriptor. */
dnnl::memory scratchpadMemory(const dnnl::memory::desc &md);

/** Pointer into a Float32Array argument (its own buffer, honouring byteOffset); throws a TypeError otherwise. */
float *f32Arg(const Napi::CallbackInfo &info, size_t i, const char *name);
/** Same, but `null`/`undefined` give nullptr. */
float *f32ArgOrNull(const Napi::CallbackInfo &info, size_t i, const char *name);
/** Element count of a Float32Array argument. */
size_t f32Length(const Napi::CallbackInfo &info, size_t i);
/**
 * Throws (naming the operation and the argument) unless the Float32Array argument i holds exactly `count` values:
 * kernels write by the shapes they are given, so an output shorter than its shape says would be written past its end.
 */
void expectLength(const Napi::CallbackInfo &info, size_t i, size_t count, const char *op, const char *name);
/** Pointer to an Int32Array argument holding at least `minLength` values. */
const int32_t *i32Arg(const Napi::CallbackInfo &info, size_t i, size_t minLength, const char *name);
double numberArg(const Napi::CallbackInfo &info, size_t i, const char *name);

/** Cache key made of raw ints (shapes and flags). */
std::string keyOf(const int32_t *values, size_t count, int tag);

/** Serialises kernels: the caches, stream and scratchpad are shared if worker threads load the addon too. */
std::mutex &kernelMutex();

/** Runs `body` under the kernel lock, turning oneDNN and std exceptions into JS errors naming the operation. */
template <typename F>
Napi::Value guarded(const Napi::CallbackInfo &info, const char *op, F body) {
  std::lock_guard<std::mutex> lock(kernelMutex());
  try {
    body();
  } catch (const Napi::Error &) {
    throw;
  } catch (const dnnl::error &e) {
    throw Napi::Error::New(info.Env(), std::string("native ") + op + ": oneDNN error " +
                                           std::to_string(static_cast<int>(e.status)) + ": " + e.what());
  } catch (const std::exception &e) {
    throw Napi::Error::New(info.Env(), std::string("native ") + op + ": " + e.what());
  }
  return info.Env().Undefined();
}

/**
 * precision.cc: the one precision switch of the training kernels. bf16: convolutions (forward, backward-data,
 * backward-weights) read bf16 copies of their f32 inputs and weights and accumulate and write f32; everything
 * else (weights, optimiser slots, batch norm, loss) stays f32. Set only where nativeBf16() holds.
 */
enum class Precision { f32 = 0, bf16 = 1 };
Precision convPrecision();
/** Whether oneDNN dispatches an ISA with native bf16 instructions (avx512_core_bf16 or AMX), not an emulation. */
bool nativeBf16();
/** oneDNN's name for the ISA it dispatches (dnnl::get_effective_cpu_isa). */
const char *effectiveIsaName();
enum class Bf16Layers { measured, all };
/** Whether bf16 runs for every convolution that has a bf16 kernel (setPrecision(.., 'all')), not only measured ones. */
bool bf16AllLayers();
/**
 * The trial schedule of a measured choice between a few ways of running the same work (training passes: f32 or
 * bf16, LayerPrecision, per call; the inference plan's ops: precision and thread count, per run of the plan):
 * variants taken in turn, ROUNDS runs of each; the first run of each builds its primitive and is not counted; the
 * variant with the fastest counted run wins.
 */
struct VariantTrial {
  static constexpr int ROUNDS = 3;
  static constexpr int MAX_VARIANTS = 4;
  int variants = 2;
  int runs = 0;
  double best[MAX_VARIANTS] = {1e300, 1e300, 1e300, 1e300};  // fastest counted run of each variant
  bool decided() const { return runs >= ROUNDS * variants; }
  /** The variant the next trial runs. */
  int next() const { return runs % variants; }
  void record(int variant, double ms) {
    if (runs >= variants) best[variant] = std::min(best[variant], ms);
    ++runs;
  }
  int fastest() const { return static_cast<int>(std::min_element(best, best + variants) - best); }
};
/**
 * The precision of one call of one convolution pass (`key`: the pass and its geometry): f32 under Precision::f32;
 * under bf16, the faster of the two as measured on the pass's first calls (PrecisionTrial), or bf16 for every pass
 * (setPrecision(.., 'all')). Construct before the work, call done() after it succeeded (it times the trial calls).
 */
struct LayerPrecision {
  explicit LayerPrecision(const std::string &key);
  void done();
  bool bf16;

 private:
  VariantTrial *trial;  // while this pass is still being measured (variant 0 bf16, 1 f32)
  const std::chrono::steady_clock::time_point start;
};
/** Copies `count` floats into `out` as bf16 (round to nearest even), on the OpenMP team for large counts. */
void toBf16(const float *in, uint16_t *out, size_t count);

/** gemm.cc: 1x1 stride-1 unpadded convolution backward passes on NHWC rows; db may be null. */
void gemmBackwardData(const float *dy, const float *w, float *dx, int64_t rows, int64_t ic, int64_t oc);
void gemmBackwardWeights(const float *x, const float *dy, float *dw, float *db, int64_t rows, int64_t ic, int64_t oc);
/** The same two in bf16 (inputs rounded to bf16, f32 accumulation and results), for Precision::bf16. */
void gemmBackwardDataBf16(const float *dy, const float *w, float *dx, int64_t rows, int64_t ic, int64_t oc);
void gemmBackwardWeightsBf16(const float *x, const float *dy, float *dw, float *db, int64_t rows, int64_t ic, int64_t oc);
/** db[c] = sum over rows of dy[row, c]. */
void biasGradient(const float *dy, float *db, int64_t rows, int64_t channels);

void registerConv(Napi::Env env, Napi::Object exports);
void registerBatchNorm(Napi::Env env, Napi::Object exports);
void registerElementwise(Napi::Env env, Napi::Object exports);
void registerPool(Napi::Env env, Napi::Object exports);
void registerReduce(Napi::Env env, Napi::Object exports);
void registerOptim(Napi::Env env, Napi::Object exports);
void registerInfer(Napi::Env env, Napi::Object exports);
void registerPrecision(Napi::Env env, Napi::Object exports);

}  // namespace hg
