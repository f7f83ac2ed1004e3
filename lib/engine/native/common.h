// Helpers shared by the addon's source files: reading arguments, and floats of
// the wasm heap with bounds checks. See sgemm.cc for how the heap is passed.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>

namespace hyperlab {

// Floats of one ArrayBuffer, with the bounds every operand is checked against.
struct Heap {
  uint8_t* base;
  size_t bytes;
};

inline Heap GetHeap(const Napi::CallbackInfo& info) {
  if (!info[0].IsArrayBuffer()) {
    throw Napi::TypeError::New(info.Env(), "hyperlab native: argument 0 must be the wasm heap's ArrayBuffer");
  }
  Napi::ArrayBuffer buf = info[0].As<Napi::ArrayBuffer>();
  return Heap{static_cast<uint8_t*>(buf.Data()), buf.ByteLength()};
}

inline int64_t Int(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), "hyperlab native: argument " + std::to_string(i) + " must be a number");
  }
  return info[i].As<Napi::Number>().Int64Value();
}

inline double Num(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), "hyperlab native: argument " + std::to_string(i) + " must be a number");
  }
  return info[i].As<Napi::Number>().DoubleValue();
}

inline bool Bool(const Napi::CallbackInfo& info, size_t i) { return info[i].ToBoolean().Value(); }

inline void CheckArgs(const Napi::CallbackInfo& info, size_t n, const char* name) {
  if (info.Length() != n) {
    throw Napi::TypeError::New(info.Env(), std::string("hyperlab native: ") + name + " takes " + std::to_string(n) + " arguments");
  }
}

// Pointer to `count` floats at byte offset `off`, after checking that they lie
// inside the heap. count 0 gives a pointer that must not be read.
inline float* Floats(const Napi::CallbackInfo& info, const Heap& heap, int64_t off, int64_t count, const char* what) {
  if (off < 0 || off % 4 != 0 || count < 0 || static_cast<uint64_t>(off) + 4 * static_cast<uint64_t>(count) > heap.bytes) {
    throw Napi::RangeError::New(info.Env(), std::string("hyperlab native: operand ") + what +
                                                " lies outside the wasm heap (offset " + std::to_string(off) + ", " +
                                                std::to_string(count) + " floats, heap " + std::to_string(heap.bytes) +
                                                " bytes)");
  }
  return reinterpret_cast<float*>(heap.base + off);
}

// Like Floats, for an optional operand: offset -1 means none (nullptr).
inline float* OptionalFloats(const Napi::CallbackInfo& info, const Heap& heap, int64_t off, int64_t count, const char* what) {
  return off == -1 ? nullptr : Floats(info, heap, off, count, what);
}

// Sums of float rows, with 8 independent partial sums (which the compiler
// vectorizes, unlike one running sum); precise enough for rows of up to a few
// thousand values, which callers then add up in double.
inline float SumRow(const float* x, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++) acc[j] += x[i + j];
  float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < n; i++) s += x[i];
  return s;
}

// sum (x - shift)^2
inline float SumSquaredDeviations(const float* x, int64_t n, float shift) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++) {
      const float d = x[i + j] - shift;
      acc[j] += d * d;
    }
  float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < n; i++) s += (x[i] - shift) * (x[i] - shift);
  return s;
}

// sum y * (x - shift)
inline float DotDeviations(const float* y, const float* x, int64_t n, float shift) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++) acc[j] += y[i + j] * (x[i + j] - shift);
  float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < n; i++) s += y[i] * (x[i] - shift);
  return s;
}

// c[M,N] = op(a) op(b), row-major (sgemm.cc; gemv for one-row or one-column products).
void Product(bool ta, bool tb, int M, int N, int K, const float* a, const float* b, float* c);

// The functions of conv.cc, fused.cc and small.cc, added to the addon's exports.
void RegisterConv(Napi::Env env, Napi::Object exports);
void RegisterFused(Napi::Env env, Napi::Object exports);
void RegisterSmall(Napi::Env env, Napi::Object exports);

}  // namespace hyperlab
