// Whole-network inference executor (predict() on the native backend without the TF.js engine): a plan built once
// from a description recorded by src/backend/native/plan.ts -- oneDNN convolution primitives with their weights
// reordered once, activations in preallocated buffers reused across calls -- then run with one call per prediction.
//
// Ops: conv (bias, optional ReLU post-op, optional sum post-op onto what the output buffer already holds: the residual
// add and the stack merge), bnRelu (scale-shift + ReLU per channel: the pre-activation batch norm that cannot be folded),
// maxPool 2x2/2, upsampleAdd (out += nearest 2x upsampling of the input: the hourglass's merge), copy and reorder.
// Each value is NHWC or, when the plan asks for it, oneDNN's blocked nChw16c / nChw8c (channel blocks of B,
// [N][C/B][H][W][B], channels padded with zeros up to a multiple of B); the elementwise loops below take both as
// "images of H x W pixels of B channels", NHWC being the case of a single block of B = C channels. NCHW is for
// convolutions only (the 3-channel image into the first convolution, whose fast blocked kernel wants it).
// A plan built with `bf16` runs a convolution on a bf16 copy of its input (one reorder into a shared buffer) with
// bf16 weights, accumulating and writing f32, where oneDNN has a jit bf16 kernel for it and it measured faster than
// the f32 one (f32 3x3s run as Winograd, which bf16 has not). Everything else stays f32. Under setPrecision(.., 'all')
// every convolution with a bf16 kernel takes it (tests).
// Each op also runs either on the whole OpenMP team or on the calling thread alone: at batch 1 most of the network's
// ops are small (an 8x8 or 4x4 map), and waking and joining the team costs more than the second core gives (small
// config, batch 1, bf16: 5.2-5.8 ms on 2 threads against 4.2-4.6 ms on 1). So every way of running an op (precision x
// threads) is built, timed on a few runs of the plan when it is made (VariantTrial), and the fastest kept; a
// convolution's choice is kept for plans built later with the same geometry.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <unordered_map>
#include <vector>

#include "common.h"

namespace hg {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// Below this many elements one thread is faster than waking the OpenMP team.
constexpr size_t PARALLEL_MIN = 1 << 14;

/** Buffer ids in a value description: >= 0 a plan buffer, INPUT the images, OUTPUT the heatmaps returned. */
constexpr int INPUT = -1, OUTPUT = -2;

// Keep in sync with OpKind in src/backend/native/plan.ts.
enum OpKind { CONV = 0, BN_RELU = 1, MAX_POOL = 2, UPSAMPLE_ADD = 3, COPY = 4, REORDER = 5 };

// Keep in sync with Layout in src/backend/native/plan.ts.
enum Layout { NHWC = 0, BLOCKED = 1, NCHW = 2 };

/** One activation: [n, c, h, w] in `layout`, stored in buffer `buffer`. */
struct Value {
  int c, h, w, buffer, layout;
  bool blocked() const { return layout == BLOCKED; }
};

struct FreeDeleter {
  void operator()(void *p) const { std::free(p); }
};

/** Zeroed 64-byte aligned floats (zeros: the padding channels of blocked layouts must read as 0). */
std::unique_ptr<float, FreeDeleter> alignedFloats(size_t count) {
  const size_t bytes = (std::max<size_t>(count, 1) * sizeof(float) + 63) / 64 * 64;
  void *p = std::aligned_alloc(64, bytes);
  if (p == nullptr) throw std::runtime_error("cannot allocate " + std::to_string(bytes) + " bytes for an inference plan");
  std::memset(p, 0, bytes);
  return std::unique_ptr<float, FreeDeleter>(static_cast<float *>(p));
}

#define HG_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

/** y = relu(x * scale + shift) over rows [r0, r1) of `width` floats; row r uses scale/shift at channelOffset(r). */
HG_CLONES void bnReluRows(const float *x, float *y, const float *scale, const float *shift, size_t r0, size_t r1,
                          size_t width, size_t rowsPerImage, size_t blocksPerItem) {
  for (size_t r = r0; r < r1; ++r) {
    const size_t off = ((r / rowsPerImage) % blocksPerItem) * width;
    const float *__restrict__ in = x + r * width;
    float *__restrict__ out = y + r * width;
    const float *__restrict__ s = scale + off;
    const float *__restrict__ b = shift + off;
    for (size_t j = 0; j < width; ++j) {
      const float v = in[j] * s[j] + b[j];
      out[j] = v > 0.f ? v : 0.f;
    }
  }
}

/** 2x2 stride-2 max pooling of output rows [r0, r1) (over all images), `width` floats per pixel. */
HG_CLONES void maxPoolRows(const float *x, float *y, size_t r0, size_t r1, size_t oh, size_t ow, size_t width) {
  const size_t iw = 2 * ow, rowIn = iw * width;
  for (size_t rr = r0; rr < r1; ++rr) {
    const size_t img = rr / oh, r = rr % oh;
    const float *row0 = x + (img * 2 * oh + 2 * r) * rowIn;
    float *out = y + rr * ow * width;
    for (size_t col = 0; col < ow; ++col) {
      const float *__restrict__ a = row0 + 2 * col * width;
      const float *__restrict__ b = a + width;
      const float *__restrict__ c = a + rowIn;
      const float *__restrict__ d = c + width;
      float *__restrict__ o = out + col * width;
      for (size_t k = 0; k < width; ++k) {
        const float ab = a[k] > b[k] ? a[k] : b[k];
        const float cd = c[k] > d[k] ? c[k] : d[k];
        o[k] = ab > cd ? ab : cd;
      }
    }
  }
}

/** y += nearest 2x upsampling of x, for output rows [r0, r1) (over all images), `width` floats per pixel. */
HG_CLONES void upsampleAddRows(const float *x, float *y, size_t r0, size_t r1, size_t oh, size_t ow, size_t width) {
  const size_t ih = oh / 2, iw = ow / 2;
  for (size_t rr = r0; rr < r1; ++rr) {
    const size_t img = rr / oh, r = rr % oh;
    const float *src = x + (img * ih + r / 2) * iw * width;
    float *dst = y + rr * ow * width;
    for (size_t col = 0; col < ow; ++col) {
      const float *__restrict__ in = src + (col / 2) * width;
      float *__restrict__ o = dst + col * width;
      for (size_t k = 0; k < width; ++k) o[k] += in[k];
    }
  }
}

/** Runs its scope on the calling thread alone when `on`: our loops and oneDNN's primitives then start no team. */
class OneThread {
 public:
  explicit OneThread(bool on) : saved_(on ? omp_get_max_threads() : 0) {
    if (saved_ > 1) omp_set_num_threads(1);
  }
  ~OneThread() {
    if (saved_ > 1) omp_set_num_threads(saved_);
  }
  OneThread(const OneThread &) = delete;
  OneThread &operator=(const OneThread &) = delete;

