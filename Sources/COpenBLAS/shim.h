// OpenBLAS's CBLAS interface and thread control.
#include <cblas.h>

// Flush denormals to zero (FTZ) and treat denormal inputs as zero (DAZ) on the calling thread:
// a trained model's tiny activations and softmax tails otherwise take the slow microcode path
// (measured: a pretraining step 4x slower after a few hundred steps). PyTorch sets the same bits
// (torch.set_flush_denormal).
#include <xmmintrin.h>
static inline void svfap_flush_denormals(void) { _mm_setcsr(_mm_getcsr() | 0x8040); }

// OpenBLAS's worker threads keep the floating-point state they were created with (at library load,
// before us): shutting its pool down makes the next call create them again from a flushing thread.
// The new pool also reads OPENBLAS_THREAD_TIMEOUT again, which we set (unless the user did) to
// 2^16 cycles: an idle worker then sleeps after ~20 us instead of spinning ~0.1 s (2^28) on a
// core that our own threads need right after a product (the attention's heads, element-wise
// kernels). Measured: svfap-small's attention 0.5-0.6 of its matmul time with the default, 0.33
// with 2^8 or 2^16, the matmul time unchanged.
int blas_thread_shutdown_(void);
void openblas_read_env(void);
#include <stdlib.h>
static inline void svfap_prepare_blas(void) {
  svfap_flush_denormals();
  setenv("OPENBLAS_THREAD_TIMEOUT", "16", 0);
  openblas_read_env();
  blas_thread_shutdown_();
}
