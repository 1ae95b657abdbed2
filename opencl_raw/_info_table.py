"""The info param table: query group -> param name -> C type of the value.

Facts from the OpenCL 3.0 specification's info tables (and the extension
specifications for params of ``cl_ext.h``), written as C types:

- ``T``: one value of type T (``cl_uint``, ``size_t``, ``cl_device_type``, a handle type, a struct);
- ``T[]``: an array whose length follows from the returned size;
- ``T[N]``: a fixed-size array (``cl_uchar[16]`` is returned as ``bytes``);
- ``T[] properties``: a zero-terminated (name, value) list;
- ``char[]``: a NUL-terminated string;
- ``unsigned char *[]``: ``CL_PROGRAM_BINARIES``, one buffer per device.

Groups are named after the C query functions: ``Device`` is clGetDeviceInfo,
``ProgramBuild`` clGetProgramBuildInfo, ``KernelWorkGroup``
clGetKernelWorkGroupInfo, and so on (:data:`FUNCTION_OF_GROUP`). Extension
queries on objects this binding has no class for yet have groups of their own
(``CommandBufferKHR`` is clGetCommandBufferInfoKHR, ``GLTexture``
clGetGLTextureInfo, ...), so the table is complete before the classes exist.
:mod:`opencl_raw._info` decodes the values.

Where an extension name and a core name share one value (``CL_DEVICE_IL_VERSION_KHR``
and ``CL_DEVICE_IL_VERSION``), both have rows, the extension row first: the later
(core) row is the one a query by value decodes and reports.

:data:`LEFT_OUT` lists the ``CL_*`` names of the headers that sit with info params
(or look like them) but are not params of any query here, each with the reason.
"""