 private:
  int saved_;
};

/** Splits [0, rows) over the OpenMP team when there is enough work, and runs body(r0, r1) on each share. */
template <typename Body>
void parallelRows(size_t rows, size_t elements, Body body) {
  const int nt = elements >= PARALLEL_MIN ? omp_get_max_threads() : 1;
  if (nt == 1) {
    body(size_t{0}, rows);
    return;
  }
#pragma omp parallel num_threads(nt)
  {
    const size_t t = static_cast<size_t>(omp_get_thread_num()), n = static_cast<size_t>(omp_get_num_threads());
    body(rows * t / n, rows * (t + 1) / n);
  }
}

Napi::Value prop(const Napi::Object &o, const char *name) {
  Napi::Value v = o.Get(name);
  if (v.IsUndefined()) throw std::invalid_argument(std::string("inference plan: op field '") + name + "' missing");
  return v;
}

int intProp(const Napi::Object &o, const char *name) {
  Napi::Value v = prop(o, name);
  if (!v.IsNumber()) throw std::invalid_argument(std::string("inference plan: op field '") + name + "' must be a number");
  return v.As<Napi::Number>().Int32Value();
}

Napi::Float32Array floatsProp(const Napi::Object &o, const char *name) {
  Napi::Value v = prop(o, name);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw std::invalid_argument(std::string("inference plan: op field '") + name + "' must be a Float32Array");
  }
  return v.As<Napi::Float32Array>();
}

class Plan {
  /** A convolution's primitive, its weights in the primitive's layout and its arguments, in one precision. */
  struct ConvVariant {
    bool bf16 = false;
    bool single = false;  // built and run on the calling thread alone
    dnnl::convolution_forward::primitive_desc pd;
    dnnl::convolution_forward conv;
    memory weights;
    // bf16: the reorder of the f32 input into the plan's bf16 buffer, run before the convolution
    dnnl::reorder toLow;
    std::unordered_map<int, memory> lowArgs, args;
  };
  /** The way of running that measured fastest, by convolution geometry and plan kind: { bf16, single }. */
  static std::unordered_map<std::string, std::pair<bool, bool>> &planChoices() {
    static std::unordered_map<std::string, std::pair<bool, bool>> choices;
    return choices;
  }
  struct Op {
    int kind = 0, src = 0, dst = 0;
    // conv: variants[0] runs; while the plan is measured, the others are the other ways (measureVariants)
    std::vector<ConvVariant> variants;
    // the other ops: on the calling thread alone (while measured: variant 1)
    bool single = false;
    memory bias;
    std::string choiceKey;
    // reorder
    dnnl::reorder reorder;
    std::unordered_map<int, memory> args;
    // bnRelu: per-channel scale and shift, padded with zeros to whole blocks
    std::vector<float> scale, shift;
  };

