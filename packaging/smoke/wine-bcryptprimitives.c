/* For `make dist-test` under wine 8 (Debian 12) only, never shipped: Rust's std (>= 1.78) takes
 * random bytes from ProcessPrng in bcryptprimitives.dll, which wine has only from 9.x on. This
 * stand-in serves them from RtlGenRandom (advapi32's SystemFunction036). */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  while (len > 0) {
    ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
    if (!SystemFunction036(data, chunk)) return FALSE;
    data += chunk;
    len -= chunk;
  }
  return TRUE;
}