INFO = {
    "Platform": {
        "CL_PLATFORM_PROFILE": "char[]",
        "CL_PLATFORM_VERSION": "char[]",
        "CL_PLATFORM_NAME": "char[]",
        "CL_PLATFORM_VENDOR": "char[]",
        "CL_PLATFORM_EXTENSIONS": "char[]",
        "CL_PLATFORM_HOST_TIMER_RESOLUTION": "cl_ulong",
        "CL_PLATFORM_NUMERIC_VERSION_KHR": "cl_version_khr",                      # cl_khr_extended_versioning
        "CL_PLATFORM_NUMERIC_VERSION": "cl_version",
        "CL_PLATFORM_EXTENSIONS_WITH_VERSION_KHR": "cl_name_version_khr[]",       # cl_khr_extended_versioning
        "CL_PLATFORM_EXTENSIONS_WITH_VERSION": "cl_name_version[]",
        "CL_PLATFORM_ICD_SUFFIX_KHR": "char[]",                                   # cl_khr_icd
        "CL_PLATFORM_EXTERNAL_MEMORY_IMPORT_HANDLE_TYPES_KHR": "cl_external_memory_handle_type_khr[]",
        "CL_PLATFORM_SEMAPHORE_IMPORT_HANDLE_TYPES_KHR": "cl_external_semaphore_handle_type_khr[]",
        "CL_PLATFORM_SEMAPHORE_EXPORT_HANDLE_TYPES_KHR": "cl_external_semaphore_handle_type_khr[]",
        "CL_PLATFORM_SEMAPHORE_TYPES_KHR": "cl_semaphore_type_khr[]",             # cl_khr_semaphore
    },
    "Device": {
        "CL_DEVICE_TYPE": "cl_device_type",
        "CL_DEVICE_VENDOR_ID": "cl_uint",
        "CL_DEVICE_MAX_COMPUTE_UNITS": "cl_uint",
        "CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS": "cl_uint",
        "CL_DEVICE_MAX_WORK_GROUP_SIZE": "size_t",
        "CL_DEVICE_MAX_WORK_ITEM_SIZES": "size_t[]",
        "CL_DEVICE_PREFERRED_VECTOR_WIDTH_CHAR": "cl_uint",
        "CL_DEVICE_PREFERRED_VECTOR_WIDTH_SHORT": "cl_uint",
        "CL_DEVICE_PREFERRED_VECTOR_WIDTH_INT": "cl_uint",
        "CL_DEVICE_PREFERRED_VECTOR_WIDTH_LONG": "cl_uint",
        "CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT": "cl_uint",
        "CL_DEVICE_PREFERRED_VECTOR_WIDTH_DOUBLE": "cl_uint",
        "CL_DEVICE_PREFERRED_VECTOR_WIDTH_HALF": "cl_uint",
        "CL_DEVICE_NATIVE_VECTOR_WIDTH_CHAR": "cl_uint",
        "CL_DEVICE_NATIVE_VECTOR_WIDTH_SHORT": "cl_uint",
        "CL_DEVICE_NATIVE_VECTOR_WIDTH_INT": "cl_uint",
        "CL_DEVICE_NATIVE_VECTOR_WIDTH_LONG": "cl_uint",
        "CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT": "cl_uint",
        "CL_DEVICE_NATIVE_VECTOR_WIDTH_DOUBLE": "cl_uint",
        "CL_DEVICE_NATIVE_VECTOR_WIDTH_HALF": "cl_uint",
        "CL_DEVICE_MAX_CLOCK_FREQUENCY": "cl_uint",
        "CL_DEVICE_ADDRESS_BITS": "cl_uint",
        "CL_DEVICE_MAX_MEM_ALLOC_SIZE": "cl_ulong",
        "CL_DEVICE_IMAGE_SUPPORT": "cl_bool",
        "CL_DEVICE_MAX_READ_IMAGE_ARGS": "cl_uint",
        "CL_DEVICE_MAX_WRITE_IMAGE_ARGS": "cl_uint",
        "CL_DEVICE_MAX_READ_WRITE_IMAGE_ARGS": "cl_uint",
        "CL_DEVICE_IL_VERSION_KHR": "char[]",                                     # cl_khr_il_program
        "CL_DEVICE_IL_VERSION": "char[]",
        "CL_DEVICE_ILS_WITH_VERSION_KHR": "cl_name_version_khr[]",                # cl_khr_extended_versioning
        "CL_DEVICE_ILS_WITH_VERSION": "cl_name_version[]",
        "CL_DEVICE_IMAGE2D_MAX_WIDTH": "size_t",
        "CL_DEVICE_IMAGE2D_MAX_HEIGHT": "size_t",
        "CL_DEVICE_IMAGE3D_MAX_WIDTH": "size_t",
        "CL_DEVICE_IMAGE3D_MAX_HEIGHT": "size_t",
        "CL_DEVICE_IMAGE3D_MAX_DEPTH": "size_t",
        "CL_DEVICE_IMAGE_MAX_BUFFER_SIZE": "size_t",
        "CL_DEVICE_IMAGE_MAX_ARRAY_SIZE": "size_t",
        "CL_DEVICE_MAX_SAMPLERS": "cl_uint",
        "CL_DEVICE_IMAGE_PITCH_ALIGNMENT_KHR": "cl_uint",                         # cl_khr_image2d_from_buffer
        "CL_DEVICE_IMAGE_PITCH_ALIGNMENT": "cl_uint",
        "CL_DEVICE_IMAGE_BASE_ADDRESS_ALIGNMENT_KHR": "cl_uint",                  # cl_khr_image2d_from_buffer
        "CL_DEVICE_IMAGE_BASE_ADDRESS_ALIGNMENT": "cl_uint",
        "CL_DEVICE_MAX_PIPE_ARGS": "cl_uint",
        "CL_DEVICE_PIPE_MAX_ACTIVE_RESERVATIONS": "cl_uint",
        "CL_DEVICE_PIPE_MAX_PACKET_SIZE": "cl_uint",
        "CL_DEVICE_MAX_PARAMETER_SIZE": "size_t",
        "CL_DEVICE_MEM_BASE_ADDR_ALIGN": "cl_uint",
        "CL_DEVICE_MIN_DATA_TYPE_ALIGN_SIZE": "cl_uint",
        "CL_DEVICE_SINGLE_FP_CONFIG": "cl_device_fp_config",
        "CL_DEVICE_DOUBLE_FP_CONFIG": "cl_device_fp_config",
        "CL_DEVICE_HALF_FP_CONFIG": "cl_device_fp_config",
        "CL_DEVICE_GLOBAL_MEM_CACHE_TYPE": "cl_device_mem_cache_type",
        "CL_DEVICE_GLOBAL_MEM_CACHELINE_SIZE": "cl_uint",
        "CL_DEVICE_GLOBAL_MEM_CACHE_SIZE": "cl_ulong",
        "CL_DEVICE_GLOBAL_MEM_SIZE": "cl_ulong",
        "CL_DEVICE_MAX_CONSTANT_BUFFER_SIZE": "cl_ulong",
        "CL_DEVICE_MAX_CONSTANT_ARGS": "cl_uint",
        "CL_DEVICE_MAX_GLOBAL_VARIABLE_SIZE": "size_t",
        "CL_DEVICE_GLOBAL_VARIABLE_PREFERRED_TOTAL_SIZE": "size_t",
        "CL_DEVICE_LOCAL_MEM_TYPE": "cl_device_local_mem_type",
        "CL_DEVICE_LOCAL_MEM_SIZE": "cl_ulong",
        "CL_DEVICE_ERROR_CORRECTION_SUPPORT": "cl_bool",
        "CL_DEVICE_HOST_UNIFIED_MEMORY": "cl_bool",
        "CL_DEVICE_PROFILING_TIMER_RESOLUTION": "size_t",
        "CL_DEVICE_ENDIAN_LITTLE": "cl_bool",
        "CL_DEVICE_AVAILABLE": "cl_bool",
        "CL_DEVICE_COMPILER_AVAILABLE": "cl_bool",
        "CL_DEVICE_LINKER_AVAILABLE": "cl_bool",
        "CL_DEVICE_EXECUTION_CAPABILITIES": "cl_device_exec_capabilities",
        "CL_DEVICE_QUEUE_PROPERTIES": "cl_command_queue_properties",
        "CL_DEVICE_QUEUE_ON_HOST_PROPERTIES": "cl_command_queue_properties",
        "CL_DEVICE_QUEUE_ON_DEVICE_PROPERTIES": "cl_command_queue_properties",
        "CL_DEVICE_QUEUE_ON_DEVICE_PREFERRED_SIZE": "cl_uint",
        "CL_DEVICE_QUEUE_ON_DEVICE_MAX_SIZE": "cl_uint",
        "CL_DEVICE_MAX_ON_DEVICE_QUEUES": "cl_uint",
        "CL_DEVICE_MAX_ON_DEVICE_EVENTS": "cl_uint",
        "CL_DEVICE_BUILT_IN_KERNELS": "char[]",
        "CL_DEVICE_BUILT_IN_KERNELS_WITH_VERSION_KHR": "cl_name_version_khr[]",   # cl_khr_extended_versioning
        "CL_DEVICE_BUILT_IN_KERNELS_WITH_VERSION": "cl_name_version[]",
        "CL_DEVICE_PLATFORM": "cl_platform_id",
        "CL_DEVICE_NAME": "char[]",
        "CL_DEVICE_VENDOR": "char[]",
        "CL_DRIVER_VERSION": "char[]",
        "CL_DEVICE_PROFILE": "char[]",
        "CL_DEVICE_VERSION": "char[]",
        "CL_DEVICE_NUMERIC_VERSION_KHR": "cl_version_khr",                        # cl_khr_extended_versioning
        "CL_DEVICE_NUMERIC_VERSION": "cl_version",
        "CL_DEVICE_OPENCL_C_VERSION": "char[]",
        "CL_DEVICE_OPENCL_C_ALL_VERSIONS": "cl_name_version[]",
        "CL_DEVICE_OPENCL_C_FEATURES": "cl_name_version[]",
        "CL_DEVICE_EXTENSIONS": "char[]",
        "CL_DEVICE_EXTENSIONS_WITH_VERSION_KHR": "cl_name_version_khr[]",         # cl_khr_extended_versioning
        "CL_DEVICE_EXTENSIONS_WITH_VERSION": "cl_name_version[]",
        "CL_DEVICE_PRINTF_BUFFER_SIZE": "size_t",
        "CL_DEVICE_PREFERRED_INTEROP_USER_SYNC": "cl_bool",
        "CL_DEVICE_PARENT_DEVICE": "cl_device_id",
        "CL_DEVICE_PARTITION_MAX_SUB_DEVICES": "cl_uint",
        "CL_DEVICE_PARTITION_PROPERTIES": "cl_device_partition_property[]",
        "CL_DEVICE_PARTITION_AFFINITY_DOMAIN": "cl_device_affinity_domain",
        "CL_DEVICE_PARTITION_TYPE": "cl_device_partition_property[] properties",
        "CL_DEVICE_REFERENCE_COUNT": "cl_uint",
        "CL_DEVICE_SVM_CAPABILITIES": "cl_device_svm_capabilities",
        "CL_DEVICE_PREFERRED_PLATFORM_ATOMIC_ALIGNMENT": "cl_uint",
        "CL_DEVICE_PREFERRED_GLOBAL_ATOMIC_ALIGNMENT": "cl_uint",
        "CL_DEVICE_PREFERRED_LOCAL_ATOMIC_ALIGNMENT": "cl_uint",
        "CL_DEVICE_MAX_NUM_SUB_GROUPS": "cl_uint",
        "CL_DEVICE_SUB_GROUP_INDEPENDENT_FORWARD_PROGRESS": "cl_bool",
        "CL_DEVICE_ATOMIC_MEMORY_CAPABILITIES": "cl_device_atomic_capabilities",
        "CL_DEVICE_ATOMIC_FENCE_CAPABILITIES": "cl_device_atomic_capabilities",
        "CL_DEVICE_NON_UNIFORM_WORK_GROUP_SUPPORT": "cl_bool",
        "CL_DEVICE_WORK_GROUP_COLLECTIVE_FUNCTIONS_SUPPORT": "cl_bool",
        "CL_DEVICE_GENERIC_ADDRESS_SPACE_SUPPORT": "cl_bool",
        "CL_DEVICE_DEVICE_ENQUEUE_CAPABILITIES": "cl_device_device_enqueue_capabilities",
        "CL_DEVICE_PIPE_SUPPORT": "cl_bool",
        "CL_DEVICE_PREFERRED_WORK_GROUP_SIZE_MULTIPLE": "size_t",
        "CL_DEVICE_LATEST_CONFORMANCE_VERSION_PASSED": "char[]",
        # -- KHR and EXT extensions (cl_ext.h) --
        "CL_DEVICE_COMMAND_BUFFER_CAPABILITIES_KHR": "cl_device_command_buffer_capabilities_khr",
        "CL_DEVICE_COMMAND_BUFFER_REQUIRED_QUEUE_PROPERTIES_KHR": "cl_command_queue_properties",
        "CL_DEVICE_MUTABLE_DISPATCH_CAPABILITIES_KHR": "cl_mutable_dispatch_fields_khr",
        # cl_khr_terminate_context: cl_device_terminate_capability_khr, a cl_bitfield
        # typedef these headers do not declare
        "CL_DEVICE_TERMINATE_CAPABILITY_KHR": "cl_bitfield",
        "CL_DEVICE_SPIR_VERSIONS": "char[]",                                      # cl_khr_spir
        "CL_DEVICE_MAX_ATOMIC_COUNTERS_EXT": "cl_uint",                           # cl_ext_atomic_counters_32/64
        "CL_DEVICE_PARENT_DEVICE_EXT": "cl_device_id",                            # cl_ext_device_fission
        "CL_DEVICE_PARTITION_TYPES_EXT": "cl_device_partition_property_ext[]",
        "CL_DEVICE_AFFINITY_DOMAINS_EXT": "cl_device_partition_property_ext[]",
        "CL_DEVICE_REFERENCE_COUNT_EXT": "cl_uint",
        "CL_DEVICE_PARTITION_STYLE_EXT": "cl_device_partition_property_ext[]",
        "CL_DEVICE_CXX_FOR_OPENCL_NUMERIC_VERSION_EXT": "cl_version",             # cl_ext_cxx_for_opencl
        "CL_DEVICE_MAX_NAMED_BARRIER_COUNT_KHR": "cl_uint",                       # cl_khr_subgroup_named_barrier
        "CL_DEVICE_OPENCL_C_NUMERIC_VERSION_KHR": "cl_version_khr",               # cl_khr_extended_versioning
        "CL_DEVICE_UUID_KHR": "cl_uchar[16]",                                     # cl_khr_device_uuid: CL_UUID_SIZE_KHR
        "CL_DRIVER_UUID_KHR": "cl_uchar[16]",
        "CL_DEVICE_LUID_VALID_KHR": "cl_bool",
        "CL_DEVICE_LUID_KHR": "cl_uchar[8]",                                      # CL_LUID_SIZE_KHR
        "CL_DEVICE_NODE_MASK_KHR": "cl_uint",
        "CL_DEVICE_PCI_BUS_INFO_KHR": "cl_device_pci_bus_info_khr",               # cl_khr_pci_bus_info
        "CL_DEVICE_INTEGER_DOT_PRODUCT_CAPABILITIES_KHR": "cl_device_integer_dot_product_capabilities_khr",
        "CL_DEVICE_INTEGER_DOT_PRODUCT_ACCELERATION_PROPERTIES_8BIT_KHR":
            "cl_device_integer_dot_product_acceleration_properties_khr",
        "CL_DEVICE_INTEGER_DOT_PRODUCT_ACCELERATION_PROPERTIES_4x8BIT_PACKED_KHR":
            "cl_device_integer_dot_product_acceleration_properties_khr",
        "CL_DEVICE_EXTERNAL_MEMORY_IMPORT_HANDLE_TYPES_KHR": "cl_external_memory_handle_type_khr[]",
        "CL_DEVICE_SEMAPHORE_IMPORT_HANDLE_TYPES_KHR": "cl_external_semaphore_handle_type_khr[]",
        "CL_DEVICE_SEMAPHORE_EXPORT_HANDLE_TYPES_KHR": "cl_external_semaphore_handle_type_khr[]",
        "CL_DEVICE_SEMAPHORE_TYPES_KHR": "cl_semaphore_type_khr[]",
        # -- NVIDIA: cl_nv_device_attribute_query --
        "CL_DEVICE_COMPUTE_CAPABILITY_MAJOR_NV": "cl_uint",
        "CL_DEVICE_COMPUTE_CAPABILITY_MINOR_NV": "cl_uint",
        "CL_DEVICE_REGISTERS_PER_BLOCK_NV": "cl_uint",
        "CL_DEVICE_WARP_SIZE_NV": "cl_uint",
        "CL_DEVICE_GPU_OVERLAP_NV": "cl_bool",
        "CL_DEVICE_KERNEL_EXEC_TIMEOUT_NV": "cl_bool",
        "CL_DEVICE_INTEGRATED_MEMORY_NV": "cl_bool",
        # -- AMD: cl_amd_device_attribute_query --
        "CL_DEVICE_PROFILING_TIMER_OFFSET_AMD": "cl_ulong",
        "CL_DEVICE_TOPOLOGY_AMD": "cl_device_topology_amd",
        "CL_DEVICE_BOARD_NAME_AMD": "char[]",
        "CL_DEVICE_GLOBAL_FREE_MEMORY_AMD": "size_t[]",
        "CL_DEVICE_SIMD_PER_COMPUTE_UNIT_AMD": "cl_uint",
        "CL_DEVICE_SIMD_WIDTH_AMD": "cl_uint",
        "CL_DEVICE_SIMD_INSTRUCTION_WIDTH_AMD": "cl_uint",
        "CL_DEVICE_WAVEFRONT_WIDTH_AMD": "cl_uint",
        "CL_DEVICE_GLOBAL_MEM_CHANNELS_AMD": "cl_uint",
        "CL_DEVICE_GLOBAL_MEM_CHANNEL_BANKS_AMD": "cl_uint",
        "CL_DEVICE_GLOBAL_MEM_CHANNEL_BANK_WIDTH_AMD": "cl_uint",
        "CL_DEVICE_LOCAL_MEM_SIZE_PER_COMPUTE_UNIT_AMD": "cl_uint",
        "CL_DEVICE_LOCAL_MEM_BANKS_AMD": "cl_uint",
        "CL_DEVICE_THREAD_TRACE_SUPPORTED_AMD": "cl_bool",
        "CL_DEVICE_GFXIP_MAJOR_AMD": "cl_uint",
        "CL_DEVICE_GFXIP_MINOR_AMD": "cl_uint",
        "CL_DEVICE_AVAILABLE_ASYNC_QUEUES_AMD": "cl_uint",
        "CL_DEVICE_PREFERRED_WORK_GROUP_SIZE_AMD": "size_t",
        "CL_DEVICE_MAX_WORK_GROUP_SIZE_AMD": "size_t",
        "CL_DEVICE_PREFERRED_CONSTANT_BUFFER_SIZE_AMD": "size_t",
        "CL_DEVICE_PCIE_ID_AMD": "cl_uint",
        # -- Qualcomm: cl_qcom_ext_host_ptr (its text names no return type; sizes in bytes, read as size_t) --
        "CL_DEVICE_EXT_MEM_PADDING_IN_BYTES_QCOM": "size_t",
        "CL_DEVICE_PAGE_SIZE_QCOM": "size_t",
        # -- Arm --
        "CL_DEVICE_SVM_CAPABILITIES_ARM": "cl_device_svm_capabilities_arm",       # cl_arm_shared_virtual_memory
        "CL_DEVICE_COMPUTE_UNITS_BITFIELD_ARM": "cl_ulong",                       # cl_arm_get_core_id
        "CL_DEVICE_JOB_SLOTS_ARM": "cl_uint",                                     # cl_arm_job_slot_selection
        "CL_DEVICE_SCHEDULING_CONTROLS_CAPABILITIES_ARM": "cl_device_scheduling_controls_capabilities_arm",
        "CL_DEVICE_SUPPORTED_REGISTER_ALLOCATIONS_ARM": "cl_uint[]",              # cl_arm_scheduling_controls
        "CL_DEVICE_MAX_WARP_COUNT_ARM": "cl_uint",
        "CL_DEVICE_CONTROLLED_TERMINATION_CAPABILITIES_ARM": "cl_device_controlled_termination_capabilities_arm",
        # -- Intel --
        "CL_DEVICE_IP_VERSION_INTEL": "cl_version",                               # cl_intel_device_attribute_query
        "CL_DEVICE_ID_INTEL": "cl_uint",
        "CL_DEVICE_NUM_SLICES_INTEL": "cl_uint",
        "CL_DEVICE_NUM_SUB_SLICES_PER_SLICE_INTEL": "cl_uint",
        "CL_DEVICE_NUM_EUS_PER_SUB_SLICE_INTEL": "cl_uint",
        "CL_DEVICE_NUM_THREADS_PER_EU_INTEL": "cl_uint",
        "CL_DEVICE_FEATURE_CAPABILITIES_INTEL": "cl_device_feature_capabilities_intel",
        "CL_DEVICE_ME_VERSION_INTEL": "cl_uint",                                  # cl_intel_advanced_motion_estimation
        "CL_DEVICE_SIMULTANEOUS_INTEROPS_INTEL": "cl_uint[]",                     # cl_intel_simultaneous_sharing
        "CL_DEVICE_NUM_SIMULTANEOUS_INTEROPS_INTEL": "cl_uint",
        "CL_DEVICE_SUB_GROUP_SIZES_INTEL": "size_t[]",                            # cl_intel_required_subgroup_size
        "CL_DEVICE_PLANAR_YUV_MAX_WIDTH_INTEL": "size_t",                         # cl_intel_planar_yuv
        "CL_DEVICE_PLANAR_YUV_MAX_HEIGHT_INTEL": "size_t",
        # cl_intel_device_side_avc_motion_estimation
        "CL_DEVICE_AVC_ME_VERSION_INTEL": "cl_uint",
        "CL_DEVICE_AVC_ME_SUPPORTS_TEXTURE_SAMPLER_USE_INTEL": "cl_bool",
        "CL_DEVICE_AVC_ME_SUPPORTS_PREEMPTION_INTEL": "cl_bool",
        "CL_DEVICE_HOST_MEM_CAPABILITIES_INTEL": "cl_device_unified_shared_memory_capabilities_intel",
        "CL_DEVICE_DEVICE_MEM_CAPABILITIES_INTEL": "cl_device_unified_shared_memory_capabilities_intel",
        "CL_DEVICE_SINGLE_DEVICE_SHARED_MEM_CAPABILITIES_INTEL": "cl_device_unified_shared_memory_capabilities_intel",
        "CL_DEVICE_CROSS_DEVICE_SHARED_MEM_CAPABILITIES_INTEL": "cl_device_unified_shared_memory_capabilities_intel",
        "CL_DEVICE_SHARED_SYSTEM_MEM_CAPABILITIES_INTEL": "cl_device_unified_shared_memory_capabilities_intel",
        "CL_DEVICE_QUEUE_FAMILY_PROPERTIES_INTEL": "cl_queue_family_properties_intel[]",
    },
    "Context": {
        "CL_CONTEXT_REFERENCE_COUNT": "cl_uint",
        "CL_CONTEXT_NUM_DEVICES": "cl_uint",
        "CL_CONTEXT_DEVICES": "cl_device_id[]",
        "CL_CONTEXT_PROPERTIES": "cl_context_properties[] properties",
    },
    "CommandQueue": {
        "CL_QUEUE_CONTEXT": "cl_context",
        "CL_QUEUE_DEVICE": "cl_device_id",
        "CL_QUEUE_REFERENCE_COUNT": "cl_uint",
        "CL_QUEUE_PROPERTIES": "cl_command_queue_properties",
        "CL_QUEUE_PROPERTIES_ARRAY": "cl_queue_properties[] properties",
        "CL_QUEUE_SIZE": "cl_uint",
        "CL_QUEUE_DEVICE_DEFAULT": "cl_command_queue",
        "CL_QUEUE_FAMILY_INTEL": "cl_uint",                                       # cl_intel_command_queue_families
        "CL_QUEUE_INDEX_INTEL": "cl_uint",
    },
    "MemObject": {
        "CL_MEM_TYPE": "cl_mem_object_type",
        "CL_MEM_FLAGS": "cl_mem_flags",
        "CL_MEM_SIZE": "size_t",
        "CL_MEM_HOST_PTR": "void *",
        "CL_MEM_MAP_COUNT": "cl_uint",
        "CL_MEM_REFERENCE_COUNT": "cl_uint",
        "CL_MEM_CONTEXT": "cl_context",
        "CL_MEM_ASSOCIATED_MEMOBJECT": "cl_mem",
        "CL_MEM_OFFSET": "size_t",
        "CL_MEM_USES_SVM_POINTER": "cl_bool",
        "CL_MEM_PROPERTIES": "cl_mem_properties[] properties",
        "CL_MEM_USES_SVM_POINTER_ARM": "cl_bool",                                 # cl_arm_shared_virtual_memory
    },
    "Image": {
        "CL_IMAGE_FORMAT": "cl_image_format",
        "CL_IMAGE_ELEMENT_SIZE": "size_t",
        "CL_IMAGE_ROW_PITCH": "size_t",
        "CL_IMAGE_SLICE_PITCH": "size_t",
        "CL_IMAGE_WIDTH": "size_t",
        "CL_IMAGE_HEIGHT": "size_t",
        "CL_IMAGE_DEPTH": "size_t",
        "CL_IMAGE_ARRAY_SIZE": "size_t",
        "CL_IMAGE_BUFFER": "cl_mem",
        "CL_IMAGE_NUM_MIP_LEVELS": "cl_uint",
        "CL_IMAGE_NUM_SAMPLES": "cl_uint",
    },
    "Pipe": {
        "CL_PIPE_PACKET_SIZE": "cl_uint",
        "CL_PIPE_MAX_PACKETS": "cl_uint",
        "CL_PIPE_PROPERTIES": "cl_pipe_properties[] properties",
    },
    "Sampler": {
        "CL_SAMPLER_REFERENCE_COUNT": "cl_uint",
        "CL_SAMPLER_CONTEXT": "cl_context",
        "CL_SAMPLER_NORMALIZED_COORDS": "cl_bool",
        "CL_SAMPLER_ADDRESSING_MODE": "cl_addressing_mode",
        "CL_SAMPLER_FILTER_MODE": "cl_filter_mode",
        # cl_khr_mipmap_image: cl.h lists them under cl_sampler_info (2.0), cl_ext.h (KHR names)
        # as sampler properties; the types are those of the sampler properties table
        "CL_SAMPLER_MIP_FILTER_MODE_KHR": "cl_filter_mode",
        "CL_SAMPLER_MIP_FILTER_MODE": "cl_filter_mode",
        "CL_SAMPLER_LOD_MIN_KHR": "cl_float",
        "CL_SAMPLER_LOD_MIN": "cl_float",
        "CL_SAMPLER_LOD_MAX_KHR": "cl_float",
        "CL_SAMPLER_LOD_MAX": "cl_float",
        "CL_SAMPLER_PROPERTIES": "cl_sampler_properties[] properties",
    },
    "Program": {
        "CL_PROGRAM_REFERENCE_COUNT": "cl_uint",
        "CL_PROGRAM_CONTEXT": "cl_context",
        "CL_PROGRAM_NUM_DEVICES": "cl_uint",
        "CL_PROGRAM_DEVICES": "cl_device_id[]",
        "CL_PROGRAM_SOURCE": "char[]",
        "CL_PROGRAM_IL_KHR": "unsigned char[]",                                   # cl_khr_il_program
        "CL_PROGRAM_IL": "unsigned char[]",
        "CL_PROGRAM_BINARY_SIZES": "size_t[]",
        "CL_PROGRAM_BINARIES": "unsigned char *[]",
        "CL_PROGRAM_NUM_KERNELS": "size_t",
        "CL_PROGRAM_KERNEL_NAMES": "char[]",
        "CL_PROGRAM_SCOPE_GLOBAL_CTORS_PRESENT": "cl_bool",
        "CL_PROGRAM_SCOPE_GLOBAL_DTORS_PRESENT": "cl_bool",
    },
    "ProgramBuild": {
        "CL_PROGRAM_BUILD_STATUS": "cl_build_status",
        "CL_PROGRAM_BUILD_OPTIONS": "char[]",
        "CL_PROGRAM_BUILD_LOG": "char[]",
        "CL_PROGRAM_BINARY_TYPE": "cl_program_binary_type",
        "CL_PROGRAM_BUILD_GLOBAL_VARIABLE_TOTAL_SIZE": "size_t",
    },
    "Kernel": {
        "CL_KERNEL_FUNCTION_NAME": "char[]",
        "CL_KERNEL_NUM_ARGS": "cl_uint",
        "CL_KERNEL_REFERENCE_COUNT": "cl_uint",
        "CL_KERNEL_CONTEXT": "cl_context",
        "CL_KERNEL_PROGRAM": "cl_program",
        "CL_KERNEL_ATTRIBUTES": "char[]",
        "CL_KERNEL_MAX_WARP_COUNT_ARM": "cl_uint",                                # cl_arm_scheduling_controls
    },
    "KernelWorkGroup": {
        "CL_KERNEL_GLOBAL_WORK_SIZE": "size_t[]",
        "CL_KERNEL_WORK_GROUP_SIZE": "size_t",
        "CL_KERNEL_COMPILE_WORK_GROUP_SIZE": "size_t[]",
        "CL_KERNEL_LOCAL_MEM_SIZE": "cl_ulong",
        "CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE": "size_t",
        "CL_KERNEL_PRIVATE_MEM_SIZE": "cl_ulong",
        "CL_KERNEL_SPILL_MEM_SIZE_INTEL": "cl_ulong",                             # cl_intel_required_subgroup_size
    },
    "KernelArg": {
        "CL_KERNEL_ARG_ADDRESS_QUALIFIER": "cl_kernel_arg_address_qualifier",
        "CL_KERNEL_ARG_ACCESS_QUALIFIER": "cl_kernel_arg_access_qualifier",
        "CL_KERNEL_ARG_TYPE_NAME": "char[]",
        "CL_KERNEL_ARG_TYPE_QUALIFIER": "cl_kernel_arg_type_qualifier",
        "CL_KERNEL_ARG_NAME": "char[]",
    },
    "KernelSubGroup": {  # also clGetKernelSubGroupInfoKHR (cl_khr_subgroups)
        "CL_KERNEL_MAX_SUB_GROUP_SIZE_FOR_NDRANGE_KHR": "size_t",                 # cl_khr_subgroups
        "CL_KERNEL_MAX_SUB_GROUP_SIZE_FOR_NDRANGE": "size_t",
        "CL_KERNEL_SUB_GROUP_COUNT_FOR_NDRANGE_KHR": "size_t",                    # cl_khr_subgroups
        "CL_KERNEL_SUB_GROUP_COUNT_FOR_NDRANGE": "size_t",
        "CL_KERNEL_LOCAL_SIZE_FOR_SUB_GROUP_COUNT": "size_t[]",
        "CL_KERNEL_MAX_NUM_SUB_GROUPS": "size_t",
        "CL_KERNEL_COMPILE_NUM_SUB_GROUPS": "size_t",
        "CL_KERNEL_COMPILE_SUB_GROUP_SIZE_INTEL": "size_t",                       # cl_intel_required_subgroup_size
    },
    "Event": {
        "CL_EVENT_COMMAND_QUEUE": "cl_command_queue",
        "CL_EVENT_CONTEXT": "cl_context",
        "CL_EVENT_COMMAND_TYPE": "cl_command_type",
        "CL_EVENT_COMMAND_EXECUTION_STATUS": "cl_int",
        "CL_EVENT_REFERENCE_COUNT": "cl_uint",
        # cl_arm_controlled_kernel_termination
        "CL_EVENT_COMMAND_TERMINATION_REASON_ARM": "cl_command_termination_reason_arm",
    },
    "EventProfiling": {
        "CL_PROFILING_COMMAND_QUEUED": "cl_ulong",
        "CL_PROFILING_COMMAND_SUBMIT": "cl_ulong",
        "CL_PROFILING_COMMAND_START": "cl_ulong",
        "CL_PROFILING_COMMAND_END": "cl_ulong",
        "CL_PROFILING_COMMAND_COMPLETE": "cl_ulong",
    },
    # -- queries on objects without a class yet --
    "CommandBufferKHR": {  # cl_khr_command_buffer
        "CL_COMMAND_BUFFER_QUEUES_KHR": "cl_command_queue[]",
        "CL_COMMAND_BUFFER_NUM_QUEUES_KHR": "cl_uint",
        "CL_COMMAND_BUFFER_REFERENCE_COUNT_KHR": "cl_uint",
        "CL_COMMAND_BUFFER_STATE_KHR": "cl_command_buffer_state_khr",
        "CL_COMMAND_BUFFER_PROPERTIES_ARRAY_KHR": "cl_command_buffer_properties_khr[] properties",
    },
    "MutableCommandKHR": {  # cl_khr_command_buffer_mutable_dispatch
        "CL_MUTABLE_COMMAND_COMMAND_QUEUE_KHR": "cl_command_queue",
        "CL_MUTABLE_COMMAND_COMMAND_BUFFER_KHR": "cl_command_buffer_khr",
        "CL_MUTABLE_COMMAND_COMMAND_TYPE_KHR": "cl_command_type",
        "CL_MUTABLE_DISPATCH_PROPERTIES_ARRAY_KHR": "cl_ndrange_kernel_command_properties_khr[] properties",
        "CL_MUTABLE_DISPATCH_KERNEL_KHR": "cl_kernel",
        "CL_MUTABLE_DISPATCH_DIMENSIONS_KHR": "cl_uint",
        "CL_MUTABLE_DISPATCH_GLOBAL_WORK_OFFSET_KHR": "size_t[]",
        "CL_MUTABLE_DISPATCH_GLOBAL_WORK_SIZE_KHR": "size_t[]",
        "CL_MUTABLE_DISPATCH_LOCAL_WORK_SIZE_KHR": "size_t[]",
    },
    "SemaphoreKHR": {  # cl_khr_semaphore, cl_khr_external_semaphore
        "CL_SEMAPHORE_CONTEXT_KHR": "cl_context",
        "CL_SEMAPHORE_REFERENCE_COUNT_KHR": "cl_uint",
        "CL_SEMAPHORE_PROPERTIES_KHR": "cl_semaphore_properties_khr[] properties",
        "CL_SEMAPHORE_PAYLOAD_KHR": "cl_semaphore_payload_khr",
        "CL_SEMAPHORE_TYPE_KHR": "cl_semaphore_type_khr",
        "CL_SEMAPHORE_EXPORT_HANDLE_TYPES_KHR": "cl_external_semaphore_handle_type_khr[]",
        # the devices a semaphore is restricted to (later headers: CL_SEMAPHORE_DEVICE_HANDLE_LIST_KHR)
        "CL_DEVICE_HANDLE_LIST_KHR": "cl_device_id[]",
    },
    "AcceleratorINTEL": {  # cl_intel_accelerator
        "CL_ACCELERATOR_DESCRIPTOR_INTEL": "unsigned char[]",  # the descriptor struct given at creation
        "CL_ACCELERATOR_REFERENCE_COUNT_INTEL": "cl_uint",
        "CL_ACCELERATOR_CONTEXT_INTEL": "cl_context",
        "CL_ACCELERATOR_TYPE_INTEL": "cl_uint",
    },
    "MemAllocINTEL": {  # cl_intel_unified_shared_memory
        "CL_MEM_ALLOC_TYPE_INTEL": "cl_unified_shared_memory_type_intel",
        "CL_MEM_ALLOC_BASE_PTR_INTEL": "void *",
        "CL_MEM_ALLOC_SIZE_INTEL": "size_t",
        "CL_MEM_ALLOC_DEVICE_INTEL": "cl_device_id",
        "CL_MEM_ALLOC_FLAGS_INTEL": "cl_mem_alloc_flags_intel",
        "CL_MEM_ALLOC_BUFFER_LOCATION_INTEL": "cl_uint",  # cl_intel_mem_alloc_buffer_location
    },
    "ImageRequirementsEXT": {  # cl_ext_image_requirements_info
        "CL_IMAGE_REQUIREMENTS_ROW_PITCH_ALIGNMENT_EXT": "size_t",
        "CL_IMAGE_REQUIREMENTS_BASE_ADDRESS_ALIGNMENT_EXT": "size_t",
        "CL_IMAGE_REQUIREMENTS_SIZE_EXT": "size_t",
        "CL_IMAGE_REQUIREMENTS_MAX_WIDTH_EXT": "cl_uint",
        "CL_IMAGE_REQUIREMENTS_MAX_HEIGHT_EXT": "cl_uint",
        "CL_IMAGE_REQUIREMENTS_MAX_DEPTH_EXT": "cl_uint",
        "CL_IMAGE_REQUIREMENTS_MAX_ARRAY_SIZE_EXT": "cl_uint",
        "CL_IMAGE_REQUIREMENTS_SLICE_PITCH_ALIGNMENT_EXT": "size_t",  # cl_ext_image_from_buffer
    },
    "DeviceImageQCOM": {  # cl_qcom_ext_host_ptr (its table: all cl_uint)
        "CL_IMAGE_ROW_PITCH": "cl_uint",
        "CL_IMAGE_ROW_ALIGNMENT_QCOM": "cl_uint",
        "CL_IMAGE_SLICE_PITCH": "cl_uint",
        "CL_IMAGE_SLICE_ALIGNMENT_QCOM": "cl_uint",
    },
    "GLTexture": {  # cl_khr_gl_sharing (cl_gl.h)
        "CL_GL_TEXTURE_TARGET": "cl_GLenum",
        "CL_GL_MIPMAP_LEVEL": "cl_GLint",
        # cl_khr_gl_msaa_sharing: GLsizei, a 32-bit int the headers give no cl_ typedef
        "CL_GL_NUM_SAMPLES": "cl_GLint",
    },
    "GLContextKHR": {  # cl_khr_gl_sharing (cl_gl.h)
        "CL_CURRENT_DEVICE_FOR_GL_CONTEXT_KHR": "cl_device_id",
        "CL_DEVICES_FOR_GL_CONTEXT_KHR": "cl_device_id[]",
    },
}

