package org.imagingpipeline.dicomnet;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;
import java.util.zip.Inflater;
import java.util.zip.InflaterInputStream;

/**
 * Caps on decompression, so that a small compressed input (a "deflate bomb": 4 MiB that inflate to 4 GiB) is refused
 * after a bounded amount of work instead of filling the heap or the disk: at most {@code maxBytes} inflated bytes, and
 * at most {@code maxRatio} inflated bytes per compressed byte once more than {@link #RATIO_GRACE_BYTES} were inflated.
 * Used for the Deflated Explicit VR Little Endian transfer syntax and for HTTP Content-Encoding (gzip, deflate).
 *
 * @param maxBytes largest inflated size
 * @param maxRatio largest inflated / compressed ratio
 */
public record InflateLimits(long maxBytes, int maxRatio) {
    /** Inflated bytes allowed before the ratio is checked (tiny inputs compress arbitrarily well). */
    public static final long RATIO_GRACE_BYTES = 1 << 20;

    public InflateLimits {
        if (maxBytes < 1 || maxRatio < 1) throw new IllegalArgumentException("inflate limits must be positive");
    }

    /** The compressed formats. */
    public enum Format {
        /** Raw deflate (RFC 1951): the DICOM deflated transfer syntax. */
        RAW,
        /** zlib (RFC 1950): HTTP Content-Encoding "deflate". */
        ZLIB,
        /** gzip (RFC 1952): HTTP Content-Encoding "gzip". */
        GZIP
    }

    /** The input's inflated data ran past a cap (not malformed: too large). */
    public static final class Exceeded extends IOException {
        public Exceeded(String message) {
            super(message);
        }
    }

    /** Streams the inflated bytes of {@code compressed}; reading past a cap throws {@link Exceeded}. */
    public InputStream inflate(InputStream compressed, Format format) throws IOException {
        Counting counted = new Counting(compressed);
        InputStream inflating = switch (format) {
            case RAW -> new InflaterInputStream(counted, new Inflater(true), 16 * 1024);
            case ZLIB -> new InflaterInputStream(counted, new Inflater(false), 16 * 1024);
            case GZIP -> new GZIPInputStream(counted, 16 * 1024);
        };
        return new Guard(inflating, counted);
    }

    /** Reads {@code in}, throwing {@link Exceeded} once more than {@code maxBytes} were read (a request body's cap). */
    public static InputStream capped(InputStream in, long maxBytes) {
        return new Counting(in) {
            @Override
            void counted() throws Exceeded {
                if (count > maxBytes) throw new Exceeded("exceeds " + maxBytes + " bytes");
            }
        };
    }

    private static class Counting extends FilterInputStream {
        long count;

        Counting(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count++;
                counted();
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count += n;
                counted();
            }
            return n;
        }

        void counted() throws Exceeded {
        }
    }

    private final class Guard extends FilterInputStream {
        private final Counting compressed;
        private long inflated;

        Guard(InputStream in, Counting compressed) {
            super(in);
            this.compressed = compressed;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                inflated += n;
                if (inflated > maxBytes) throw new Exceeded("inflates to more than " + maxBytes + " bytes");
                if (inflated > RATIO_GRACE_BYTES && inflated > (double) maxRatio * Math.max(1, compressed.count)) {
                    throw new Exceeded("inflates more than " + maxRatio + " times (" + inflated + " bytes from " + compressed.count + ")");
                }
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            byte[] buf = new byte[(int) Math.min(n, 8192)];
            long done = 0;
            while (done < n) {
                int r = read(buf, 0, (int) Math.min(buf.length, n - done));
                if (r < 0) break;
                done += r;
            }
            return done;
        }
    }
}
