package org.imagingpipeline.streams;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.DicomInputStream;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import java.io.BufferedInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.imagingpipeline.dicomnet.PixelDataLimits;

/**
 * Decodes the first frame of one Part-10 object with PixelMed (compressed transfer syntaxes through PixelMed's
 * codecs and the ImageIO readers of pixelmed-imageio) into rescaled values: stored value, sign-extended when
 * PixelRepresentation is 1, times RescaleSlope plus RescaleIntercept. Anything PixelMed cannot decode (a codec
 * missing, colour data, no pixels) is a {@link Undecodable} naming the transfer syntax and why.
 *
 * <p>Pixel-size arithmetic comes first ({@link PixelDataLimits}): the header is read up to PixelData and its geometry
 * checked against the caps, against the file's size and, once read, against the pixel data's length; an instance that
 * fails is a {@link Refused} (a bad record, not a codec gap) and nothing of its size is allocated.
 */
public final class PixelDecoder {
    private PixelDecoder() {
    }

    /** Why a frame could not be decoded; {@code transferSyntaxUid} as the file says. */
    public static class Undecodable extends Exception {
        private final String transferSyntaxUid;

        public Undecodable(String transferSyntaxUid, String why, Throwable cause) {
            super(why, cause);
            this.transferSyntaxUid = transferSyntaxUid;
        }

        public String transferSyntaxUid() {
            return transferSyntaxUid;
        }
    }

    /** The instance's header claims pixel data beyond the limits or disagreeing with its length: a bad record. */
    public static final class Refused extends Undecodable {
        public Refused(String transferSyntaxUid, String why) {
            super(transferSyntaxUid, why, null);
        }
    }

    /** {@link #decode(Path, PixelDataLimits)} with the default limits. */
    public static ImageStatistics.Slice decode(Path file) throws Undecodable {
        return decode(file, PixelDataLimits.DEFAULT);
    }