 public:
  explicit Plan(const Napi::Object &desc) {
    n_ = intProp(desc, "batch");
    team_ = omp_get_max_threads();
    if (desc.Has("threads")) {
      const std::string mode = desc.Get("threads").ToString().Utf8Value();
      if (mode != "measured" && mode != "team" && mode != "one") {
        throw std::invalid_argument("inference plan: threads must be 'measured', 'team' or 'one', got '" + mode + "'");
      }
      threads_ = mode == "team" ? Threads::team : mode == "one" ? Threads::one : Threads::measured;
    }
    block_ = intProp(desc, "block");
    bf16_ = desc.Has("bf16") && desc.Get("bf16").ToBoolean().Value();
    if (bf16_ && !nativeBf16()) {
      throw std::invalid_argument(std::string("inference plan: bf16 needs native bf16 instructions; oneDNN dispatches ") +
                                  effectiveIsaName());
    }
    if (n_ < 1) throw std::invalid_argument("inference plan: batch must be >= 1");
    if (block_ != 8 && block_ != 16) throw std::invalid_argument("inference plan: block must be 8 or 16");
    Napi::Value vv = prop(desc, "values");
    if (!vv.IsTypedArray() || vv.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
      throw std::invalid_argument("inference plan: values must be an Int32Array");
    }
    Napi::Int32Array va = vv.As<Napi::Int32Array>();
    if (va.ElementLength() % 5 != 0) throw std::invalid_argument("inference plan: values must hold 5 ints per value");
    for (size_t i = 0; i < va.ElementLength(); i += 5) {
      values_.push_back(Value{va[i], va[i + 1], va[i + 2], va[i + 3], va[i + 4]});
    }
    Napi::Value bv = prop(desc, "buffers");
    if (!bv.IsArray()) throw std::invalid_argument("inference plan: buffers must be an array of float counts");
    Napi::Array ba = bv.As<Napi::Array>();
    for (uint32_t i = 0; i < ba.Length(); ++i) {
      Napi::Value size = ba.Get(i);
      if (!size.IsNumber() || size.As<Napi::Number>().Int64Value() < 1) {
        throw std::invalid_argument("inference plan: buffer sizes must be positive numbers");
      }
      bufferSizes_.push_back(static_cast<size_t>(size.As<Napi::Number>().Int64Value()));
    }
    for (const Value &v : values_) {
      if (v.c < 1 || v.h < 1 || v.w < 1) throw std::invalid_argument("inference plan: value with an empty dimension");
      if (v.buffer >= static_cast<int>(bufferSizes_.size()) || v.buffer < OUTPUT) {
        throw std::invalid_argument("inference plan: value with an unknown buffer");
      }
      if (v.buffer >= 0 && bufferSizes_[v.buffer] < floats(v)) {
        throw std::invalid_argument("inference plan: buffer " + std::to_string(v.buffer) + " too small for its value");
      }
      if (v.layout < NHWC || v.layout > NCHW) throw std::invalid_argument("inference plan: unknown layout");
      if (v.buffer < 0 && v.layout != NHWC) throw std::invalid_argument("inference plan: the input and output are NHWC");
      if (v.buffer == INPUT) inputFloats_ = floats(v);
      if (v.buffer == OUTPUT) outputFloats_ = floats(v);
    }
    for (size_t s : bufferSizes_) buffers_.push_back(alignedFloats(s));

    Napi::Value ov = prop(desc, "ops");
    if (!ov.IsArray()) throw std::invalid_argument("inference plan: ops must be an array");
    Napi::Array oa = ov.As<Napi::Array>();
    for (uint32_t i = 0; i < oa.Length(); ++i) addOp(oa.Get(i).As<Napi::Object>());

    // One scratchpad for all primitives (they run one after another), then the primitives' arguments.
    size_t scratch = 0, low = 0;
    for (const Op &op : ops_) {
      for (const ConvVariant &v : op.variants) {
        scratch = std::max(scratch, v.pd.scratchpad_desc().get_size());
        if (v.bf16) low = std::max(low, v.pd.src_desc().get_size());
      }
    }
    scratch_ = alignedFloats(scratch / sizeof(float) + 1);
    if (low > 0) lowSrc_ = alignedFloats(low / sizeof(float) + 1);
    for (Op &op : ops_) bindArgs(op);
    measureVariants();
  }