#: C query function of each group
FUNCTION_OF_GROUP = {
    "Platform": "clGetPlatformInfo", "Device": "clGetDeviceInfo", "Context": "clGetContextInfo",
    "CommandQueue": "clGetCommandQueueInfo", "MemObject": "clGetMemObjectInfo", "Image": "clGetImageInfo",
    "Pipe": "clGetPipeInfo", "Sampler": "clGetSamplerInfo", "Program": "clGetProgramInfo",
    "ProgramBuild": "clGetProgramBuildInfo", "Kernel": "clGetKernelInfo",
    "KernelWorkGroup": "clGetKernelWorkGroupInfo", "KernelArg": "clGetKernelArgInfo",
    "KernelSubGroup": "clGetKernelSubGroupInfo", "Event": "clGetEventInfo",
    "EventProfiling": "clGetEventProfilingInfo",
    "CommandBufferKHR": "clGetCommandBufferInfoKHR", "MutableCommandKHR": "clGetMutableCommandInfoKHR",
    "SemaphoreKHR": "clGetSemaphoreInfoKHR", "AcceleratorINTEL": "clGetAcceleratorInfoINTEL",
    "MemAllocINTEL": "clGetMemAllocInfoINTEL", "ImageRequirementsEXT": "clGetImageRequirementsInfoEXT",
    "DeviceImageQCOM": "clGetDeviceImageInfoQCOM", "GLTexture": "clGetGLTextureInfo",
    "GLContextKHR": "clGetGLContextInfoKHR",
}

