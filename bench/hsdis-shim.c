/*
 * A disassembler for HotSpot's -XX:+PrintAssembly and JMH's perfasm profiler on JDK 17, from
 * Debian's libhsdis0-fcml (bench/perfasm.sh builds and uses it; not part of the build).
 *
 * JDK 17 looks for hsdis-amd64.so and calls its decode_instructions_virtual(). Debian 12's FCML
 * plugin exports only the older decode_instructions(), which decodes the code where it lies, so
 * without this the JVM prints machine code as hex words. This file exports the newer entry point
 * and forwards to the older one when the code to print is the code in place (the buffer is at the
 * code's own address: how JDK 17 prints compiled methods); otherwise it declines (returns NULL)
 * and the JVM prints hex as before. The event and printf callbacks have the same meaning in both.
 */
#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>

typedef void *(*hsdis_event_fn)(void *stream, const char *event, void *arg);
typedef int (*hsdis_printf_fn)(void *stream, const char *format, ...);
typedef void *(*hsdis_decode_fn)(void *start, void *end, hsdis_event_fn event, void *event_stream,
                                 hsdis_printf_fn printf_fn, void *printf_stream, const char *options);

#ifndef FCML_HSDIS
#define FCML_HSDIS "libhsdis.so.0"
#endif

void *decode_instructions_virtual(uintptr_t start_va, uintptr_t end_va, unsigned char *buffer, uintptr_t length,
                                  hsdis_event_fn event, void *event_stream, hsdis_printf_fn printf_fn,
                                  void *printf_stream, const char *options, int newline) {
    static hsdis_decode_fn decode;
    (void) newline;
    if (decode == NULL) {
        void *lib = dlopen(FCML_HSDIS, RTLD_NOW | RTLD_LOCAL);
        if (lib == NULL) {
            return NULL;
        }
        decode = (hsdis_decode_fn) dlsym(lib, "decode_instructions");
        if (decode == NULL) {
            return NULL;
        }
    }
    if ((uintptr_t) buffer != start_va || end_va - start_va != length) {
        return NULL;
    }
    return decode(buffer, buffer + length, event, event_stream, printf_fn, printf_stream, options);
}
