/* spandsp_dtmf: time Debian's libspandsp DTMF receiver on the same audio as qbox.
 *
 * Usage: spandsp_dtmf CHANNELS BLOCK FILE
 *   FILE holds int16 samples (native order), channel-major per block: for each
 *   block, CHANNELS consecutive runs of BLOCK samples (a span's 20 ms block is
 *   CHANNELS x 160) -- exactly what qbox's MultiChannelDtmf.feed() takes.
 * Prints one JSON object: samples, cpu_seconds, samples_per_second, digits.
 * Only the dtmf_rx() calls are timed (process CPU time), not reading the file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <spandsp.h>

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s CHANNELS BLOCK FILE\n", argv[0]);
        return 2;
    }
    int channels = atoi(argv[1]), block = atoi(argv[2]);
    FILE *f = fopen(argv[3], "rb");
    if (channels < 1 || block < 1 || f == NULL) {
        fprintf(stderr, "%s: bad arguments or unreadable %s\n", argv[0], argv[3]);
        return 2;
    }
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    size_t per_block = (size_t) channels * block;
    size_t blocks = (size_t) bytes / 2 / per_block;
    int16_t *audio = malloc(blocks * per_block * sizeof(int16_t));
    if (audio == NULL || fread(audio, sizeof(int16_t), blocks * per_block, f) != blocks * per_block) {
        fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[3]);
        return 2;
    }
    fclose(f);

    dtmf_rx_state_t **rx = calloc(channels, sizeof(*rx));
    for (int ch = 0; ch < channels; ch++)
        rx[ch] = dtmf_rx_init(NULL, NULL, NULL);

    char digits[256];
    long found = 0;
    double start = cpu_seconds();
    for (size_t b = 0; b < blocks; b++) {
        const int16_t *span = audio + b * per_block;
        for (int ch = 0; ch < channels; ch++) {
            dtmf_rx(rx[ch], span + (size_t) ch * block, block);
            found += (long) dtmf_rx_get(rx[ch], digits, sizeof(digits) - 1);
        }
    }
    double elapsed = cpu_seconds() - start;

    double samples = (double) blocks * per_block;
    printf("{\"samples\": %.0f, \"cpu_seconds\": %.6f, \"samples_per_second\": %.1f, \"digits\": %ld}\n",
           samples, elapsed, samples / elapsed, found);
    for (int ch = 0; ch < channels; ch++)
        dtmf_rx_free(rx[ch]);
    free(rx);
    free(audio);
    return 0;
}
