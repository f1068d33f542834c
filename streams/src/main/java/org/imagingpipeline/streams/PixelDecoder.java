package org.imagingpipeline.streams;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.DicomInputStream;
import com.pixelmed.dicom.TagFromName;
import java.io.BufferedInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Decodes the first frame of one Part-10 object with PixelMed (compressed transfer syntaxes through PixelMed's
 * codecs and the ImageIO readers of pixelmed-imageio) into rescaled values: stored value, sign-extended when
 * PixelRepresentation is 1, times RescaleSlope plus RescaleIntercept. Anything PixelMed cannot decode (a codec
 * missing, colour data, no pixels) is a {@link Undecodable} naming the transfer syntax and why.
 */
public final class PixelDecoder {
    private PixelDecoder() {
    }

    /** Why a frame could not be decoded; {@code transferSyntaxUid} as the file says. */
    public static final class Undecodable extends Exception {
        private final String transferSyntaxUid;

        public Undecodable(String transferSyntaxUid, String why, Throwable cause) {
            super(why, cause);
            this.transferSyntaxUid = transferSyntaxUid;
        }

        public String transferSyntaxUid() {
            return transferSyntaxUid;
        }
    }

    public static ImageStatistics.Slice decode(Path file) throws Undecodable {
        String ts = null;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file)); DicomInputStream din = new DicomInputStream(in)) {
            AttributeList l = new AttributeList();
            l.read(din);
            ts = Attribute.getSingleStringValueOrNull(l, TagFromName.TransferSyntaxUID);
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
            int n = rows * cols;
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
