// 2-d convolutions in PyTorch's layout (NCHW) as im2col + OpenBLAS sgemm, the
// way PyTorch's own CPU convolution works without MKL-DNN.
//
// Geometry, in every call (ints): N C H W  O KH KW  OH OW  SH SW  PT PL  DH DW
//   x  [N, C, H, W]      input
//   w  [O, C, KH, KW]    weight (PyTorch's layout)
//   y  [N, O, OH, OW]    output: y[n,o,oh,ow] = sum_{c,i,j} w[o,c,i,j] * x[n, c, oh*SH - PT + i*DH, ow*SW - PL + j*DW]
// with zeros where the x index falls outside (the padding). PT and PL are the
// zeros before the rows and columns; those after follow from OH and OW.
//
// im2col lays the K = C*KH*KW values each output position reads out as one
// column: col[(c*KH + i)*KW + j, oh*OW + ow]. Then
//   forward:          y[n]  = w[O, K] col[K, OH*OW]               (+ bias per o)
//   input gradient:   dcol  = w^T dy[n], then col2im adds dcol back into dx[n]
//   filter gradient:  dw   += dy[n] col^T
// Images with few output positions are grouped, G of them side by side in one
// col [K, G*OH*OW], so each sgemm is big enough to run at full speed.
//
// Exports (offsets in bytes into the heap, -1 = none):
//   conv2d(heap, xOff, wOff, biasOff, yOff, ...geometry)
//   conv2dBackpropInput(heap, dyOff, wOff, dxOff, ...geometry)
//   conv2dBackpropFilter(heap, xOff, dyOff, dwOff, ...geometry)
//   channelSum(heap, xOff, outOff, N, C, S)      out[c] = sum_{n,s} x[n, c, s] (the bias gradient)
#include <napi.h>
#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "common.h"

