// Open MPI defines its predefined handles as macros over the addresses of globals
// (MPI_COMM_WORLD = &ompi_mpi_comm_world, ...), which Swift cannot import: these functions hand
// them to Swift as values.
#include <mpi.h>

static inline MPI_Comm svfap_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype svfap_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype svfap_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype svfap_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype svfap_mpi_int(void) { return MPI_INT; }
static inline MPI_Op svfap_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op svfap_mpi_max(void) { return MPI_MAX; }
static inline void *svfap_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline int svfap_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline int svfap_mpi_success(void) { return MPI_SUCCESS; }
