/*
 * The C peer of tools/bench.py: the same OpenCL operations, timed the same way,
 * printed as one JSON object on stdout.
 *
 * tools/bench.py compiles it at bench time (gcc -O2 -I headers ... -lOpenCL) and runs
 *
 *     bench_c run PLATFORM DEVICE key=value ...   every measured operation (JSON)
 *     bench_c first PLATFORM DEVICE [key=value]   fresh process: one kernel result, prints "ok"
 *
 * PLATFORM and DEVICE are indices in the ICD loader's order; platform_name=NAME picks the
 * platform by its exact CL_PLATFORM_NAME instead (loaders may order platforms differently)
 * and device_name=NAME checks the device's name. The other key=value
 * arguments are the batch sizes and repeat counts (see COUNTS in tools/bench.py):
 * every operation is run in batches after one warm-up batch, and the median of
 * the per-operation times of the batches is printed.
 */
#define CL_TARGET_OPENCL_VERSION 300
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POOL 16           /* buffer pairs and ints cycled by the changing-argument launches */
#define GLOBAL_SIZE 64    /* work-items of every launch */

static const char *KERNEL_SOURCE =
    "__kernel void add(__global const int *a, __global int *b, int c)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    b[i] = a[i] + c;\n"
    "}\n";

#define CHECK(call)                                                                  \
    do {                                                                             \
        cl_int status_ = (call);                                                     \
        if (status_ != CL_SUCCESS) {                                                 \
            fprintf(stderr, "bench_c: %s failed: %d (line %d)\n", #call, status_, __LINE__); \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

#define CHECK_ERR(err, what)                                                         \
    do {                                                                             \
        if ((err) != CL_SUCCESS) {                                                   \
            fprintf(stderr, "bench_c: %s failed: %d (line %d)\n", what, (err), __LINE__); \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int compare_doubles(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double median(double *values, int n)
{
    qsort(values, (size_t)n, sizeof(double), compare_doubles);
    return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

/* ------------------------------------------------------------------------- */
/* Counts from the command line: name=value                                  */
/* ------------------------------------------------------------------------- */

static long count_of(int argc, char **argv, const char *name, long fallback)
{
    size_t n = strlen(name);
    for (int i = 4; i < argc; i++)
        if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=')
            return strtol(argv[i] + n + 1, NULL, 10);
    return fallback;
}

/* ------------------------------------------------------------------------- */
/* Setup                                                                     */
/* ------------------------------------------------------------------------- */

typedef struct {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;         /* in-order, no profiling */
    cl_command_queue prof_queue;    /* in-order, profiling: event-timed latency */
    cl_program program;
    cl_kernel kernel;
} Setup;

static const char *string_of(int argc, char **argv, const char *name)
{
    size_t n = strlen(name);
    for (int i = 4; i < argc; i++)
        if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=')
            return argv[i] + n + 1;
    return NULL;
}

static void info_string(cl_platform_id platform, cl_device_id device, cl_uint param, char *out, size_t size)
{
    out[0] = 0;
    if (device)
        clGetDeviceInfo(device, param, size - 1, out, NULL);
    else
        clGetPlatformInfo(platform, param, size - 1, out, NULL);
    out[size - 1] = 0;
}

/* The platform named platform_name (exact CL_PLATFORM_NAME; ICD loaders may order platforms
 * differently), else platform #platform_index; its device #device_index, whose name must be
 * device_name when given. */
static void pick_device(int platform_index, int device_index, const char *platform_name, const char *device_name,
                        cl_platform_id *platform, cl_device_id *device)
{
    cl_uint np = 0, nd = 0;
    char name[1024];
    CHECK(clGetPlatformIDs(0, NULL, &np));
    cl_platform_id *platforms = malloc(np * sizeof *platforms);
    CHECK(clGetPlatformIDs(np, platforms, NULL));
    int found = -1;
    for (cl_uint i = 0; platform_name && i < np && found < 0; i++) {
        info_string(platforms[i], NULL, CL_PLATFORM_NAME, name, sizeof name);
        if (strcmp(name, platform_name) == 0)
            found = (int)i;
    }
    if (platform_name && found < 0) {
        fprintf(stderr, "bench_c: no platform named '%s' among %u\n", platform_name, np);
        exit(2);
    }
    if (found < 0)
        found = platform_index;
    if (found < 0 || (cl_uint)found >= np) {
        fprintf(stderr, "bench_c: no platform #%d (there are %u)\n", found, np);
        exit(2);
    }
    *platform = platforms[found];
    free(platforms);
    CHECK(clGetDeviceIDs(*platform, CL_DEVICE_TYPE_ALL, 0, NULL, &nd));
    if ((cl_uint)device_index >= nd) {
        fprintf(stderr, "bench_c: no device #%d (there are %u)\n", device_index, nd);
        exit(2);
    }
    cl_device_id *devices = malloc(nd * sizeof *devices);
    CHECK(clGetDeviceIDs(*platform, CL_DEVICE_TYPE_ALL, nd, devices, NULL));
    *device = devices[device_index];
    free(devices);
    info_string(NULL, *device, CL_DEVICE_NAME, name, sizeof name);
    if (device_name && strcmp(name, device_name) != 0) {
        fprintf(stderr, "bench_c: device #%d is '%s', not '%s'\n", device_index, name, device_name);
        exit(2);
    }
}

static cl_program build_program(cl_context context, cl_device_id device)
{
    cl_int err;
    size_t length = strlen(KERNEL_SOURCE);
    cl_program program = clCreateProgramWithSource(context, 1, &KERNEL_SOURCE, &length, &err);
    CHECK_ERR(err, "clCreateProgramWithSource");
    err = clBuildProgram(program, 1, &device, "", NULL, NULL);
    if (err != CL_SUCCESS) {
        char log[8192] = "";
        clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, sizeof log - 1, log, NULL);
        fprintf(stderr, "bench_c: clBuildProgram failed: %d\n%s\n", err, log);
        exit(1);
    }
    return program;
}

static void setup(Setup *s, int platform_index, int device_index, const char *platform_name,
                  const char *device_name, int with_profiling)
{
    cl_int err;
    pick_device(platform_index, device_index, platform_name, device_name, &s->platform, &s->device);
    s->context = clCreateContext(NULL, 1, &s->device, NULL, NULL, &err);
    CHECK_ERR(err, "clCreateContext");
    s->queue = clCreateCommandQueue(s->context, s->device, 0, &err);
    CHECK_ERR(err, "clCreateCommandQueue");
    s->prof_queue = NULL;
    if (with_profiling) {
        s->prof_queue = clCreateCommandQueue(s->context, s->device, CL_QUEUE_PROFILING_ENABLE, &err);
        CHECK_ERR(err, "clCreateCommandQueue (profiling)");
    }
    s->program = build_program(s->context, s->device);
    s->kernel = clCreateKernel(s->program, "add", &err);
    CHECK_ERR(err, "clCreateKernel");
}

static cl_mem new_buffer(cl_context context, cl_mem_flags flags, size_t size)
{
    cl_int err;
    cl_mem mem = clCreateBuffer(context, flags, size, NULL, &err);
    CHECK_ERR(err, "clCreateBuffer");
    return mem;
}

/* ------------------------------------------------------------------------- */
/* 1. call overhead                                                          */
/* ------------------------------------------------------------------------- */

static double bench_device_info(Setup *s, long batch, long repeats)
{
    double *t = malloc((size_t)repeats * sizeof *t);
    for (long r = -1; r < repeats; r++) {
        cl_uint units = 0;
        double t0 = now();
        for (long i = 0; i < batch; i++)
            CHECK(clGetDeviceInfo(s->device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, NULL));
        double dt = now() - t0;
        if (r >= 0)
            t[r] = dt / (double)batch * 1e6;
    }
    double m = median(t, (int)repeats);
    free(t);
    return m;
}

/* ------------------------------------------------------------------------- */
/* 2. kernel launches                                                        */
/* ------------------------------------------------------------------------- */

typedef struct {
    cl_mem a[POOL], b[POOL];
    cl_int value[POOL];
} Pool;

static void launch(Setup *s, cl_command_queue queue, cl_mem a, cl_mem b, cl_int value, cl_event *event)
{
    size_t global = GLOBAL_SIZE;
    CHECK(clSetKernelArg(s->kernel, 0, sizeof(cl_mem), &a));
    CHECK(clSetKernelArg(s->kernel, 1, sizeof(cl_mem), &b));
    CHECK(clSetKernelArg(s->kernel, 2, sizeof(cl_int), &value));
    CHECK(clEnqueueNDRangeKernel(queue, s->kernel, 1, NULL, &global, NULL, 0, NULL, event));
}

/* mode 0: same arguments, one clFinish per batch; 1: changing arguments, one clFinish
 * per batch; 2: clFinish after every launch (wall-clock latency). */
static double bench_launch(Setup *s, Pool *p, int mode, long batch, long repeats)
{
    double *t = malloc((size_t)repeats * sizeof *t);
    for (long r = -1; r < repeats; r++) {
        double t0 = now();
        for (long i = 0; i < batch; i++) {
            int j = mode == 1 ? (int)(i % POOL) : 0;
            launch(s, s->queue, p->a[j], p->b[j], p->value[j], NULL);
            if (mode == 2)
                CHECK(clFinish(s->queue));
        }
        CHECK(clFinish(s->queue));
        double dt = now() - t0;
        if (r >= 0)
            t[r] = dt / (double)batch * 1e6;
    }
    double m = median(t, (int)repeats);
    free(t);
    return m;
}

/* event-profiled latency (later clpeak versions' measure): CL_PROFILING_COMMAND_QUEUED to
 * _END of each launch, with clFinish after each; the batch mean, median over batches (us). */
static double bench_launch_event(Setup *s, Pool *p, long batch, long repeats)
{
    double *t = malloc((size_t)repeats * sizeof *t);
    for (long r = -1; r < repeats; r++) {
        double sum = 0;
        for (long i = 0; i < batch; i++) {
            cl_event ev;
            cl_ulong queued, end;
            launch(s, s->prof_queue, p->a[0], p->b[0], p->value[0], &ev);
            CHECK(clFinish(s->prof_queue));
            CHECK(clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_QUEUED, sizeof queued, &queued, NULL));
            CHECK(clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL));
            CHECK(clReleaseEvent(ev));
            sum += (double)(end - queued) * 1e-3;
        }
        if (r >= 0)
            t[r] = sum / (double)batch;
    }
    double m = median(t, (int)repeats);
    free(t);
    return m;
}

/* ------------------------------------------------------------------------- */
/* 3. small transfers: blocking write of 4 bytes, then blocking read of 4 bytes */
/* ------------------------------------------------------------------------- */

static double bench_small_transfers(Setup *s, long batch, long repeats)
{
    cl_mem buffer = new_buffer(s->context, CL_MEM_READ_WRITE, 4);
    cl_int out = 42, in = 0;
    double *t = malloc((size_t)repeats * sizeof *t);
    for (long r = -1; r < repeats; r++) {
        double t0 = now();
        for (long i = 0; i < batch; i++) {
            CHECK(clEnqueueWriteBuffer(s->queue, buffer, CL_TRUE, 0, 4, &out, 0, NULL, NULL));
            CHECK(clEnqueueReadBuffer(s->queue, buffer, CL_TRUE, 0, 4, &in, 0, NULL, NULL));
        }
        double dt = now() - t0;
        if (r >= 0)
            t[r] = dt / (double)batch * 1e6;
    }
    if (in != out) {
        fprintf(stderr, "bench_c: small transfer read %d, wrote %d\n", in, out);
        exit(1);
    }
    CHECK(clReleaseMemObject(buffer));
    double m = median(t, (int)repeats);
    free(t);
    return m;
}

/* ------------------------------------------------------------------------- */
/* 4. bandwidth                                                              */
/* ------------------------------------------------------------------------- */

enum { WRITE_BLOCKING, READ_BLOCKING, WRITE_NONBLOCKING, READ_NONBLOCKING, MAP_READ, MAP_WRITE, N_BW };
static const char *BW_NAMES[N_BW] = {
    "bw_write_blocking", "bw_read_blocking", "bw_write_nonblocking", "bw_read_nonblocking",
    "bw_map_read_memcpy", "bw_map_write_memcpy"};

/* One batch of `count` transfers of `bytes` (count is 1 for the blocking ones). */
static void bw_batch(Setup *s, cl_mem buffer, char *host, size_t bytes, int kind, long count)
{
    for (long i = 0; i < count; i++) {
        switch (kind) {
        case WRITE_BLOCKING:
        case WRITE_NONBLOCKING:
            CHECK(clEnqueueWriteBuffer(s->queue, buffer, kind == WRITE_BLOCKING, 0, bytes, host, 0, NULL, NULL));
            break;
        case READ_BLOCKING:
        case READ_NONBLOCKING:
            CHECK(clEnqueueReadBuffer(s->queue, buffer, kind == READ_BLOCKING, 0, bytes, host, 0, NULL, NULL));
            break;
        case MAP_READ:
        case MAP_WRITE: {
            cl_int err;
            void *mapped = clEnqueueMapBuffer(s->queue, buffer, CL_TRUE, kind == MAP_READ ? CL_MAP_READ : CL_MAP_WRITE,
                                              0, bytes, 0, NULL, NULL, &err);
            CHECK_ERR(err, "clEnqueueMapBuffer");
            if (kind == MAP_READ)
                memcpy(host, mapped, bytes);
            else
                memcpy(mapped, host, bytes);
            CHECK(clEnqueueUnmapMemObject(s->queue, buffer, mapped, 0, NULL, NULL));
            break;
        }
        }
    }
    CHECK(clFinish(s->queue));
}

static void bench_bandwidth(Setup *s, size_t bytes, long repeats, long nonblocking_batch, double gbps[N_BW])
{
    cl_mem buffer = new_buffer(s->context, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR, bytes);
    char *host = malloc(bytes);
    memset(host, 1, bytes);
    double *t = malloc((size_t)repeats * sizeof *t);
    for (int kind = 0; kind < N_BW; kind++) {
        long count = (kind == WRITE_NONBLOCKING || kind == READ_NONBLOCKING) ? nonblocking_batch : 1;
        for (long r = -1; r < repeats; r++) {
            double t0 = now();
            bw_batch(s, buffer, host, bytes, kind, count);
            double dt = now() - t0;
            if (r >= 0)
                t[r] = (double)bytes * (double)count / dt / 1e9;
        }
        gbps[kind] = median(t, (int)repeats);
    }
    free(t);
    free(host);
    CHECK(clReleaseMemObject(buffer));
}

/* clpeak's method (version 1.1): a CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR buffer, a zeroed
 * 64-byte-aligned host array, one
 * warm-up transfer, then `iters` transfers timed together with one clFinish; the
 * memcpy rows time only the memcpy of each mapped region. */
enum { CP_WRITE, CP_READ, CP_WRITE_NB, CP_READ_NB, CP_MEMCPY_FROM_MAPPED, CP_MEMCPY_TO_MAPPED, N_CP };
static const char *CP_NAMES[N_CP] = {
    "clpeak_write_blocking", "clpeak_read_blocking", "clpeak_write_nonblocking", "clpeak_read_nonblocking",
    "clpeak_memcpy_from_mapped", "clpeak_memcpy_to_mapped"};

static void bench_clpeak_method(Setup *s, size_t bytes, long iters, double gbps[N_CP])
{
    cl_mem buffer = new_buffer(s->context, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR, bytes);
    char *host = aligned_alloc(64, (bytes + 63) / 64 * 64);  /* as clpeak allocates its host array */
    memset(host, 0, bytes);
    for (int kind = CP_WRITE; kind <= CP_READ_NB; kind++) {
        int write = kind == CP_WRITE || kind == CP_WRITE_NB;
        cl_bool blocking = kind == CP_WRITE || kind == CP_READ;
        for (int warm = 1; warm >= 0; warm--) {
            long n = warm ? 1 : iters;
            double t0 = now();
            for (long i = 0; i < n; i++) {
                if (write)
                    CHECK(clEnqueueWriteBuffer(s->queue, buffer, blocking, 0, bytes, host, 0, NULL, NULL));
                else
                    CHECK(clEnqueueReadBuffer(s->queue, buffer, blocking, 0, bytes, host, 0, NULL, NULL));
            }
            CHECK(clFinish(s->queue));
            double dt = now() - t0;
            if (!warm)
                gbps[kind] = (double)bytes * (double)iters / dt / 1e9;
        }
    }
    for (int kind = CP_MEMCPY_FROM_MAPPED; kind <= CP_MEMCPY_TO_MAPPED; kind++) {
        double total = 0;
        for (long i = 0; i < iters; i++) {
            cl_int err;
            void *mapped = clEnqueueMapBuffer(s->queue, buffer, CL_TRUE,
                                              kind == CP_MEMCPY_FROM_MAPPED ? CL_MAP_READ : CL_MAP_WRITE,
                                              0, bytes, 0, NULL, NULL, &err);
            CHECK_ERR(err, "clEnqueueMapBuffer");
            CHECK(clFinish(s->queue));
            double t0 = now();
            if (kind == CP_MEMCPY_FROM_MAPPED)
                memcpy(host, mapped, bytes);
            else
                memcpy(mapped, host, bytes);
            total += now() - t0;
            CHECK(clEnqueueUnmapMemObject(s->queue, buffer, mapped, 0, NULL, NULL));
            CHECK(clFinish(s->queue));
        }
        gbps[kind] = (double)bytes * (double)iters / total / 1e9;
    }
    free(host);
    CHECK(clReleaseMemObject(buffer));
}

/* ------------------------------------------------------------------------- */
/* 5. churn                                                                  */
/* ------------------------------------------------------------------------- */

static double bench_buffer_churn(Setup *s, long batch, long repeats)
{
    double *t = malloc((size_t)repeats * sizeof *t);
    for (long r = -1; r < repeats; r++) {
        double t0 = now();
        for (long i = 0; i < batch; i++) {
            cl_int err;
            cl_mem mem = clCreateBuffer(s->context, CL_MEM_READ_WRITE, 4096, NULL, &err);
            CHECK_ERR(err, "clCreateBuffer");
            CHECK(clReleaseMemObject(mem));
        }
        double dt = now() - t0;
        if (r >= 0)
            t[r] = dt / (double)batch * 1e6;
    }
    double m = median(t, (int)repeats);
    free(t);
    return m;
}

static double bench_user_event_churn(Setup *s, long batch, long repeats)
{
    double *t = malloc((size_t)repeats * sizeof *t);
    for (long r = -1; r < repeats; r++) {
        double t0 = now();
        for (long i = 0; i < batch; i++) {
            cl_int err;
            cl_event ev = clCreateUserEvent(s->context, &err);
            CHECK_ERR(err, "clCreateUserEvent");
            CHECK(clSetUserEventStatus(ev, CL_COMPLETE));
            CHECK(clReleaseEvent(ev));
        }
        double dt = now() - t0;
        if (r >= 0)
            t[r] = dt / (double)batch * 1e6;
    }
    double m = median(t, (int)repeats);
    free(t);
    return m;
}

/* ------------------------------------------------------------------------- */
/* 6. fresh process: first kernel result                                     */
/* ------------------------------------------------------------------------- */

/* This process image's peak RSS (VmHWM): getrusage's ru_maxrss on Linux also holds the
 * parent's peak, carried over by fork and exec. */
static void print_peak_rss(void)
{
    char line[256];
    FILE *status = fopen("/proc/self/status", "r");
    if (!status)
        return;
    while (fgets(line, sizeof line, status)) {
        long kib;
        if (sscanf(line, "VmHWM: %ld", &kib) == 1) {
            printf("peak_rss_kib %ld\n", kib);
            break;
        }
    }
    fclose(status);
    fflush(stdout);
}

static int first_result(int platform_index, int device_index, const char *platform_name, const char *device_name)
{
    Setup s;
    cl_int host_a[GLOBAL_SIZE], host_b[GLOBAL_SIZE];
    for (int i = 0; i < GLOBAL_SIZE; i++)
        host_a[i] = i;
    setup(&s, platform_index, device_index, platform_name, device_name, 0);
    cl_int err;
    cl_mem a = clCreateBuffer(s.context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof host_a, host_a, &err);
    CHECK_ERR(err, "clCreateBuffer");
    cl_mem b = new_buffer(s.context, CL_MEM_READ_WRITE, sizeof host_b);
    launch(&s, s.queue, a, b, 5, NULL);
    CHECK(clEnqueueReadBuffer(s.queue, b, CL_TRUE, 0, sizeof host_b, host_b, 0, NULL, NULL));
    for (int i = 0; i < GLOBAL_SIZE; i++) {
        if (host_b[i] != i + 5) {
            fprintf(stderr, "bench_c: wrong result at %d: %d\n", i, host_b[i]);
            return 1;
        }
    }
    printf("ok\n");
    fflush(stdout);
    print_peak_rss();
    return 0;
}

/* ------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    if (argc < 4 || (strcmp(argv[1], "run") != 0 && strcmp(argv[1], "first") != 0)) {
        fprintf(stderr, "usage: %s run|first PLATFORM DEVICE [name=value ...]\n", argv[0]);
        return 2;
    }
    int platform_index = atoi(argv[2]), device_index = atoi(argv[3]);
    const char *platform_name = string_of(argc, argv, "platform_name");
    const char *device_name = string_of(argc, argv, "device_name");
    if (strcmp(argv[1], "first") == 0)
        return first_result(platform_index, device_index, platform_name, device_name);

    long call_batch = count_of(argc, argv, "call_batch", 2000), call_repeats = count_of(argc, argv, "call_repeats", 15);
    long launch_batch = count_of(argc, argv, "launch_batch", 1000), launch_repeats = count_of(argc, argv, "launch_repeats", 11);
    long latency_batch = count_of(argc, argv, "latency_batch", 100), latency_repeats = count_of(argc, argv, "latency_repeats", 11);
    long transfer_batch = count_of(argc, argv, "transfer_batch", 200), transfer_repeats = count_of(argc, argv, "transfer_repeats", 11);
    long churn_batch = count_of(argc, argv, "churn_batch", 500), churn_repeats = count_of(argc, argv, "churn_repeats", 11);
    long bw_bytes = count_of(argc, argv, "bw_bytes", 256L << 20), bw_repeats = count_of(argc, argv, "bw_repeats", 11);
    long bw_nonblocking_batch = count_of(argc, argv, "bw_nonblocking_batch", 4);
    long clpeak_bytes = count_of(argc, argv, "clpeak_bytes", 0), clpeak_iters = count_of(argc, argv, "clpeak_iters", 20);

    Setup s;
    setup(&s, platform_index, device_index, platform_name, device_name, 1);
    Pool pool;
    cl_int zeros[GLOBAL_SIZE] = {0};
    for (int i = 0; i < POOL; i++) {
        cl_int err;
        pool.a[i] = clCreateBuffer(s.context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof zeros, zeros, &err);
        CHECK_ERR(err, "clCreateBuffer");
        pool.b[i] = new_buffer(s.context, CL_MEM_READ_WRITE, sizeof zeros);
        pool.value[i] = i + 1;
    }

    printf("{\n");
    printf("  \"device_info\": %.6g,\n", bench_device_info(&s, call_batch, call_repeats));
    printf("  \"launch_unchanged\": %.6g,\n", bench_launch(&s, &pool, 0, launch_batch, launch_repeats));
    printf("  \"launch_changing\": %.6g,\n", bench_launch(&s, &pool, 1, launch_batch, launch_repeats));
    printf("  \"launch_latency_wall\": %.6g,\n", bench_launch(&s, &pool, 2, latency_batch, latency_repeats));
    printf("  \"launch_latency_event\": %.6g,\n", bench_launch_event(&s, &pool, latency_batch, latency_repeats));
    printf("  \"small_transfer_pair\": %.6g,\n", bench_small_transfers(&s, transfer_batch, transfer_repeats));
    printf("  \"buffer_churn\": %.6g,\n", bench_buffer_churn(&s, churn_batch, churn_repeats));
    printf("  \"user_event_churn\": %.6g,\n", bench_user_event_churn(&s, churn_batch, churn_repeats));
    fflush(stdout);
    double gbps[N_BW];
    bench_bandwidth(&s, (size_t)bw_bytes, bw_repeats, bw_nonblocking_batch, gbps);
    for (int k = 0; k < N_BW; k++)
        printf("  \"%s\": %.6g,\n", BW_NAMES[k], gbps[k]);
    if (clpeak_bytes > 0) {
        double cp[N_CP];
        bench_clpeak_method(&s, (size_t)clpeak_bytes, clpeak_iters, cp);
        for (int k = 0; k < N_CP; k++)
            printf("  \"%s\": %.6g,\n", CP_NAMES[k], cp[k]);
    }
    printf("  \"bw_bytes\": %ld,\n  \"clpeak_bytes\": %ld\n}\n", bw_bytes, clpeak_bytes);

    for (int i = 0; i < POOL; i++) {
        clReleaseMemObject(pool.a[i]);
        clReleaseMemObject(pool.b[i]);
    }
    clReleaseKernel(s.kernel);
    clReleaseProgram(s.program);
    clReleaseCommandQueue(s.prof_queue);
    clReleaseCommandQueue(s.queue);
    clReleaseContext(s.context);
    return 0;
}
