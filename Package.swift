// swift-tools-version: 6.0
// SVFAP Workbench: a scriptable workbench for self-supervised facial-affect video models.
import PackageDescription

/// Kernels are compiled optimized in every configuration (debug builds run them ~600x slower otherwise),
/// for Haswell (AVX2 + FMA: the x86-64-v3 level; Swift does not know the name x86-64-v3),
/// so the binary runs on any x86-64-v3 machine.
let optimizedKernels: [SwiftSetting] = [
  .unsafeFlags(["-O", "-wmo", "-num-threads", "1", "-target-cpu", "haswell"])
]

/// The engine's own Float kernels once more for x86-64-v4 (AVX-512 F/CD/BW/DQ/VL: Skylake-AVX512's
/// set, which every AVX-512 machine of the team has; with Swift's name x86-64-v4 the compiler emitted
/// no zmm instruction for the 16-lane kernels, measured), chosen at run time by `KernelLevel` only on
/// a CPU that reports them.
let optimizedKernelsV4: [SwiftSetting] = [
  .unsafeFlags(["-O", "-wmo", "-num-threads", "1", "-target-cpu", "skylake-avx512"])
]

/// Linux only: the sources import Glibc, and OpenBLAS, FFmpeg and readline come from Debian's packages
/// (pkg-config); no Apple platform is claimed.
let package = Package(
  name: "svfap",
  products: [
    .executable(name: "svfap", targets: ["svfap"]),
    .library(name: "SVFAP", targets: ["SVFAP"]),
    .library(name: "Tensor", targets: ["Tensor"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
  ],
  targets: [
    .systemLibrary(
      name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(
      name: "CFFmpeg", pkgConfig: "libavformat libavcodec libswscale libavutil",
      providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev"])]),
    .systemLibrary(name: "CReadline", providers: [.apt(["libreadline-dev"])]),
    .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
    // What CPUID and XGETBV say (the kernel level, the CPU's name), and the frame address the
    // language's stack guard reads: header-only C.
    .systemLibrary(name: "CCPU"),
    // One source file (Sources/KernelsX86V3/FloatKernels.swift), two builds: KernelsX86V4's file
    // is a symbolic link to it.
    .target(name: "KernelsX86V3", swiftSettings: optimizedKernels),
    .target(name: "KernelsX86V4", swiftSettings: optimizedKernelsV4),
    .target(
      name: "Tensor",
      dependencies: [
        "COpenBLAS", "CCPU", "KernelsX86V3", "KernelsX86V4",
        .product(name: "RealModule", package: "swift-numerics"),
      ],
      swiftSettings: optimizedKernels),
    .target(
      name: "SVFAP",
      dependencies: [
        "Tensor", "Pickle", "SafeFiles", .product(name: "ZIPFoundation", package: "ZIPFoundation"),
      ],
      swiftSettings: optimizedKernels),
    // The one way a path is opened: regular files only (non-blocking open, fstat).
    .target(name: "SafeFiles"),
    // Ctrl-C as one flag every layer polls (the language, training, pixel loops).
    .target(name: "StopRequests"),
    .target(name: "Script", dependencies: ["SafeFiles", "StopRequests", "CCPU"]),
    .target(name: "Pickle"),
    .target(name: "Plot", dependencies: ["SafeFiles"]),
    .target(
      name: "Media", dependencies: ["CFFmpeg", "Tensor", "SafeFiles", "StopRequests"],
      swiftSettings: optimizedKernels),
    // MTCNN face detection with landmarks on the engine's GEMM (inference only).
    .target(name: "Faces", dependencies: ["Tensor", "StopRequests"], swiftSettings: optimizedKernels),
    .target(
      name: "Datasets", dependencies: ["Media", "Tensor", "Pickle", "SafeFiles"],
      swiftSettings: optimizedKernels
    ),
    .target(name: "Experiments", dependencies: ["SVFAP", "Datasets", "Media", "Tensor"]),
    // Data-parallel training over Open MPI (started only under mpirun).
    .target(name: "Distributed", dependencies: ["CMPI", "SVFAP"]),
    .target(
      name: "Tools",
      dependencies: ["SVFAP", "Media", "Datasets", "Experiments", "Tensor", "COpenBLAS", "Faces"],
      swiftSettings: optimizedKernels),
    .target(
      name: "Workbench",
      dependencies: [
        "Script", "SVFAP", "Tensor", "Media", "Datasets", "Experiments", "Tools", "Plot", "SafeFiles",
        "Faces",
      ]),
    .executableTarget(name: "svfap-fuzz", dependencies: ["Script"]),
    .executableTarget(name: "svfap-figure-fuzz", dependencies: ["Plot"]),
    .executableTarget(
      name: "svfap-session-fuzz", dependencies: ["Workbench", "Script", "SVFAP", "Media", "Pickle"]),
    .executableTarget(
      name: "svfap",
      dependencies: [
        "SVFAP", "Tensor", "Script", "Workbench", "Media", "Datasets", "Tools", "Plot", "CReadline",
        "Distributed", "SafeFiles",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    // Tags and tool checks every test target shares (a library target only test targets use).
    .target(name: "TestSupport", path: "Tests/TestSupport"),
    .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
    .testTarget(
      name: "FacesTests", dependencies: ["TestSupport", "Faces", "Tools", "SVFAP", "Media"]),
    .testTarget(
      name: "SVFAPTests", dependencies: ["TestSupport", "SVFAP", "Tools", "Tensor", "Pickle"]),
    .testTarget(name: "PickleTests", dependencies: ["TestSupport", "Pickle"]),
    .testTarget(name: "ScriptTests", dependencies: ["Script"], resources: [.copy("golden")]),
    .testTarget(name: "MediaTests", dependencies: ["TestSupport", "Media", "Datasets", "Tensor"]),
    .testTarget(name: "PlotTests", dependencies: ["TestSupport", "Plot"]),
    .testTarget(
      name: "ExperimentsTests", dependencies: ["Experiments", "Media", "SVFAP", "Tensor"]),
    .testTarget(
      name: "WorkbenchTests",
      dependencies: [
        "TestSupport",
        "Workbench", "Script", "SVFAP", "Media", "Datasets", "Experiments", "Plot", "Tensor",
        "Tools",
      ],
      exclude: ["hostile", "jupyter", "distributed"]),
    .testTarget(name: "ArchitectureTests"),
  ],
  swiftLanguageModes: [.v6]
)