namespace hyperlab {
namespace {

struct Geom {
  int64_t N, C, H, W, O, KH, KW, OH, OW, SH, SW, PT, PL, DH, DW;
  int64_t K() const { return C * KH * KW; }
  int64_t P() const { return OH * OW; }  // output positions per image
};

constexpr size_t kGeomArgs = 15;

Geom GetGeom(const Napi::CallbackInfo& info, size_t first) {
  int64_t v[kGeomArgs];
  for (size_t i = 0; i < kGeomArgs; i++) v[i] = Int(info, first + i);
  Geom g{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14]};
  const bool positive = g.N >= 0 && g.C > 0 && g.H > 0 && g.W > 0 && g.O > 0 && g.KH > 0 && g.KW > 0 && g.OH > 0 &&
                        g.OW > 0 && g.SH > 0 && g.SW > 0 && g.PT >= 0 && g.PL >= 0 && g.DH > 0 && g.DW > 0;
  if (!positive || g.K() > INT32_MAX || g.P() > INT32_MAX || g.O > INT32_MAX) {
    throw Napi::RangeError::New(info.Env(), "hyperlab native: invalid convolution geometry");
  }
  return g;
}

// Scratch memory reused between calls (the addon runs on the JS thread only).
std::vector<float>& Scratch(int which, size_t floats) {
  static std::vector<float> buffers[3];
  std::vector<float>& b = buffers[which];
  if (b.size() < floats) b.resize(floats);
  return b;
}

// How many images to put side by side: enough for about 256 columns per sgemm.
int64_t GroupSize(const Geom& g) { return std::max<int64_t>(1, std::min<int64_t>(g.N, (256 + g.P() - 1) / g.P())); }

// The valid ow range [lo, hi) for column tap offset `off` (iw = ow*S + off must lie in [0, W)).
void ValidRange(int64_t off, int64_t S, int64_t W, int64_t OW, int64_t* lo, int64_t* hi) {
  *lo = std::min<int64_t>(OW, off >= 0 ? 0 : (-off + S - 1) / S);
  *hi = W - off <= 0 ? 0 : std::min<int64_t>(OW, (W - off + S - 1) / S);
  if (*hi < *lo) *hi = *lo;
}

// col[k, p] (row stride ld) for one image x [C, H, W].
void Im2col(const float* x, const Geom& g, float* col, int64_t ld) {
  for (int64_t c = 0; c < g.C; c++) {
    for (int64_t i = 0; i < g.KH; i++) {
      for (int64_t j = 0; j < g.KW; j++) {
        float* row = col + ((c * g.KH + i) * g.KW + j) * ld;
        const int64_t colOff = j * g.DW - g.PL;
        int64_t lo, hi;
        ValidRange(colOff, g.SW, g.W, g.OW, &lo, &hi);
        for (int64_t oh = 0; oh < g.OH; oh++) {
          float* r = row + oh * g.OW;
          const int64_t ih = oh * g.SH - g.PT + i * g.DH;
          if (ih < 0 || ih >= g.H) {
            std::memset(r, 0, sizeof(float) * g.OW);
            continue;
          }
          const float* xr = x + (c * g.H + ih) * g.W + colOff;
          for (int64_t ow = 0; ow < lo; ow++) r[ow] = 0;
          switch (g.SW) {  // constant strides, which the compiler vectorizes
            case 1: std::memcpy(r + lo, xr + lo, sizeof(float) * (hi - lo)); break;
            case 2: for (int64_t ow = lo; ow < hi; ow++) r[ow] = xr[ow * 2]; break;
            case 4: for (int64_t ow = lo; ow < hi; ow++) r[ow] = xr[ow * 4]; break;
            default: for (int64_t ow = lo; ow < hi; ow++) r[ow] = xr[ow * g.SW];
          }
          for (int64_t ow = hi; ow < g.OW; ow++) r[ow] = 0;
        }
      }
    }
  }
}

// dx [C, H, W] += the columns of col (row stride ld) put back where Im2col took them.
void Col2im(const float* col, int64_t ld, const Geom& g, float* dx) {
  for (int64_t c = 0; c < g.C; c++) {
    for (int64_t i = 0; i < g.KH; i++) {
      for (int64_t j = 0; j < g.KW; j++) {
        const float* row = col + ((c * g.KH + i) * g.KW + j) * ld;
        const int64_t colOff = j * g.DW - g.PL;
        int64_t lo, hi;
        ValidRange(colOff, g.SW, g.W, g.OW, &lo, &hi);
        for (int64_t oh = 0; oh < g.OH; oh++) {
          const int64_t ih = oh * g.SH - g.PT + i * g.DH;
          if (ih < 0 || ih >= g.H) continue;
          const float* r = row + oh * g.OW;
          float* xr = dx + (c * g.H + ih) * g.W + colOff;
          switch (g.SW) {
            case 1: for (int64_t ow = lo; ow < hi; ow++) xr[ow] += r[ow]; break;
            case 2: for (int64_t ow = lo; ow < hi; ow++) xr[ow * 2] += r[ow]; break;
            case 4: for (int64_t ow = lo; ow < hi; ow++) xr[ow * 4] += r[ow]; break;
            default: for (int64_t ow = lo; ow < hi; ow++) xr[ow * g.SW] += r[ow];
          }
        }
      }
    }
  }
}

// Copy G blocks [O, P] (block stride O*P, as in NCHW) into one [O, G*P] matrix, or back.
void Gather(const float* src, int64_t G, int64_t O, int64_t P, float* dst) {
  for (int64_t n = 0; n < G; n++)
    for (int64_t o = 0; o < O; o++) std::memcpy(dst + o * G * P + n * P, src + (n * O + o) * P, sizeof(float) * P);
}
void Scatter(const float* src, int64_t G, int64_t O, int64_t P, float* dst) {
  for (int64_t n = 0; n < G; n++)
    for (int64_t o = 0; o < O; o++) std::memcpy(dst + (n * O + o) * P, src + o * G * P + n * P, sizeof(float) * P);
}

Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  CheckArgs(info, 5 + kGeomArgs, "conv2d");
  const Heap heap = GetHeap(info);
  const Geom g = GetGeom(info, 5);
  const int64_t K = g.K(), P = g.P();
  const float* x = Floats(info, heap, Int(info, 1), g.N * g.C * g.H * g.W, "x");
  const float* w = Floats(info, heap, Int(info, 2), g.O * K, "w");
  const float* bias = OptionalFloats(info, heap, Int(info, 3), g.O, "bias");
  float* y = Floats(info, heap, Int(info, 4), g.N * g.O * P, "y");
  const int64_t G = GroupSize(g);
  float* col = Scratch(0, K * G * P).data();
  float* out = G > 1 ? Scratch(1, g.O * G * P).data() : nullptr;
  for (int64_t n0 = 0; n0 < g.N; n0 += G) {
    const int64_t gn = std::min(G, g.N - n0), cols = gn * P;
    for (int64_t k = 0; k < gn; k++) Im2col(x + (n0 + k) * g.C * g.H * g.W, g, col + k * P, cols);
    float* dst = gn > 1 ? out : y + n0 * g.O * P;
    Product(false, false, int(g.O), int(cols), int(K), w, col, dst);
    if (gn > 1) Scatter(out, gn, g.O, P, y + n0 * g.O * P);
  }
  if (bias) {
    for (int64_t n = 0; n < g.N; n++)
      for (int64_t o = 0; o < g.O; o++) {
        float* r = y + (n * g.O + o) * P;
        const float b = bias[o];
        for (int64_t p = 0; p < P; p++) r[p] += b;
      }
  }
  return info.Env().Undefined();
}

