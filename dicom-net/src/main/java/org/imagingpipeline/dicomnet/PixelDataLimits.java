package org.imagingpipeline.dicomnet;

/**
 * Pixel-size arithmetic done before any pixel array is allocated. A dataset's header claims a geometry (Rows, Columns,
 * SamplesPerPixel, BitsAllocated, NumberOfFrames); a decoder that trusts it allocates Rows x Columns values before it
 * looks at the pixel data, so one instance claiming 30000 x 30000 costs gigabytes of heap however small its file is.
 * {@link #check} refuses, with a reason that names the attribute and the limit (never a patient value):
 * <ul>
 *   <li>a missing or out-of-range attribute (Rows, Columns, SamplesPerPixel 1..4, BitsAllocated 1 or a multiple of 8 up
 *       to 64, NumberOfFrames);</li>
 *   <li>a geometry over the caps ({@code maxRows}, {@code maxColumns}, {@code maxPixelsPerFrame}, {@code maxFrames},
 *       {@code maxPixelBytes}: the decoded size of all frames);</li>
 *   <li>a product that overflows a long;</li>
 *   <li>native (uncompressed) pixel data whose length disagrees with the claim: shorter than the claim, or longer than
 *       the claim padded to an even length; and pixel data a file of that size cannot hold.</li>
 * </ul>
 * Used by streams (fingerprinting) and inference (decoding), each with its own configured caps.
 *
 * @param maxRows           largest Rows accepted
 * @param maxColumns        largest Columns accepted
 * @param maxPixelsPerFrame largest Rows x Columns accepted
 * @param maxFrames         largest NumberOfFrames accepted
 * @param maxPixelBytes     largest decoded size of all frames (Rows x Columns x SamplesPerPixel x BitsAllocated / 8 x
 *                          NumberOfFrames)
 */
public record PixelDataLimits(int maxRows, int maxColumns, long maxPixelsPerFrame, int maxFrames, long maxPixelBytes) {
    /** 16384 rows or columns, 4096 x 4096 pixels a frame, 10000 frames, 1 GiB decoded. */
    public static final PixelDataLimits DEFAULT = new PixelDataLimits(16384, 16384, 4096L * 4096, 10000, 1L << 30);

    public PixelDataLimits {
        if (maxRows < 1 || maxColumns < 1 || maxPixelsPerFrame < 1 || maxFrames < 1 || maxPixelBytes < 1) {
            throw new IllegalArgumentException("pixel data limits must be positive");
        }
    }

    /**
     * The geometry a dataset's header claims; null = the attribute is absent.
     *
     * @param samplesPerPixel null: 1
     * @param numberOfFrames  null: 1
     */
    public record Claim(Integer rows, Integer columns, Integer samplesPerPixel, Integer bitsAllocated, Integer numberOfFrames) {
        /** False when neither Rows nor Columns is present: no image claimed (not a picture: a decoder says so itself). */
        public boolean claimsPixels() {
            return rows != null || columns != null;
        }
    }

    /** Why pixel data was refused (no patient values in the message). */
    public static final class Refused extends Exception {
        public Refused(String reason) {
            super(reason);
        }
    }

    /**
     * Checks a claim before decoding.
     *
     * @param claim            what the header says
     * @param pixelDataLength  bytes of the PixelData element's value for native pixel data; -1 when not known yet (the
     *                         pixel data was not read) or encapsulated (compressed: its length says nothing of the
     *                         decoded size)
     * @param fileSize         size of the whole object in bytes for native pixel data (the pixel data cannot be larger);
     *                         -1 when not known or encapsulated
     * @return the decoded size in bytes of all frames
     */
    public long check(Claim claim, long pixelDataLength, long fileSize) throws Refused {
        int rows = required("Rows", claim.rows(), maxRows, "max-rows");
        int columns = required("Columns", claim.columns(), maxColumns, "max-columns");
        int samples = claim.samplesPerPixel() == null ? 1 : claim.samplesPerPixel();
        if (samples < 1 || samples > 4) throw new Refused("SamplesPerPixel " + samples + " is not 1..4");
        if (claim.bitsAllocated() == null) throw new Refused("BitsAllocated is missing");
        int bits = claim.bitsAllocated();
        if (bits != 1 && (bits < 8 || bits > 64 || bits % 8 != 0)) throw new Refused("BitsAllocated " + bits + " is not 1 or 8..64 in steps of 8");
        int frames = claim.numberOfFrames() == null ? 1 : claim.numberOfFrames();
        if (frames < 1) throw new Refused("NumberOfFrames " + frames + " is not positive");
        if (frames > maxFrames) throw new Refused("NumberOfFrames " + frames + " exceeds the limit " + maxFrames + " (max-frames)");
        long pixels = (long) rows * columns;
        if (pixels > maxPixelsPerFrame) {
            throw new Refused("Rows x Columns " + rows + " x " + columns + " = " + pixels + " pixels a frame exceeds the limit "
                    + maxPixelsPerFrame + " (max-pixels)");
        }
        long bytes;
        try {
            long bitsTotal = Math.multiplyExact(Math.multiplyExact(Math.multiplyExact(pixels, samples), frames), bits);
            bytes = bitsTotal / 8 + (bitsTotal % 8 == 0 ? 0 : 1);
        } catch (ArithmeticException e) {
            throw new Refused("Rows x Columns x SamplesPerPixel x NumberOfFrames x BitsAllocated overflows");
        }
        String geometry = rows + " x " + columns + " x " + samples + " sample(s) x " + bits + " bits x " + frames + " frame(s)";
        if (bytes > maxPixelBytes) {
            throw new Refused(geometry + " = " + bytes + " bytes decoded exceeds the limit " + maxPixelBytes + " (max-bytes)");
        }
        if (fileSize >= 0 && bytes > fileSize) {
            throw new Refused(geometry + " = " + bytes + " bytes of native pixel data, but the whole object has " + fileSize + " bytes");
        }
        if (pixelDataLength >= 0 && (pixelDataLength < bytes || pixelDataLength > bytes + (bytes & 1))) {
            throw new Refused("PixelData holds " + pixelDataLength + " bytes; " + geometry + " needs " + bytes);
        }
        return bytes;
    }

    private static int required(String name, Integer value, int max, String key) throws Refused {
        if (value == null) throw new Refused(name + " is missing");
        if (value < 1) throw new Refused(name + " " + value + " is not positive");
        if (value > max) throw new Refused(name + " " + value + " exceeds the limit " + max + " (" + key + ")");
        return value;
    }
}
