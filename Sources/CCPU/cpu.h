// What the CPU reports of itself (CPUID) and what the OS saves of its registers (XGETBV): enough to
// tell an x86-64-v4 (AVX-512 F/CD/BW/DQ/VL) machine from an x86-64-v3 one, and its model name.
#include <cpuid.h>
#include <string.h>

static inline unsigned long long svfap_xgetbv0(void) {
  unsigned int lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((unsigned long long)hi << 32) | lo;
}

// 1 when the CPU has AVX-512 F, CD, BW, DQ and VL and the OS saves the zmm and mask registers.
static inline int svfap_cpu_has_x86_64_v4(void) {
  unsigned int a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  if (!(c & (1u << 27))) return 0;  // OSXSAVE: XGETBV is usable
  unsigned long long xcr0 = svfap_xgetbv0();
  if ((xcr0 & 0xE6) != 0xE6) return 0;  // SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM state
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
  unsigned int need = (1u << 16) | (1u << 17) | (1u << 28) | (1u << 30) | (1u << 31);
  return (b & need) == need;
}

// 1 when the CPU has AVX2, FMA, BMI1/2 and the OS saves the ymm registers (x86-64-v3's core).
static inline int svfap_cpu_has_x86_64_v3(void) {
  unsigned int a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  if (!(c & (1u << 27)) || !(c & (1u << 12))) return 0;  // OSXSAVE, FMA
  if ((svfap_xgetbv0() & 0x6) != 0x6) return 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
  unsigned int need = (1u << 3) | (1u << 5) | (1u << 8);  // BMI1, AVX2, BMI2
  return (b & need) == need;
}

// The CPU's brand string (48 bytes and a NUL) into out; an empty string where CPUID has none.
static inline void svfap_cpu_brand(char out[49]) {
  unsigned int r[12];
  memset(out, 0, 49);
  if (__get_cpuid_max(0x80000000, 0) < 0x80000004) return;
  for (unsigned int i = 0; i < 3; i++)
    __get_cpuid(0x80000002 + i, &r[4 * i], &r[4 * i + 1], &r[4 * i + 2], &r[4 * i + 3]);
  memcpy(out, r, 48);
}

// An address in the calling function's real stack frame (not a local variable's address, which
// AddressSanitizer may move to a heap-allocated "fake stack"): how deep the thread's stack is.
static inline unsigned long svfap_frame_address(void) {
  return (unsigned long)__builtin_frame_address(0);
}
