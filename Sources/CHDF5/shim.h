#ifndef CAMKIT_CHDF5_SHIM_H
#define CAMKIT_CHDF5_SHIM_H
#include <hdf5.h>

/* HDF5's predefined types and property lists are macros over library globals that must be
   initialised first (H5open); Swift cannot import them, so they are wrapped here. */
static inline hid_t camkit_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t camkit_h5t_c_s1(void) { return H5T_C_S1; }
static inline hid_t camkit_h5p_default(void) { return H5P_DEFAULT; }
static inline unsigned camkit_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline hid_t camkit_h5s_all(void) { return H5S_ALL; }
static inline size_t camkit_h5t_variable(void) { return H5T_VARIABLE; }
static inline herr_t camkit_h5_silence_errors(void) { return H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
#endif
