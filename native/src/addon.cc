// Entry point of the hourglass native addon: module registration, the oneDNN engine and stream, the
// shared scratchpad, and argument helpers. Kernels live in conv.cc, batchnorm.cc, elementwise.cc, pool.cc, reduce.cc, optim.cc,
// precision.cc; the whole-network inference executor in infer.cc.
#include <malloc.h>
#include <omp.h>

#include <cstdlib>
#include <memory>

#include "common.h"

namespace hg {

dnnl::engine &cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream &cpuStream() {
  static dnnl::stream stream(cpuEngine());
  return stream;
}

std::mutex &kernelMutex() {
  static std::mutex m;
  return m;
}

namespace {
struct FreeDeleter {
  void operator()(void *p) const { std::free(p); }
};
std::unique_ptr<void, FreeDeleter> scratchBuffer;
size_t scratchBytes = 0;
}  // namespace

void *scratchpad(size_t bytes) {
  if (bytes > scratchBytes) {
    size_t rounded = (bytes + 4095) / 4096 * 4096;
    void *p = std::aligned_alloc(64, rounded);
    if (p == nullptr) throw std::runtime_error("cannot allocate " + std::to_string(rounded) + " bytes of scratchpad");
    scratchBuffer.reset(p);
    scratchBytes = rounded;
  }
  return scratchBuffer.get();
}

void *workspace(int slot, size_t bytes) {
  static std::unique_ptr<void, FreeDeleter> buffers[2];
  static size_t sizes[2] = {0, 0};
  if (slot < 0 || slot > 1) throw std::out_of_range("workspace slot must be 0 or 1");
  if (bytes > sizes[slot]) {
    size_t rounded = (bytes + 4095) / 4096 * 4096;
    void *p = std::aligned_alloc(64, rounded);
    if (p == nullptr) throw std::runtime_error("cannot allocate " + std::to_string(rounded) + " bytes of workspace");
    buffers[slot].reset(p);
    sizes[slot] = rounded;
  }
  return buffers[slot].get();
}

dnnl::memory scratchpadMemory(const dnnl::memory::desc &md) {
  return dnnl::memory(md, cpuEngine(), scratchpad(md.get_size()));
}

float *f32Arg(const Napi::CallbackInfo &info, size_t i, const char *name) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(info.Env(), std::string("argument ") + name + " must be a Float32Array");
  }
  return v.As<Napi::Float32Array>().Data();
}

float *f32ArgOrNull(const Napi::CallbackInfo &info, size_t i, const char *name) {
  Napi::Value v = info[i];
  if (v.IsNull() || v.IsUndefined()) return nullptr;
  return f32Arg(info, i, name);
}

size_t f32Length(const Napi::CallbackInfo &info, size_t i) { return info[i].As<Napi::Float32Array>().ElementLength(); }

void expectLength(const Napi::CallbackInfo &info, size_t i, size_t count, const char *op, const char *name) {
  const size_t length = f32Length(info, i);
  if (length != count) {
    throw std::invalid_argument(std::string(op) + ": " + name + " holds " + std::to_string(length) +
                                " values, its shape " + std::to_string(count));
  }
}

const int32_t *i32Arg(const Napi::CallbackInfo &info, size_t i, size_t minLength, const char *name) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw Napi::TypeError::New(info.Env(), std::string("argument ") + name + " must be an Int32Array");
  }
  Napi::Int32Array a = v.As<Napi::Int32Array>();
  if (a.ElementLength() < minLength) {
    throw Napi::RangeError::New(info.Env(), std::string("argument ") + name + " needs " + std::to_string(minLength) +
                                                " values, got " + std::to_string(a.ElementLength()));
  }
  return a.Data();
}

double numberArg(const Napi::CallbackInfo &info, size_t i, const char *name) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string("argument ") + name + " must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

std::string keyOf(const int32_t *values, size_t count, int tag) {
  std::string key(sizeof(int) + count * sizeof(int32_t), '\0');
  std::memcpy(&key[0], &tag, sizeof(int));
  std::memcpy(&key[sizeof(int)], values, count * sizeof(int32_t));
  return key;
}

namespace {

/** { onednn: 'x.y.z', threads, isa } — what the backend runs on, for logs and the bench. */
Napi::Value Info(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  const dnnl_version_t *v = dnnl::version();
  Napi::Object out = Napi::Object::New(env);
  out.Set("onednn", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
  out.Set("threads", omp_get_max_threads());
  out.Set("isa", effectiveIsaName());
  return out;
}

/** setNumThreads(n): OpenMP threads used by oneDNN and by our own loops. */
Napi::Value SetNumThreads(const Napi::CallbackInfo &info) {
  int n = static_cast<int>(numberArg(info, 0, "n"));
  if (n < 1) throw Napi::RangeError::New(info.Env(), "setNumThreads: n must be >= 1");
  omp_set_num_threads(n);
  return info.Env().Undefined();
}

/**
 * Tensors come and go by the hundred per training step. glibc serves blocks above 128 KiB with fresh mmap()s and
 * returns them on free, so every new tensor page-faults its pages in (measured: a 2 MiB output costs 3-4x the
 * kernel itself). Keeping blocks up to 32 MiB on the heap and not trimming it lets freed tensor memory be reused,
 * as PyTorch's caching allocator does. HOURGLASS_NATIVE_MALLOC=system keeps glibc's defaults.
 */
bool tuneMalloc() {
  const char *mode = std::getenv("HOURGLASS_NATIVE_MALLOC");
  if (mode != nullptr && std::string(mode) == "system") return false;
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  return true;
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  static const bool mallocTuned = tuneMalloc();
  exports.Set("mallocTuned", Napi::Boolean::New(env, mallocTuned));
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  registerConv(env, exports);
  registerBatchNorm(env, exports);
  registerElementwise(env, exports);
  registerPool(env, exports);
  registerReduce(env, exports);
  registerOptim(env, exports);
  registerInfer(env, exports);
  registerPrecision(env, exports);
  return exports;
}

}  // namespace hg

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return hg::Init(env, exports); }

NODE_API_MODULE(hourglass_native, InitAddon)
