package org.imagingpipeline.ingest.dicomweb;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.DicomException;
import com.pixelmed.dicom.TagFromName;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Set;
import javax.imageio.ImageIO;

/**
 * The first frame of a single-frame greyscale image (MONOCHROME1/2, 8 or 16 bits, uncompressed) as an 8-bit PNG:
 * Modality LUT (RescaleSlope/Intercept), then the file's first WindowCenter/WindowWidth (PS3.3 C.11.2.1.2 linear
 * function), else the frame's minimum to maximum. Anything else is {@link Unrenderable}.
 */
final class InstanceRenderer {
    private static final Set<String> UNCOMPRESSED = Set.of("1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2",
            "1.2.840.10008.1.2.1.99");

    /** The instance cannot be rendered by this service (the resource answers 406). */
    static final class Unrenderable extends Exception {
        Unrenderable(String message) {
            super(message);
        }
    }

    private InstanceRenderer() {
    }

    static byte[] png(AttributeList l) throws Unrenderable, DicomException, IOException {
        String ts = Attribute.getSingleStringValueOrNull(l, TagFromName.TransferSyntaxUID);
        if (ts != null && !UNCOMPRESSED.contains(ts)) throw new Unrenderable("stored in transfer syntax " + ts + ", which is not rendered");
        String photometric = Attribute.getSingleStringValueOrEmptyString(l, TagFromName.PhotometricInterpretation).trim();
        if (!photometric.equals("MONOCHROME1") && !photometric.equals("MONOCHROME2")) {
            throw new Unrenderable("only greyscale (MONOCHROME1/2) images are rendered, not '" + photometric + "'");
        }
        int samples = Attribute.getSingleIntegerValueOrDefault(l, TagFromName.SamplesPerPixel, 1);
        int frames = Attribute.getSingleIntegerValueOrDefault(l, TagFromName.NumberOfFrames, 1);
        int bits = Attribute.getSingleIntegerValueOrDefault(l, TagFromName.BitsAllocated, 0);
        int rows = Attribute.getSingleIntegerValueOrDefault(l, TagFromName.Rows, 0);
        int cols = Attribute.getSingleIntegerValueOrDefault(l, TagFromName.Columns, 0);
        if (samples != 1 || frames > 1) throw new Unrenderable("only single-frame, single-sample images are rendered");
        if (bits != 8 && bits != 16) throw new Unrenderable("BitsAllocated " + bits + " is not rendered");
        if (rows <= 0 || cols <= 0) throw new Unrenderable("no Rows/Columns");
        Attribute px = l.get(TagFromName.PixelData);
        if (px == null) throw new Unrenderable("no pixel data");
        boolean signed = Attribute.getSingleIntegerValueOrDefault(l, TagFromName.PixelRepresentation, 0) == 1;
        int n = rows * cols;
        double[] v = new double[n];
        if (bits == 16) {
            short[] s = px.getShortValues();
            if (s == null || s.length < n) throw new Unrenderable("pixel data shorter than Rows x Columns");
            for (int i = 0; i < n; i++) v[i] = signed ? s[i] : s[i] & 0xffff;
        } else {
            byte[] b = px.getByteValues();
            if (b == null || b.length < n) throw new Unrenderable("pixel data shorter than Rows x Columns");
            for (int i = 0; i < n; i++) v[i] = signed ? b[i] : b[i] & 0xff;
        }
        double slope = Attribute.getSingleDoubleValueOrDefault(l, TagFromName.RescaleSlope, 1.0);
        double intercept = Attribute.getSingleDoubleValueOrDefault(l, TagFromName.RescaleIntercept, 0.0);
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            v[i] = v[i] * slope + intercept;
            min = Math.min(min, v[i]);
            max = Math.max(max, v[i]);
        }
        double[] centres = Attribute.getDoubleValues(l, TagFromName.WindowCenter);
        double[] widths = Attribute.getDoubleValues(l, TagFromName.WindowWidth);
        double c;
        double w;
        if (centres != null && widths != null && centres.length > 0 && widths.length > 0 && widths[0] >= 1) {
            c = centres[0];
            w = widths[0];
        } else {
            c = (min + max) / 2 + 0.5;
            w = Math.max(1, max - min) + 1;
        }
        BufferedImage img = new BufferedImage(cols, rows, BufferedImage.TYPE_BYTE_GRAY);
        int[] out = new int[n];
        boolean invert = photometric.equals("MONOCHROME1");
        for (int i = 0; i < n; i++) {
            double y = w <= 1 ? (v[i] > c - 0.5 ? 255 : 0) : ((v[i] - (c - 0.5)) / (w - 1) + 0.5) * 255;
            int g = (int) Math.round(Math.max(0, Math.min(255, y)));
            out[i] = invert ? 255 - g : g;
        }
        img.getRaster().setSamples(0, 0, cols, rows, 0, out);
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(img, "png", png);
        return png.toByteArray();
    }
}
