// Max pooling (forward and gradient) and nearest-neighbour resize (forward and gradient) on NHWC tensors,
// as OpenMP loops. Max ties go to the first maximum in row-major window order, as in TF.js's cpu kernel.
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "common.h"

namespace hg {
namespace {

/** Geometry from TS: [n, ih, iw, c, kh, kw, oh, ow, sh, sw, padTop, padLeft]. */
struct PoolGeometry {
  int n, ih, iw, c, kh, kw, oh, ow, sh, sw, pt, pl;
  static constexpr size_t COUNT = 12;
  explicit PoolGeometry(const int32_t *v)
      : n(v[0]), ih(v[1]), iw(v[2]), c(v[3]), kh(v[4]), kw(v[5]), oh(v[6]), ow(v[7]), sh(v[8]), sw(v[9]), pt(v[10]),
        pl(v[11]) {}
  size_t xIndex(int b, int r, int col) const { return ((static_cast<size_t>(b) * ih + r) * iw + col) * c; }
  size_t yIndex(int b, int r, int col) const { return ((static_cast<size_t>(b) * oh + r) * ow + col) * c; }
};

/** maxPool(x, y, geometry). */
Napi::Value MaxPool(const Napi::CallbackInfo &info) {
  return guarded(info, "maxPool", [&] {
    const float *x = f32Arg(info, 0, "x");
    float *y = f32Arg(info, 1, "y");
    PoolGeometry g(i32Arg(info, 2, PoolGeometry::COUNT, "geometry"));
    expectLength(info, 0, g.xIndex(g.n, 0, 0), "maxPool", "x");
    expectLength(info, 1, g.yIndex(g.n, 0, 0), "maxPool", "y");
    const float lowest = -std::numeric_limits<float>::infinity();
#pragma omp parallel for schedule(static) collapse(2)
    for (int b = 0; b < g.n; ++b) {
      for (int r = 0; r < g.oh; ++r) {
        const int r0 = std::max(0, r * g.sh - g.pt), r1 = std::min(g.ih, r * g.sh - g.pt + g.kh);
        for (int col = 0; col < g.ow; ++col) {
          const int c0 = std::max(0, col * g.sw - g.pl), c1 = std::min(g.iw, col * g.sw - g.pl + g.kw);
          float *out = y + g.yIndex(b, r, col);
          for (int d = 0; d < g.c; ++d) out[d] = lowest;
          for (int xr = r0; xr < r1; ++xr) {
            for (int xc = c0; xc < c1; ++xc) {
              const float *in = x + g.xIndex(b, xr, xc);
              for (int d = 0; d < g.c; ++d) out[d] = in[d] > out[d] ? in[d] : out[d];
            }
          }
        }
      }
    }
  });
}

/** Adds dy of output pixel (b, r, col) into dx at each channel's first maximum, for channels [d0, d1). */
inline void scatterMax(const PoolGeometry &g, const float *x, const float *dy, float *dx, int b, int r, int col,
                       int d0, int d1, float *best, size_t *where) {
  const int r0 = std::max(0, r * g.sh - g.pt), r1 = std::min(g.ih, r * g.sh - g.pt + g.kh);
  const int c0 = std::max(0, col * g.sw - g.pl), c1 = std::min(g.iw, col * g.sw - g.pl + g.kw);
  for (int d = d0; d < d1; ++d) {
    best[d] = -std::numeric_limits<float>::infinity();
    where[d] = static_cast<size_t>(-1);
  }
  for (int xr = r0; xr < r1; ++xr) {
    for (int xc = c0; xc < c1; ++xc) {
      const size_t base = g.xIndex(b, xr, xc);
      for (int d = d0; d < d1; ++d) {
        if (x[base + d] > best[d]) {
          best[d] = x[base + d];
          where[d] = base + d;
        }
      }
    }
  }
  const float *g_out = dy + g.yIndex(b, r, col);
  for (int d = d0; d < d1; ++d) {
    if (where[d] != static_cast<size_t>(-1)) dx[where[d]] += g_out[d];
  }
}

#define HG_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

/**
 * 2x2 windows, stride 2, no padding, input exactly twice the output: one pass writing every dx element (dy at
 * the first maximum, 0 elsewhere), no memset and no scatter. Rows [r0, r1) of the flattened (n * oh) rows.
 */
HG_CLONES void maxPoolGrad2x2(const PoolGeometry &g, const float *x, const float *dy, float *dx, int r0, int r1) {
  const size_t c = g.c, rowIn = static_cast<size_t>(g.iw) * c;
  const float lowest = -std::numeric_limits<float>::infinity();
  for (int rr = r0; rr < r1; ++rr) {
    for (int col = 0; col < g.ow; ++col) {
      const size_t o = (static_cast<size_t>(rr) * g.ow + col) * c;
      const size_t i00 = (static_cast<size_t>(rr) * 2 * g.iw + 2 * col) * c;
      const float *__restrict__ a = x + i00, *__restrict__ b = a + c, *__restrict__ cc = a + rowIn,
                  *__restrict__ d = cc + c, *__restrict__ gy = dy + o;
      float *__restrict__ da = dx + i00, *__restrict__ db = da + c, *__restrict__ dc = da + rowIn,
            *__restrict__ dd = dc + c;
      // dy goes to the first position equal to the window's maximum (ties to the first, as in the generic path).
      // A window holding NaN gets no gradient here (the generic path skips the NaN and takes the rest's maximum).
      for (size_t k = 0; k < c; ++k) {
        const float va = a[k], vb = b[k], vc = cc[k], vd = d[k];
        const float ab = va > vb ? va : vb, cd = vc > vd ? vc : vd;
        const float m = ab > cd ? ab : cd;
        // `left`: the part of dy not yet placed (float selects only).
        float left = m > lowest ? gy[k] : 0.f;
        da[k] = va == m ? left : 0.f;
        left = va == m ? 0.f : left;
        db[k] = vb == m ? left : 0.f;
        left = vb == m ? 0.f : left;
        dc[k] = vc == m ? left : 0.f;
        left = vc == m ? 0.f : left;
        dd[k] = vd == m ? left : 0.f;
      }
    }
  }
}

/** maxPoolGrad(dy, x, dx, geometry): dx gets each dy at its window's maximum. */
Napi::Value MaxPoolGrad(const Napi::CallbackInfo &info) {
  return guarded(info, "maxPoolGrad", [&] {
    const float *dy = f32Arg(info, 0, "dy");
    const float *x = f32Arg(info, 1, "x");
    float *dx = f32Arg(info, 2, "dx");
    PoolGeometry g(i32Arg(info, 3, PoolGeometry::COUNT, "geometry"));
    expectLength(info, 0, g.yIndex(g.n, 0, 0), "maxPoolGrad", "dy");
    expectLength(info, 1, g.xIndex(g.n, 0, 0), "maxPoolGrad", "x");
    expectLength(info, 2, g.xIndex(g.n, 0, 0), "maxPoolGrad", "dx");
    if (g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.pt == 0 && g.pl == 0 && g.ih == 2 * g.oh &&
        g.iw == 2 * g.ow) {
      const int rows = g.n * g.oh;
#pragma omp parallel
      {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        maxPoolGrad2x2(g, x, dy, dx, rows * t / nt, rows * (t + 1) / nt);
      }
      return;
    }
    std::memset(dx, 0, f32Length(info, 2) * sizeof(float));
    const bool disjoint = g.sh >= g.kh && g.sw >= g.kw;
#pragma omp parallel
    {
      std::vector<float> best(g.c);
      std::vector<size_t> where(g.c);
      if (disjoint) {
        // Windows do not overlap: output rows write disjoint parts of dx.
#pragma omp for schedule(static) collapse(2)
        for (int b = 0; b < g.n; ++b)
          for (int r = 0; r < g.oh; ++r)
            for (int col = 0; col < g.ow; ++col) scatterMax(g, x, dy, dx, b, r, col, 0, g.c, best.data(), where.data());
      } else {
        // Overlapping windows: each thread owns a slice of the channels.
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        const int d0 = g.c * t / nt, d1 = g.c * (t + 1) / nt;
        for (int b = 0; b < g.n; ++b)
          for (int r = 0; r < g.oh; ++r)
            for (int col = 0; col < g.ow; ++col) scatterMax(g, x, dy, dx, b, r, col, d0, d1, best.data(), where.data());
      }
    }
  });
}

/** Resize shape from TS: [n, inH, inW, c, outH, outW]; rows/cols map each output row/column to its source. */
struct ResizeShape {
  int n, ih, iw, c, oh, ow;
  explicit ResizeShape(const int32_t *v) : n(v[0]), ih(v[1]), iw(v[2]), c(v[3]), oh(v[4]), ow(v[5]) {}
};

/** Checks that a source index map stays inside the input (an out-of-range index would write anywhere). */
void checkMap(const int32_t *map, int count, int limit, const char *what) {
  for (int i = 0; i < count; ++i) {
    if (map[i] < 0 || map[i] >= limit) {
      throw std::out_of_range(std::string(what) + "[" + std::to_string(i) + "] = " + std::to_string(map[i]) +
                              " is outside [0, " + std::to_string(limit) + ")");
    }
  }
}

/** resizeNearest(x, y, shape, rows: Int32Array(outH), cols: Int32Array(outW)). */
Napi::Value ResizeNearest(const Napi::CallbackInfo &info) {
  return guarded(info, "resizeNearest", [&] {
    const float *x = f32Arg(info, 0, "x");
    float *y = f32Arg(info, 1, "y");
    ResizeShape s(i32Arg(info, 2, 6, "shape"));
    const int32_t *rows = i32Arg(info, 3, s.oh, "rows");
    const int32_t *cols = i32Arg(info, 4, s.ow, "cols");
    checkMap(rows, s.oh, s.ih, "rows");
    checkMap(cols, s.ow, s.iw, "cols");
    expectLength(info, 0, static_cast<size_t>(s.n) * s.ih * s.iw * s.c, "resizeNearest", "x");
    expectLength(info, 1, static_cast<size_t>(s.n) * s.oh * s.ow * s.c, "resizeNearest", "y");
    const size_t c = s.c;
#pragma omp parallel for schedule(static) collapse(2)
    for (int b = 0; b < s.n; ++b) {
      for (int r = 0; r < s.oh; ++r) {
        const float *src = x + (static_cast<size_t>(b) * s.ih + rows[r]) * s.iw * c;
        float *dst = y + (static_cast<size_t>(b) * s.oh + r) * s.ow * c;
        for (int col = 0; col < s.ow; ++col) std::memcpy(dst + col * c, src + cols[col] * c, c * sizeof(float));
      }
    }
  });
}

/** resizeNearestGrad(dy, dx, shape, rows, cols): dx[source] += dy, the adjoint of resizeNearest. */
Napi::Value ResizeNearestGrad(const Napi::CallbackInfo &info) {
  return guarded(info, "resizeNearestGrad", [&] {
    const float *dy = f32Arg(info, 0, "dy");
    float *dx = f32Arg(info, 1, "dx");
    ResizeShape s(i32Arg(info, 2, 6, "shape"));
    const int32_t *rows = i32Arg(info, 3, s.oh, "rows");
    const int32_t *cols = i32Arg(info, 4, s.ow, "cols");
    checkMap(rows, s.oh, s.ih, "rows");
    checkMap(cols, s.ow, s.iw, "cols");
    expectLength(info, 0, static_cast<size_t>(s.n) * s.oh * s.ow * s.c, "resizeNearestGrad", "dy");
    expectLength(info, 1, static_cast<size_t>(s.n) * s.ih * s.iw * s.c, "resizeNearestGrad", "dx");
    const size_t c = s.c;
    std::memset(dx, 0, f32Length(info, 1) * sizeof(float));
#pragma omp parallel
    {
      // Several outputs share a source pixel, so each thread owns a slice of the channels.
      const int t = omp_get_thread_num(), nt = omp_get_num_threads();
      const size_t d0 = c * t / nt, d1 = c * (t + 1) / nt;
      for (int b = 0; b < s.n; ++b) {
        for (int r = 0; r < s.oh; ++r) {
          float *dst = dx + (static_cast<size_t>(b) * s.ih + rows[r]) * s.iw * c;
          const float *src = dy + (static_cast<size_t>(b) * s.oh + r) * s.ow * c;
          for (int col = 0; col < s.ow; ++col) {
            float *o = dst + cols[col] * c;
            const float *in = src + col * c;
            for (size_t d = d0; d < d1; ++d) o[d] += in[d];
          }
        }
      }
    }
  });
}

}  // namespace

void registerPool(Napi::Env env, Napi::Object exports) {
  exports.Set("maxPool", Napi::Function::New(env, MaxPool, "maxPool"));
  exports.Set("maxPoolGrad", Napi::Function::New(env, MaxPoolGrad, "maxPoolGrad"));
  exports.Set("resizeNearest", Napi::Function::New(env, ResizeNearest, "resizeNearest"));
  exports.Set("resizeNearestGrad", Napi::Function::New(env, ResizeNearestGrad, "resizeNearestGrad"));
}

}  // namespace hg
