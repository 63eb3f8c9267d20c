/* A module for roots_test: its data and bss must become static roots once
 * it is dlopen'd. */
void *roots_dl_data = (void *)&roots_dl_data;
void *roots_dl_bss;