  void run(float *input, size_t inputLength, float *output, size_t outputLength) {
    if (inputLength != inputFloats_ || outputLength != outputFloats_) {
      throw std::invalid_argument("inference plan: input holds " + std::to_string(inputLength) + " floats (plan: " +
                                  std::to_string(inputFloats_) + "), output " + std::to_string(outputLength) +
                                  " (plan: " + std::to_string(outputFloats_) + ")");
    }
    bindIo(input, output);
    dnnl::stream &s = cpuStream();
    for (Op &op : ops_) runOp(op, s);
    s.wait();
  }

  void bindIo(float *input, float *output) {
    input_ = input;
    output_ = output;
    for (memory &m : inputBound_) m.set_data_handle(input);
    for (memory &m : outputBound_) m.set_data_handle(output);
  }

  /** Ways of running an op that the trial compares. */
  size_t variantCount(const Op &op) const {
    if (op.kind == CONV) return op.variants.size();
    return team_ > 1 && threads_ == Threads::measured ? 2 : 1;
  }

  /** One op; in its variant `variant` (a convolution: variants[variant]; another op: 1 = on this thread alone). */
  void runOp(Op &op, dnnl::stream &s, size_t variant = 0) {
    const bool single = op.kind == CONV ? op.variants[variant].single : variant == 1 || op.single;
    OneThread guard(single);
    switch (op.kind) {
      case CONV: {
        ConvVariant &v = op.variants[variant];
        if (v.bf16) v.toLow.execute(s, v.lowArgs);
        v.conv.execute(s, v.args);
        break;
      }
      case REORDER:
        op.reorder.execute(s, op.args);
        break;
      case BN_RELU:
        s.wait();
        runBnRelu(op);
        break;
      case MAX_POOL:
        s.wait();
        runMaxPool(op);
        break;
      case UPSAMPLE_ADD:
        s.wait();
        runUpsampleAdd(op);
        break;
      case COPY:
        s.wait();
        std::memcpy(ptr(op.dst), ptr(op.src), floats(values_[op.src]) * sizeof(float));
        break;
    }
  }