_SET_ONLY = "set with clSetKernelExecInfo (cl_kernel_exec_info); no query reads it back"
_SET_ONLY_ARM = "set with clSetKernelExecInfoARM (cl_kernel_exec_info_arm); no query reads it back"
_CONTEXT_PROPERTY = "a cl_context_properties name for clCreateContext; read back through CL_CONTEXT_PROPERTIES"
_QUEUE_PROPERTY = ("a cl_queue_properties name for clCreateCommandQueueWithProperties; "
                   "read back through CL_QUEUE_PROPERTIES_ARRAY")
_SCHEDULING_BIT = ("a bit of cl_device_scheduling_controls_capabilities_arm, the value of "
                   "CL_DEVICE_SCHEDULING_CONTROLS_CAPABILITIES_ARM (cl_ext.h lists it under cl_device_info)")
_ME_VERSION = "a value of CL_DEVICE_ME_VERSION_INTEL (cl_ext.h lists it under cl_device_info)"
_HOST_CACHE_POLICY = "a value of cl_mem_ext_host_ptr.host_cache_policy (cl_qcom_ext_host_ptr), not a param"
_ALLOCATION_TYPE = "a value of cl_mem_ext_host_ptr.allocation_type (Qualcomm host-pointer extensions), not a param"
_USM_TYPE = "a cl_unified_shared_memory_type_intel value of CL_MEM_ALLOC_TYPE_INTEL, not a param"
_PARTITION_VALUE = "a cl_device_partition_property(_ext) value for clCreateSubDevices(EXT), not a param"
_GL_OBJECT = ("a cl_gl_object_type value; clGetGLObjectInfo takes no param_name (it fills a "
              "cl_gl_object_type and a cl_GLuint), so it has no group")