    public static ImageStatistics.Slice decode(Path file, PixelDataLimits limits) throws Undecodable {
        String ts = null;
        long expected = checkHeader(file, limits);
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file)); DicomInputStream din = new DicomInputStream(in)) {
            AttributeList l = new AttributeList();
            l.read(din);
            ts = Attribute.getSingleStringValueOrNull(l, TagFromName.TransferSyntaxUID);
            Attribute read = l.getPixelData();
            if (expected >= 0 && read != null && ts != null && TransferSyntax.isNotEncapsulated(ts) && read.getVL() != expected
                    && read.getVL() != expected + (expected & 1)) {
                throw new Refused(ts, "PixelData holds " + read.getVL() + " bytes; the header's geometry needs " + expected);
            }
            int rows = Attribute.getSingleIntegerValueOrDefault(l, TagFromName.Rows, 0);
            int cols = Attribute.getSingleIntegerValueOrDefault(l, TagFromName.Columns, 0);
            int spp = Attribute.getSingleIntegerValueOrDefault(l, TagFromName.SamplesPerPixel, 1);
            int bitsAllocated = Attribute.getSingleIntegerValueOrDefault(l, TagFromName.BitsAllocated, 16);
            int bitsStored = Attribute.getSingleIntegerValueOrDefault(l, TagFromName.BitsStored, bitsAllocated);
            boolean signed = Attribute.getSingleIntegerValueOrDefault(l, TagFromName.PixelRepresentation, 0) == 1;
            double slope = Attribute.getSingleDoubleValueOrDefault(l, TagFromName.RescaleSlope, 1.0);
            double intercept = Attribute.getSingleDoubleValueOrDefault(l, TagFromName.RescaleIntercept, 0.0);
            if (slope == 0) slope = 1;
            Attribute pixels = l.getPixelData();
            if (pixels == null) throw new Undecodable(ts, "no PixelData", null);
            if (spp != 1) throw new Undecodable(ts, "SamplesPerPixel " + spp + " (only grayscale is measured)", null);
            if (rows <= 0 || cols <= 0) throw new Undecodable(ts, "Rows/Columns missing", null);
            int n = Math.multiplyExact(rows, cols); // within the limits checked above
            float[] v = new float[n];
            if (bitsAllocated == 8) {
                byte[] b = pixels.getByteValues();
                if (b == null || b.length < n) throw new Undecodable(ts, "PixelData holds " + (b == null ? 0 : b.length) + " bytes, expected " + n, null);
                for (int i = 0; i < n; i++) v[i] = (float) (stored(b[i] & 0xff, bitsStored, signed) * slope + intercept);
            } else if (bitsAllocated == 16) {
                short[] s = pixels.getShortValues();
                if (s == null || s.length < n) throw new Undecodable(ts, "PixelData holds " + (s == null ? 0 : s.length) + " words, expected " + n, null);
                for (int i = 0; i < n; i++) v[i] = (float) (stored(s[i] & 0xffff, bitsStored, signed) * slope + intercept);
            } else {
                throw new Undecodable(ts, "BitsAllocated " + bitsAllocated + " is not measured", null);
            }
            return new ImageStatistics.Slice(v, cols, rows);
        } catch (Undecodable e) {
            throw e;
        } catch (Exception | LinkageError e) {
            throw new Undecodable(ts != null ? ts : metaTransferSyntax(file), "PixelMed cannot decode it: " + e.getMessage(), e);
        }
    }

    /**
     * Reads the header up to PixelData (nothing of the pixel data is read or decompressed) and checks its geometry.
     *
     * @return the decoded size in bytes of all frames; -1 when the header claims no image at all
     */
    static long checkHeader(Path file, PixelDataLimits limits) throws Undecodable {
        String ts = null;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file)); DicomInputStream din = new DicomInputStream(in)) {
            AttributeList h = new AttributeList();
            h.read(din, TagFromName.PixelData);
            ts = Attribute.getSingleStringValueOrNull(h, TagFromName.TransferSyntaxUID);
            // compressed (encapsulated or deflated) pixel data may decode to more bytes than the file has
            boolean compressed = ts == null || TransferSyntax.isEncapsulated(ts) || new TransferSyntax(ts).isDeflated();
            PixelDataLimits.Claim claim = claim(h);
            if (!claim.claimsPixels()) return -1; // no image: decoding says why, as before
            return limits.check(claim, -1, compressed ? -1 : Files.size(file));
        } catch (PixelDataLimits.Refused e) {
            throw new Refused(ts, e.getMessage());
        } catch (Exception | LinkageError e) {
            throw new Undecodable(ts != null ? ts : metaTransferSyntax(file), "PixelMed cannot read its header: " + e.getMessage(), e);
        }
    }

    /** The geometry a header claims. */
    static PixelDataLimits.Claim claim(AttributeList h) {
        return new PixelDataLimits.Claim(integer(h, TagFromName.Rows), integer(h, TagFromName.Columns), integer(h, TagFromName.SamplesPerPixel),
                integer(h, TagFromName.BitsAllocated), integer(h, TagFromName.NumberOfFrames));
    }

    private static Integer integer(AttributeList h, com.pixelmed.dicom.AttributeTag tag) {
        Attribute a = h.get(tag);
        if (a == null || a.getVM() == 0) return null;
        return Attribute.getSingleIntegerValueOrDefault(h, tag, 0);
    }

    private static String metaTransferSyntax(Path file) {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file)); DicomInputStream din = new DicomInputStream(in)) {
            AttributeList meta = new AttributeList();
            meta.readOnlyMetaInformationHeader(din);
            return Attribute.getSingleStringValueOrNull(meta, TagFromName.TransferSyntaxUID);
        } catch (Exception e) {
            return null;
        }
    }

    /** The stored value of the low bitsStored bits, sign-extended when signed. */
    static int stored(int raw, int bitsStored, boolean signed) {
        int mask = bitsStored >= 32 ? -1 : (1 << bitsStored) - 1;
        int v = raw & mask;
        if (signed && bitsStored < 32 && (v & (1 << (bitsStored - 1))) != 0) v -= 1 << bitsStored;
        return v;
    }
}