  /**
   * Each op's ways of running (a convolution's variants, another op's team or single thread) are timed over the runs
   * of a VariantTrial of the whole plan on a zero image (variants taken in turn, run by run). A convolution geometry
   * keeps the variant whose best runs, summed over its convolutions, are fastest, remembered for the plans built
   * after; another op keeps its own fastest.
   */
  void measureVariants() {
    std::vector<VariantTrial> trials(ops_.size());
    int runs = 0;
    for (size_t i = 0; i < ops_.size(); ++i) {
      trials[i].variants = static_cast<int>(variantCount(ops_[i]));
      if (trials[i].variants > 1) runs = std::max(runs, VariantTrial::ROUNDS * trials[i].variants);
    }
    if (runs > 0) {
      std::unique_ptr<float, FreeDeleter> in = alignedFloats(inputFloats_), out = alignedFloats(outputFloats_);
      bindIo(in.get(), out.get());
      dnnl::stream &s = cpuStream();
      for (int run = 0; run < runs; ++run) {
        for (size_t i = 0; i < ops_.size(); ++i) {
          VariantTrial &t = trials[i];
          if (t.variants == 1 || t.decided()) {
            runOp(ops_[i], s);
            continue;
          }
          const int variant = t.next();
          const auto t0 = std::chrono::steady_clock::now();
          runOp(ops_[i], s, static_cast<size_t>(variant));
          s.wait();
          t.record(variant, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        }
      }
      s.wait();
      bindIo(nullptr, nullptr);
    }
    // One choice per convolution geometry (the ops sharing it summed), so that a plan built later from the remembered
    // choices runs exactly this one.
    std::unordered_map<std::string, std::vector<double>> totals;
    for (size_t i = 0; i < ops_.size(); ++i) {
      if (ops_[i].kind != CONV || trials[i].variants == 1) continue;
      std::vector<double> &t = totals[ops_[i].choiceKey];
      t.resize(trials[i].variants, 0.0);
      for (int v = 0; v < trials[i].variants; ++v) t[v] += trials[i].best[v];
    }
    for (size_t i = 0; i < ops_.size(); ++i) {
      Op &op = ops_[i];
      if (op.kind != CONV) {
        if (trials[i].variants > 1) op.single = trials[i].fastest() == 1;
        continue;
      }
      if (op.variants.size() == 1) continue;
      const std::vector<double> &t = totals[op.choiceKey];
      const size_t keep = static_cast<size_t>(std::min_element(t.begin(), t.end()) - t.begin());
      planChoices()[op.choiceKey] = {op.variants[keep].bf16, op.variants[keep].single};
      std::swap(op.variants[0], op.variants[keep]);
      op.variants.resize(1);
    }
  }

  /** { impl per conv op (oneDNN's implementation name), bytes of activations and of weights }. */
  Napi::Object describe(Napi::Env env) const {
    Napi::Object out = Napi::Object::New(env);
    Napi::Array impls = Napi::Array::New(env);
    size_t weightBytes = 0;
    int bf16Convs = 0, singleOps = 0;
    for (const Op &op : ops_) {
      if (op.kind != CONV) {
        if (op.single) ++singleOps;
        continue;
      }
      const ConvVariant &v = op.variants[0];
      impls.Set(impls.Length(), Napi::String::New(env, v.pd.impl_info_str()));
      if (v.bf16) ++bf16Convs;
      if (v.single) ++singleOps;
      weightBytes += v.weights.get_desc().get_size() + op.bias.get_desc().get_size();
    }
    size_t activationBytes = 0;
    for (size_t b : bufferSizes_) activationBytes += b * sizeof(float);
    out.Set("convImpls", impls);
    out.Set("activationBytes", Napi::Number::New(env, static_cast<double>(activationBytes)));
    out.Set("weightBytes", Napi::Number::New(env, static_cast<double>(weightBytes)));
    out.Set("ops", Napi::Number::New(env, static_cast<double>(ops_.size())));
    out.Set("bf16Convs", Napi::Number::New(env, bf16Convs));
    out.Set("singleThreadOps", Napi::Number::New(env, singleOps));
    out.Set("threads", Napi::Number::New(env, team_));
    return out;
  }

 private:
  int n_ = 1, block_ = 16;
  bool bf16_ = false;
  int team_ = 1;           // OpenMP threads when the plan was built
  enum class Threads { measured, team, one } threads_ = Threads::measured;
  std::unique_ptr<float, FreeDeleter> lowSrc_;
  std::vector<Value> values_;
  std::vector<size_t> bufferSizes_;
  std::vector<std::unique_ptr<float, FreeDeleter>> buffers_;
  std::unique_ptr<float, FreeDeleter> scratch_;
  std::vector<Op> ops_;
  std::vector<memory> inputBound_, outputBound_;
  size_t inputFloats_ = 0, outputFloats_ = 0;
  float *input_ = nullptr, *output_ = nullptr;

  /** Channels as stored: padded up to whole blocks in a blocked layout. */
  int storedChannels(const Value &v) const { return v.blocked() ? (v.c + block_ - 1) / block_ * block_ : v.c; }
  size_t floats(const Value &v) const {
    return static_cast<size_t>(n_) * storedChannels(v) * static_cast<size_t>(v.h) * static_cast<size_t>(v.w);
  }
  /** Floats per pixel row of one "image" of the elementwise loops: B blocked, C in NHWC. */
  size_t width(const Value &v) const { return v.blocked() ? static_cast<size_t>(block_) : static_cast<size_t>(v.c); }
  /** Images of the elementwise loops: n * (C / B) blocked, n in NHWC. */
  size_t images(const Value &v) const { return static_cast<size_t>(n_) * (storedChannels(v) / width(v)); }

  memory::desc md(const Value &v, dt type = dt::f32) const {
    const tag t = v.layout == NCHW ? tag::nchw : v.layout == NHWC ? tag::nhwc : block_ == 16 ? tag::nChw16c : tag::nChw8c;
    return memory::desc({n_, v.c, v.h, v.w}, type, t);
  }

  float *ptr(int valueIndex) const {
    const int b = values_[valueIndex].buffer;
    return b == INPUT ? input_ : b == OUTPUT ? output_ : buffers_[b].get();
  }

  const Value &value(int index) const {
    if (index < 0 || index >= static_cast<int>(values_.size())) {
      throw std::invalid_argument("inference plan: op refers to value " + std::to_string(index));
    }
    return values_[index];
  }

  /** A oneDNN memory on a value's buffer (input and output are bound at run time). */
  memory bound(int valueIndex, const memory::desc &d) {
    const int b = values_[valueIndex].buffer;
    if (b >= 0) return memory(d, cpuEngine(), buffers_[b].get());
    memory m(d, cpuEngine(), DNNL_MEMORY_NONE);
    (b == INPUT ? inputBound_ : outputBound_).push_back(m);
    return m;
  }

  void addOp(const Napi::Object &o) {
    Op op;
    op.single = team_ > 1 && threads_ == Threads::one;
    op.kind = intProp(o, "kind");
    op.src = intProp(o, "src");
    op.dst = intProp(o, "dst");
    const Value &src = value(op.src);
    const Value &dst = value(op.dst);
    if (dst.buffer == INPUT) throw std::invalid_argument("inference plan: an op writes the input");
    switch (op.kind) {
      case CONV: makeConv(op, o, src, dst); break;
      case BN_RELU: {
        if (src.c != dst.c || src.h != dst.h || src.w != dst.w || src.layout != dst.layout || src.layout == NCHW) {
          throw std::invalid_argument("inference plan: bnRelu changes the shape or reads NCHW");
        }
        Napi::Float32Array mean = floatsProp(o, "mean"), variance = floatsProp(o, "variance");
        Napi::Float32Array gamma = floatsProp(o, "gamma"), beta = floatsProp(o, "beta");
        const double eps = prop(o, "epsilon").As<Napi::Number>().DoubleValue();
        const size_t c = static_cast<size_t>(src.c);
        if (mean.ElementLength() != c || variance.ElementLength() != c || gamma.ElementLength() != c ||
            beta.ElementLength() != c) {
          throw std::invalid_argument("inference plan: bnRelu parameters must hold one value per channel");
        }
        op.scale.assign(storedChannels(src), 0.f);
        op.shift.assign(storedChannels(src), 0.f);
        // As batchNormInfer (batchnorm.cc) computes them, so both paths round alike.
        for (size_t j = 0; j < c; ++j) {
          const double k = gamma[j] / std::sqrt(static_cast<double>(variance[j]) + eps);
          op.scale[j] = static_cast<float>(k);
          op.shift[j] = static_cast<float>(beta[j] - mean[j] * k);
        }
        break;
      }
      case MAX_POOL:
        if (src.c != dst.c || src.layout != dst.layout || src.layout == NCHW || src.h != 2 * dst.h || src.w != 2 * dst.w) {
          throw std::invalid_argument("inference plan: maxPool must halve an even-sided NHWC or blocked input");
        }
        break;
      case UPSAMPLE_ADD:
        if (src.c != dst.c || src.layout != dst.layout || src.layout == NCHW || dst.h != 2 * src.h || dst.w != 2 * src.w) {
          throw std::invalid_argument("inference plan: upsampleAdd must double an NHWC or blocked input");
        }
        break;
      case COPY:
        if (src.c != dst.c || src.h != dst.h || src.w != dst.w || src.layout != dst.layout) {
          throw std::invalid_argument("inference plan: copy changes the shape");
        }
        break;
      case REORDER:
        if (src.c != dst.c || src.h != dst.h || src.w != dst.w) {
          throw std::invalid_argument("inference plan: reorder changes the shape");
        }
        op.reorder = dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), md(src), cpuEngine(), md(dst)));
        break;
      default:
        throw std::invalid_argument("inference plan: unknown op kind " + std::to_string(op.kind));
    }
    ops_.push_back(std::move(op));
  }

  /** conv: dst (+)= relu?(conv(src, filter HWIO) + bias), padding (k-1)/2 as the model's Conv layer. */
  void makeConv(Op &op, const Napi::Object &o, const Value &src, const Value &dst) {
    const int k = intProp(o, "kernel"), stride = intProp(o, "stride");
    const bool relu = prop(o, "relu").ToBoolean().Value(), accumulate = prop(o, "accumulate").ToBoolean().Value();
    const bool winograd = o.Has("winograd") && o.Get("winograd").ToBoolean().Value();
    Napi::Float32Array filter = floatsProp(o, "filter"), bias = floatsProp(o, "bias");
    const int pad = (k - 1) / 2;
    const int oh = (src.h + 2 * pad - k) / stride + 1, ow = (src.w + 2 * pad - k) / stride + 1;
    if (k < 1 || stride < 1 || oh != dst.h || ow != dst.w) {
      throw std::invalid_argument("inference plan: conv output is " + std::to_string(dst.h) + "x" +
                                  std::to_string(dst.w) + ", its geometry gives " + std::to_string(oh) + "x" +
                                  std::to_string(ow));
    }
    if (filter.ElementLength() != static_cast<size_t>(k) * k * src.c * dst.c || bias.ElementLength() != static_cast<size_t>(dst.c)) {
      throw std::invalid_argument("inference plan: conv filter must be [k, k, in, out] and bias [out]");
    }
    // Pad only what the last window reaches (as kernels/conv.ts usedPadding): oneDNN takes the declared value literally.
    const int padB = std::max(0, std::min(pad, (oh - 1) * stride + k - src.h - pad));
    const int padR = std::max(0, std::min(pad, (ow - 1) * stride + k - src.w - pad));
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    dnnl::post_ops post;
    if (accumulate) post.append_sum(1.f);
    if (relu) post.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(post);
    const memory::desc biasMd({dst.c}, dt::f32, tag::a);
    auto makeAs = [&](dnnl::algorithm algo, dt in) {
      const memory::desc weightsAny({dst.c, src.c, k, k}, in, tag::any);
      dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, algo, md(src, in), weightsAny, biasMd,
                                        md(dst), {stride, stride}, {0, 0}, {pad, pad}, {padB, padR});
      return dnnl::convolution_forward::primitive_desc(d, attr, cpuEngine());
    };
    // Weights: HWIO from TS, reordered once into each variant's layout.
    const memory::desc user({dst.c, src.c, k, k}, dt::f32, tag::hwio);
    memory userMem(user, cpuEngine(), filter.Data());
    auto variant = [&](const dnnl::convolution_forward::primitive_desc &pd, bool low) {
      ConvVariant v;
      v.bf16 = low;
      v.pd = pd;
      v.conv = dnnl::convolution_forward(pd);
      if (low) v.toLow = dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), md(src), cpuEngine(), pd.src_desc()));
      v.weights = memory(pd.weights_desc(), cpuEngine());
      dnnl::reorder(userMem, v.weights).execute(cpuStream(), userMem, v.weights);
      return v;
    };
    // bf16 only where oneDNN has a jit kernel for this case (no reference fallbacks).
    bool bf16 = false;
    dnnl::convolution_forward::primitive_desc lowPd;  // built on the team: the bf16 team variant's
    if (bf16_) {
      try {
        lowPd = makeAs(dnnl::algorithm::convolution_direct, dt::bf16);
        bf16 = std::string(lowPd.impl_info_str()).find("ref") == std::string::npos;
      } catch (const dnnl::error &) {
        bf16 = false;
      }
    }
    op.choiceKey = std::to_string(n_) + ":" + std::to_string(src.c) + "x" + std::to_string(src.h) + "x" +
                   std::to_string(src.w) + "/" + std::to_string(src.layout) + ">" + std::to_string(dst.c) + "/" +
                   std::to_string(dst.layout) + ":k" + std::to_string(k) + "s" + std::to_string(stride) +
                   (relu ? "r" : "") + (accumulate ? "a" : "") + (winograd ? "w" : "") + "b" + std::to_string(block_) +
                   (bf16_ ? (bf16AllLayers() ? "B" : "m") : "f") + "t" + std::to_string(team_) +
                   (threads_ == Threads::measured ? "" : threads_ == Threads::team ? "T" : "O");
    // Every way while this geometry is unmeasured (measureVariants keeps one), else the one that measured fastest.
    const auto known = planChoices().find(op.choiceKey);
    const bool all = bf16AllLayers();
    auto f32Pd = [&] {
      if (winograd) {
        try {
          return makeAs(dnnl::algorithm::convolution_winograd, dt::f32);
        } catch (const dnnl::error &) {
          // no Winograd implementation here
        }
      }
      return makeAs(dnnl::algorithm::convolution_direct, dt::f32);
    };
    std::vector<std::pair<bool, bool>> ways;  // { bf16, single }
    for (const bool single : {false, true}) {
      if (single ? team_ == 1 || threads_ == Threads::team : team_ > 1 && threads_ == Threads::one) continue;
      for (const bool low : {true, false}) {
        if (low ? bf16 : !(bf16 && all)) ways.emplace_back(low, single);
      }
    }
    if (known != planChoices().end() && std::find(ways.begin(), ways.end(), known->second) != ways.end()) {
      ways = {known->second};
    }
    for (const auto &[low, single] : ways) {
      OneThread guard(single);
      const auto pd = !low ? f32Pd() : single ? makeAs(dnnl::algorithm::convolution_direct, dt::bf16) : lowPd;
      ConvVariant v = variant(pd, low);
      v.single = single;
      op.variants.push_back(std::move(v));
    }
    op.bias = memory(biasMd, cpuEngine());
    std::memcpy(op.bias.get_data_handle(), bias.Data(), static_cast<size_t>(dst.c) * sizeof(float));
    cpuStream().wait();
  }

  void bindArgs(Op &op) {
    for (ConvVariant &v : op.variants) {
      memory in = v.bf16 ? memory(v.pd.src_desc(), cpuEngine(), lowSrc_.get()) : bound(op.src, v.pd.src_desc());
      if (v.bf16) v.lowArgs = {{DNNL_ARG_FROM, bound(op.src, md(values_[op.src]))}, {DNNL_ARG_TO, in}};
      v.args = {
          {DNNL_ARG_SRC, in},
          {DNNL_ARG_WEIGHTS, v.weights},
          {DNNL_ARG_BIAS, op.bias},
          {DNNL_ARG_DST, bound(op.dst, v.pd.dst_desc())},
          {DNNL_ARG_SCRATCHPAD, memory(v.pd.scratchpad_desc(), cpuEngine(), scratch_.get())},
      };
    }
    if (op.kind == REORDER) {
      op.args = {{DNNL_ARG_FROM, bound(op.src, md(values_[op.src]))}, {DNNL_ARG_TO, bound(op.dst, md(values_[op.dst]))}};
    }
  }

  void runBnRelu(const Op &op) {
    const Value &v = values_[op.src];
    const float *x = ptr(op.src);
    float *y = ptr(op.dst);
    const size_t w = width(v), hw = static_cast<size_t>(v.h) * v.w, rows = images(v) * hw;
    const size_t blocks = storedChannels(v) / w;
    const float *scale = op.scale.data(), *shift = op.shift.data();
    parallelRows(rows, rows * w, [&](size_t r0, size_t r1) { bnReluRows(x, y, scale, shift, r0, r1, w, hw, blocks); });
  }

  void runMaxPool(const Op &op) {
    const Value &out = values_[op.dst];
    const float *x = ptr(op.src);
    float *y = ptr(op.dst);
    const size_t w = width(out), oh = out.h, ow = out.w, rows = images(out) * oh;
    parallelRows(rows, rows * ow * w * 4, [&](size_t r0, size_t r1) { maxPoolRows(x, y, r0, r1, oh, ow, w); });
  }

  void runUpsampleAdd(const Op &op) {
    const Value &out = values_[op.dst];
    const float *x = ptr(op.src);
    float *y = ptr(op.dst);
    const size_t w = width(out), oh = out.h, ow = out.w, rows = images(out) * oh;
    parallelRows(rows, rows * ow * w, [&](size_t r0, size_t r1) { upsampleAddRows(x, y, r0, r1, oh, ow, w); });
  }
};

