/* picolibc's stdout on the QEMU UART, so programs written for X-HEEP (which print with
 * printf) run under QEMU unchanged: tests/scripts/test_deploy_xheep_app.sh builds a generated
 * X-HEEP application with it. The nanoml harness itself does not use stdio. */
#include <stdio.h>

#include "fw.h"

static int uart_put(char c, FILE *stream) {
    (void)stream;
    fw_putc(c);
    return (unsigned char)c;
}

static FILE uart_stream = FDEV_SETUP_STREAM(uart_put, NULL, NULL, _FDEV_SETUP_WRITE);
FILE *const stdout = &uart_stream;
FILE *const stderr = &uart_stream;