#: CL_* names that look like info params but are deliberately not in INFO, and why
LEFT_OUT = {
    # -- listed under an info group in the headers, but not queried --
    "CL_KERNEL_EXEC_INFO_SVM_PTRS": _SET_ONLY,
    "CL_KERNEL_EXEC_INFO_SVM_FINE_GRAIN_SYSTEM": _SET_ONLY,
    "CL_KERNEL_EXEC_INFO_WORKGROUP_BATCH_SIZE_ARM": _SET_ONLY,
    "CL_KERNEL_EXEC_INFO_WORKGROUP_BATCH_SIZE_MODIFIER_ARM": _SET_ONLY,
    "CL_KERNEL_EXEC_INFO_WARP_COUNT_LIMIT_ARM": _SET_ONLY,
    "CL_KERNEL_EXEC_INFO_COMPUTE_UNIT_MAX_QUEUED_BATCHES_ARM": _SET_ONLY,
    "CL_KERNEL_EXEC_INFO_INDIRECT_HOST_ACCESS_INTEL": _SET_ONLY,
    "CL_KERNEL_EXEC_INFO_INDIRECT_DEVICE_ACCESS_INTEL": _SET_ONLY,
    "CL_KERNEL_EXEC_INFO_INDIRECT_SHARED_ACCESS_INTEL": _SET_ONLY,
    "CL_KERNEL_EXEC_INFO_USM_PTRS_INTEL": _SET_ONLY,
    "CL_KERNEL_EXEC_INFO_SVM_PTRS_ARM": _SET_ONLY_ARM,
    "CL_KERNEL_EXEC_INFO_SVM_FINE_GRAIN_SYSTEM_ARM": _SET_ONLY_ARM,
    "CL_DEVICE_SCHEDULING_KERNEL_BATCHING_ARM": _SCHEDULING_BIT,
    "CL_DEVICE_SCHEDULING_WORKGROUP_BATCH_SIZE_ARM": _SCHEDULING_BIT,
    "CL_DEVICE_SCHEDULING_WORKGROUP_BATCH_SIZE_MODIFIER_ARM": _SCHEDULING_BIT,
    "CL_DEVICE_SCHEDULING_DEFERRED_FLUSH_ARM": _SCHEDULING_BIT,
    "CL_DEVICE_SCHEDULING_REGISTER_ALLOCATION_ARM": _SCHEDULING_BIT,
    "CL_DEVICE_SCHEDULING_WARP_THROTTLING_ARM": _SCHEDULING_BIT,
    "CL_DEVICE_SCHEDULING_COMPUTE_UNIT_BATCH_QUEUE_SIZE_ARM": _SCHEDULING_BIT,
    "CL_ME_VERSION_LEGACY_INTEL": _ME_VERSION,
    "CL_ME_VERSION_ADVANCED_VER_1_INTEL": _ME_VERSION,
    "CL_ME_VERSION_ADVANCED_VER_2_INTEL": _ME_VERSION,
    "CL_DEVICE_HANDLE_LIST_END_KHR": "the 0 that ends a CL_DEVICE_HANDLE_LIST_KHR list, not a param",
    # -- property names: given at creation, read back through the *_PROPERTIES(_ARRAY) query --
    "CL_CONTEXT_PLATFORM": _CONTEXT_PROPERTY,
    "CL_CONTEXT_INTEROP_USER_SYNC": _CONTEXT_PROPERTY,
    "CL_CONTEXT_MEMORY_INITIALIZE_KHR": _CONTEXT_PROPERTY + " (cl_khr_initialize_memory)",
    "CL_CONTEXT_TERMINATE_KHR": _CONTEXT_PROPERTY + " (cl_khr_terminate_context)",
    "CL_CONTEXT_OFFLINE_DEVICES_AMD": _CONTEXT_PROPERTY + " (cl_amd_offline_devices)",
    "CL_CONTEXT_SHOW_DIAGNOSTICS_INTEL": _CONTEXT_PROPERTY + " (cl_intel_driver_diagnostics)",
    "CL_PRINTF_CALLBACK_ARM": _CONTEXT_PROPERTY + " (cl_arm_printf)",
    "CL_PRINTF_BUFFERSIZE_ARM": _CONTEXT_PROPERTY + " (cl_arm_printf)",
    "CL_GL_CONTEXT_KHR": _CONTEXT_PROPERTY + " (cl_khr_gl_sharing)",
    "CL_EGL_DISPLAY_KHR": _CONTEXT_PROPERTY + " (cl_khr_gl_sharing)",
    "CL_GLX_DISPLAY_KHR": _CONTEXT_PROPERTY + " (cl_khr_gl_sharing)",
    "CL_WGL_HDC_KHR": _CONTEXT_PROPERTY + " (cl_khr_gl_sharing)",
    "CL_CGL_SHAREGROUP_KHR": _CONTEXT_PROPERTY + " (cl_khr_gl_sharing)",
    "CL_QUEUE_PRIORITY_KHR": _QUEUE_PROPERTY + " (cl_khr_priority_hints)",
    "CL_QUEUE_THROTTLE_KHR": _QUEUE_PROPERTY + " (cl_khr_throttle_hints)",
    "CL_QUEUE_JOB_SLOT_ARM": _QUEUE_PROPERTY + " (cl_arm_job_slot_selection)",
    "CL_QUEUE_KERNEL_BATCHING_ARM": _QUEUE_PROPERTY + " (cl_arm_scheduling_controls)",
    "CL_QUEUE_DEFERRED_FLUSH_ARM": _QUEUE_PROPERTY + " (cl_arm_scheduling_controls)",
    "CL_MEM_ALLOC_FLAGS_IMG": ("a cl_mem_properties name for clCreateBufferWithProperties (cl_img_mem_properties); "
                               "read back through CL_MEM_PROPERTIES"),
    "CL_MEM_CHANNEL_INTEL": ("a cl_mem_properties_intel name for clCreateBufferWithPropertiesINTEL "
                             "(cl_intel_mem_channel_property); no query reads it back"),
    "CL_COMMAND_BUFFER_FLAGS_KHR": ("a cl_command_buffer_properties_khr name for clCreateCommandBufferKHR; "
                                    "read back through CL_COMMAND_BUFFER_PROPERTIES_ARRAY_KHR"),
    "CL_MUTABLE_DISPATCH_UPDATABLE_FIELDS_KHR": ("a cl_ndrange_kernel_command_properties_khr name for "
                                                 "clCommandNDRangeKernelKHR; read back through "
                                                 "CL_MUTABLE_DISPATCH_PROPERTIES_ARRAY_KHR"),
    "CL_SEMAPHORE_EXPORT_HANDLE_TYPES_LIST_END_KHR": "the 0 that ends a CL_SEMAPHORE_EXPORT_HANDLE_TYPES_KHR list",
    # -- values that share a group prefix with params --
    "CL_MEM_HOST_UNCACHED_QCOM": _HOST_CACHE_POLICY,
    "CL_MEM_HOST_WRITEBACK_QCOM": _HOST_CACHE_POLICY,
    "CL_MEM_HOST_WRITETHROUGH_QCOM": _HOST_CACHE_POLICY,
    "CL_MEM_HOST_WRITE_COMBINING_QCOM": _HOST_CACHE_POLICY,
    "CL_MEM_HOST_IOCOHERENT_QCOM": _HOST_CACHE_POLICY,
    "CL_MEM_ION_HOST_PTR_QCOM": _ALLOCATION_TYPE,
    "CL_MEM_ANDROID_NATIVE_BUFFER_HOST_PTR_QCOM": _ALLOCATION_TYPE,
    "CL_MEM_TYPE_UNKNOWN_INTEL": _USM_TYPE,
    "CL_MEM_TYPE_HOST_INTEL": _USM_TYPE,
    "CL_MEM_TYPE_DEVICE_INTEL": _USM_TYPE,
    "CL_MEM_TYPE_SHARED_INTEL": _USM_TYPE,
    "CL_DEVICE_PARTITION_EQUALLY_EXT": _PARTITION_VALUE,
    "CL_DEVICE_PARTITION_BY_COUNTS_EXT": _PARTITION_VALUE,
    "CL_DEVICE_PARTITION_BY_NAMES_EXT": _PARTITION_VALUE,
    "CL_DEVICE_PARTITION_BY_AFFINITY_DOMAIN_EXT": _PARTITION_VALUE,
    "CL_DEVICE_PARTITION_BY_NAMES_INTEL": _PARTITION_VALUE,
    "CL_DEVICE_TOPOLOGY_TYPE_PCIE_AMD": "a value of cl_device_topology_amd.raw.type, not a param",
    "CL_PROGRAM_BINARY_TYPE_INTERMEDIATE": "a cl_program_binary_type value of CL_PROGRAM_BINARY_TYPE (cl_khr_spir)",
    "CL_GL_OBJECT_BUFFER": _GL_OBJECT,
    "CL_GL_OBJECT_TEXTURE2D": _GL_OBJECT,
    "CL_GL_OBJECT_TEXTURE3D": _GL_OBJECT,
    "CL_GL_OBJECT_RENDERBUFFER": _GL_OBJECT,
    "CL_GL_OBJECT_TEXTURE2D_ARRAY": _GL_OBJECT,
    "CL_GL_OBJECT_TEXTURE1D": _GL_OBJECT,
    "CL_GL_OBJECT_TEXTURE1D_ARRAY": _GL_OBJECT,
    "CL_GL_OBJECT_TEXTURE_BUFFER": _GL_OBJECT,
}