Napi::Value Conv2dBackpropInput(const Napi::CallbackInfo& info) {
  CheckArgs(info, 4 + kGeomArgs, "conv2dBackpropInput");
  const Heap heap = GetHeap(info);
  const Geom g = GetGeom(info, 4);
  const int64_t K = g.K(), P = g.P(), CHW = g.C * g.H * g.W;
  const float* dy = Floats(info, heap, Int(info, 1), g.N * g.O * P, "dy");
  const float* w = Floats(info, heap, Int(info, 2), g.O * K, "w");
  float* dx = Floats(info, heap, Int(info, 3), g.N * CHW, "dx");
  std::memset(dx, 0, sizeof(float) * g.N * CHW);
  const int64_t G = GroupSize(g);
  float* dcol = Scratch(0, K * G * P).data();
  float* dyg = G > 1 ? Scratch(1, g.O * G * P).data() : nullptr;
  for (int64_t n0 = 0; n0 < g.N; n0 += G) {
    const int64_t gn = std::min(G, g.N - n0), cols = gn * P;
    const float* src = dy + n0 * g.O * P;
    if (gn > 1) Gather(src, gn, g.O, P, dyg);
    Product(true, false, int(K), int(cols), int(g.O), w, gn > 1 ? dyg : src, dcol);  // [K, O] x [O, cols]
    for (int64_t k = 0; k < gn; k++) Col2im(dcol + k * P, cols, g, dx + (n0 + k) * CHW);
  }
  return info.Env().Undefined();
}

Napi::Value Conv2dBackpropFilter(const Napi::CallbackInfo& info) {
  CheckArgs(info, 4 + kGeomArgs, "conv2dBackpropFilter");
  const Heap heap = GetHeap(info);
  const Geom g = GetGeom(info, 4);
  const int64_t K = g.K(), P = g.P();
  const float* x = Floats(info, heap, Int(info, 1), g.N * g.C * g.H * g.W, "x");
  const float* dy = Floats(info, heap, Int(info, 2), g.N * g.O * P, "dy");
  float* dw = Floats(info, heap, Int(info, 3), g.O * K, "dw");
  if (g.N == 0) {
    std::memset(dw, 0, sizeof(float) * g.O * K);
    return info.Env().Undefined();
  }
  const int64_t G = GroupSize(g);
  float* col = Scratch(0, K * G * P).data();
  float* dyg = G > 1 ? Scratch(1, g.O * G * P).data() : nullptr;
  for (int64_t n0 = 0; n0 < g.N; n0 += G) {
    const int64_t gn = std::min(G, g.N - n0), cols = gn * P;
    for (int64_t k = 0; k < gn; k++) Im2col(x + (n0 + k) * g.C * g.H * g.W, g, col + k * P, cols);
    const float* src = dy + n0 * g.O * P;
    if (gn > 1) Gather(src, gn, g.O, P, dyg);
    // dw[O, K] (+)= dy[O, cols] col[K, cols]^T
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(g.O), int(K), int(cols), 1.0f, gn > 1 ? dyg : src,
                int(cols), col, int(cols), n0 == 0 ? 0.0f : 1.0f, dw, int(K));
  }
  return info.Env().Undefined();
}

Napi::Value ChannelSum(const Napi::CallbackInfo& info) {
  CheckArgs(info, 6, "channelSum");
  const Heap heap = GetHeap(info);
  const int64_t N = Int(info, 3), C = Int(info, 4), S = Int(info, 5);
  if (N < 0 || C <= 0 || S < 0) throw Napi::RangeError::New(info.Env(), "hyperlab native: channelSum sizes");
  const float* x = Floats(info, heap, Int(info, 1), N * C * S, "x");
  float* out = Floats(info, heap, Int(info, 2), C, "out");
  for (int64_t c = 0; c < C; c++) {
    double sum = 0;
    for (int64_t n = 0; n < N; n++) sum += SumRow(x + (n * C + c) * S, S);
    out[c] = static_cast<float>(sum);
  }
  return info.Env().Undefined();
}

}  // namespace

void RegisterConv(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2d", Napi::Function::New(env, Conv2d));
  exports.Set("conv2dBackpropInput", Napi::Function::New(env, Conv2dBackpropInput));
  exports.Set("conv2dBackpropFilter", Napi::Function::New(env, Conv2dBackpropFilter));
  exports.Set("channelSum", Napi::Function::New(env, ChannelSum));
}

}  // namespace hyperlab
