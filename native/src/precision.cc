// The native backend's precision switch (fp32 or bf16 convolutions in training), what oneDNN dispatches on this CPU,
// and the f32 -> bf16 rounding the bf16 paths use for their inputs.
#include <omp.h>

#include <cstdlib>

#include "common.h"

namespace hg {

namespace {

Precision current = Precision::f32;

#define HG_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

/** Round to nearest even; NaNs stay (quiet) NaNs. */
HG_CLONES void roundRange(const float *in, uint16_t *out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, &in[i], sizeof bits);
    const bool nan = (bits & 0x7fffffffu) > 0x7f800000u;
    const uint32_t rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
    out[i] = nan ? static_cast<uint16_t>((bits >> 16) | 0x40u) : static_cast<uint16_t>(rounded);
  }
}

}  // namespace

Precision convPrecision() { return current; }

const char *effectiveIsaName() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "other";
  }
}

bool nativeBf16() {
  const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
  return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
}

/**
 * Measured per layer of the small and paper2 networks with oneDNN 2.6 on avx512_core_bf16 (a bf16 pass also pays a
 * reorder of its f32 inputs): 3x3 forward and backward-data gain 1.3-2x from 8x8 maps up; 3x3 backward-weights only
 * from 32x32 (below, oneDNN's jit_bf16 kernel is 10-100x slower than f32); 1x1 layers gain 1.2-1.9x when both sides
 * have 32+ channels, and lose on the 16-channel heatmap convolutions; the 3-channel stem's backward-weights loses.
 * HOURGLASS_NATIVE_BF16=all takes bf16 for every pass (kernel tests, profiling).
 */
bool bf16Pays(ConvPass pass, int kh, int kw, int ic, int oc, int oh, int ow) {
  static const bool all = [] {
    const char *v = std::getenv("HOURGLASS_NATIVE_BF16");
    return v != nullptr && std::string(v) == "all";
  }();
  if (all) return true;
  if (kh == 1 && kw == 1) return ic >= 32 && oc >= 32;
  if (pass == ConvPass::backwardWeights) return ic >= 16 && oh >= 32 && ow >= 32;
  return static_cast<int64_t>(oh) * ow >= 64;
}

void toBf16(const float *in, uint16_t *out, size_t count) {
  constexpr size_t PARALLEL_MIN = 1 << 16;
  if (count < PARALLEL_MIN) {
    roundRange(in, out, count);
    return;
  }
#pragma omp parallel
  {
    const size_t t = static_cast<size_t>(omp_get_thread_num()), nt = static_cast<size_t>(omp_get_num_threads());
    const size_t b = count * t / nt, e = count * (t + 1) / nt;
    roundRange(in + b, out + b, e - b);
  }
}

namespace {

/** setPrecision('fp32' | 'bf16'): bf16 only where nativeBf16(), otherwise an error naming the ISA. */
Napi::Value SetPrecision(const Napi::CallbackInfo &info) {
  if (!info[0].IsString()) throw Napi::TypeError::New(info.Env(), "setPrecision: precision must be 'fp32' or 'bf16'");
  const std::string p = info[0].As<Napi::String>().Utf8Value();
  std::lock_guard<std::mutex> lock(kernelMutex());
  if (p == "fp32") {
    current = Precision::f32;
  } else if (p == "bf16") {
    if (!nativeBf16()) {
      throw Napi::Error::New(info.Env(), std::string("bf16 needs native bf16 instructions (avx512_bf16 or amx_bf16); oneDNN dispatches ") +
                                             effectiveIsaName() + " on this CPU");
    }
    current = Precision::bf16;
  } else {
    throw Napi::TypeError::New(info.Env(), "setPrecision: precision must be 'fp32' or 'bf16', got '" + p + "'");
  }
  return info.Env().Undefined();
}

/** { precision, nativeBf16, isa }. */
Napi::Value PrecisionInfo(const Napi::CallbackInfo &info) {
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("precision", current == Precision::bf16 ? "bf16" : "fp32");
  out.Set("nativeBf16", nativeBf16());
  out.Set("isa", effectiveIsaName());
  return out;
}

}  // namespace

void registerPrecision(Napi::Env env, Napi::Object exports) {
  exports.Set("setPrecision", Napi::Function::New(env, SetPrecision, "setPrecision"));
  exports.Set("precisionInfo", Napi::Function::New(env, PrecisionInfo, "precisionInfo"));
}

}  // namespace hg