/** The JS handle of a plan: freed by freeInferPlan or, failing that, when the handle is garbage collected. */
struct PlanHolder {
  std::unique_ptr<Plan> plan;
};

Plan &planArg(const Napi::CallbackInfo &info) {
  if (!info[0].IsExternal()) throw Napi::TypeError::New(info.Env(), "argument plan must be an inference plan handle");
  PlanHolder *h = info[0].As<Napi::External<PlanHolder>>().Data();
  if (!h->plan) throw Napi::Error::New(info.Env(), "inference plan already freed");
  return *h->plan;
}

/** createInferPlan(desc) -> handle: see src/backend/native/addon.ts (InferPlanDescription) for the fields. */
Napi::Value CreateInferPlan(const Napi::CallbackInfo &info) {
  Napi::Value result;
  guarded(info, "createInferPlan", [&] {
    if (!info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "createInferPlan: desc must be an object");
    auto *holder = new PlanHolder{std::make_unique<Plan>(info[0].As<Napi::Object>())};
    result = Napi::External<PlanHolder>::New(info.Env(), holder, [](Napi::Env, PlanHolder *h) { delete h; });
  });
  return result;
}

/** runInferPlan(plan, images: Float32Array NHWC, heatmaps: Float32Array NHWC). */
Napi::Value RunInferPlan(const Napi::CallbackInfo &info) {
  return guarded(info, "runInferPlan", [&] {
    Plan &plan = planArg(info);
    float *x = f32Arg(info, 1, "images");
    float *y = f32Arg(info, 2, "heatmaps");
    plan.run(x, f32Length(info, 1), y, f32Length(info, 2));
  });
}

