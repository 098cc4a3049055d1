#ifndef CAMKIT_FUZZ_HDF5_SHIM_H
#define CAMKIT_FUZZ_HDF5_SHIM_H
#include <hdf5.h>

/* HDF5's predefined types and property lists are macros over library globals (see CAMKit's
   CHDF5); these are the ones the Keras fuzzers write and check files with. */
static inline hid_t fuzz_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t fuzz_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t fuzz_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t fuzz_h5t_c_s1(void) { return H5T_C_S1; }
static inline hid_t fuzz_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t fuzz_h5p_link_create(void) { return H5P_LINK_CREATE; }
static inline hid_t fuzz_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline unsigned fuzz_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline hid_t fuzz_h5s_all(void) { return H5S_ALL; }
static inline size_t fuzz_h5t_variable(void) { return H5T_VARIABLE; }
static inline herr_t fuzz_h5_silence_errors(void) { return H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
/* Files, groups, datasets, types and attributes open in the whole library. */
static inline ssize_t fuzz_h5_open_objects(void) { return H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL); }
#endif