/** freeInferPlan(plan): releases its buffers, weights and primitives now (idempotent). */
Napi::Value FreeInferPlan(const Napi::CallbackInfo &info) {
  return guarded(info, "freeInferPlan", [&] {
    if (!info[0].IsExternal()) throw Napi::TypeError::New(info.Env(), "argument plan must be an inference plan handle");
    info[0].As<Napi::External<PlanHolder>>().Data()->plan.reset();
  });
}

/** describeInferPlan(plan) -> { convImpls, activationBytes, weightBytes, ops }. */
Napi::Value DescribeInferPlan(const Napi::CallbackInfo &info) {
  Napi::Value result;
  guarded(info, "describeInferPlan", [&] { result = planArg(info).describe(info.Env()); });
  return result;
}

}  // namespace

void registerInfer(Napi::Env env, Napi::Object exports) {
  exports.Set("createInferPlan", Napi::Function::New(env, CreateInferPlan, "createInferPlan"));
  exports.Set("runInferPlan", Napi::Function::New(env, RunInferPlan, "runInferPlan"));
  exports.Set("freeInferPlan", Napi::Function::New(env, FreeInferPlan, "freeInferPlan"));
  exports.Set("describeInferPlan", Napi::Function::New(env, DescribeInferPlan, "describeInferPlan"));
}

}  // namespace hg
