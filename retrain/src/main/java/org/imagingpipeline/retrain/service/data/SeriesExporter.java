package org.imagingpipeline.retrain.service.data;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.DicomException;
import com.pixelmed.dicom.DicomInputStream;
import com.pixelmed.dicom.TagFromName;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferUShort;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.imageio.ImageIO;
import org.imagingpipeline.blob.BlobNotFoundException;
import org.imagingpipeline.blob.BlobStore;
import org.imagingpipeline.retrain.service.SafeNames;

/**
 * Writes a domain's series as the adapt command's input: {@code DIR/<domainId>/<seriesUid>/slice_NNN.png}, 16-bit
 * grayscale, slices in series order, one PNG per frame. Pixels are decoded with PixelMed and mapped through
 * RescaleSlope/RescaleIntercept (MONOCHROME1 inverted first), rounded and clamped to 0..65535. Only uncompressed
 * (and deflated) transfer syntaxes are decoded: a series with a compressed instance, a missing blob, colour pixels
 * or unreadable data is skipped as a whole, with the reason, so that no partial volume is used.
 */
public final class SeriesExporter {
    static final Set<String> DECODED_TRANSFER_SYNTAXES = Set.of(
            "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99");

    /** What was exported. */
    public record Result(List<String> exportedSeriesUids, int slices, List<Skip> skipped) {
    }

    public record Skip(String seriesInstanceUid, String reason) {
    }

    /** A series that cannot be used. */
    static final class Unusable extends Exception {
        Unusable(String reason) {
            super(reason);
        }
    }

    private final BlobStore blobs;

    public SeriesExporter(BlobStore blobs) {
        this.blobs = blobs;
    }

    public Result export(String domainId, List<CatalogSeries> series, Path dataDir) throws IOException {
        Path site = dataDir.resolve(SafeNames.check(domainId));
        List<String> exported = new ArrayList<>();
        List<Skip> skipped = new ArrayList<>();
        int slices = 0;
        for (CatalogSeries s : series) {
            Path out = site.resolve(SafeNames.forFile(s.seriesInstanceUid()));
            try {
                slices += writeSeries(s, out);
                exported.add(s.seriesInstanceUid());
            } catch (Unusable e) {
                deleteTree(out);
                skipped.add(new Skip(s.seriesInstanceUid(), e.getMessage()));
            }
        }
        return new Result(exported, slices, skipped);
    }

    private int writeSeries(CatalogSeries s, Path out) throws IOException, Unusable {
        if (s.instances().isEmpty()) throw new Unusable("no instances");
        for (CatalogSeries.Instance i : s.instances()) {
            if (i.transferSyntaxUid() != null && !DECODED_TRANSFER_SYNTAXES.contains(i.transferSyntaxUid())) {
                throw new Unusable("instance " + i.sopInstanceUid() + " has compressed transfer syntax "
                        + i.transferSyntaxUid() + " (only uncompressed ones are decoded)");
            }
        }
        Files.createDirectories(out);
        int n = 0;
        for (CatalogSeries.Instance i : s.instances()) {
            AttributeList l = read(i);
            for (BufferedImage frame : frames(l, i.sopInstanceUid())) {
                ImageIO.write(frame, "png", out.resolve(String.format(Locale.ROOT, "slice_%03d.png", n++)).toFile());
            }
        }
        return n;
    }

    /** Reads the header first (up to Pixel Data) to refuse compressed data before decoding it, then the whole object. */
    private AttributeList read(CatalogSeries.Instance i) throws IOException, Unusable {
        AttributeList header = read(i, TagFromName.PixelData);
        String ts = Attribute.getSingleStringValueOrEmptyString(header, TagFromName.TransferSyntaxUID);
        if (!ts.isEmpty() && !DECODED_TRANSFER_SYNTAXES.contains(ts)) {
            throw new Unusable("instance " + i.sopInstanceUid() + " has compressed transfer syntax " + ts
                    + " (only uncompressed ones are decoded)");
        }
        return read(i, null);
    }

    private AttributeList read(CatalogSeries.Instance i, AttributeTag stopAt) throws IOException, Unusable {
        AttributeList l = new AttributeList();
        try (InputStream in = blobs.open(i.blob())) {
            DicomInputStream dis = new DicomInputStream(new BufferedInputStream(in));
            if (stopAt == null) l.read(dis);
            else l.read(dis, stopAt);
        } catch (BlobNotFoundException e) {
            throw new Unusable("blob " + i.blob().sha256() + " of instance " + i.sopInstanceUid() + " is not in the blob store");
        } catch (DicomException | IOException e) {
            throw new Unusable("instance " + i.sopInstanceUid() + " cannot be read: " + e.getMessage());
        }
        return l;
    }

    /** The instance's frames as 16-bit grayscale images (rescaled, clamped). */
    static List<BufferedImage> frames(AttributeList l, String sop) throws Unusable {
        int rows = Attribute.getSingleIntegerValueOrDefault(l, TagFromName.Rows, 0);
        int cols = Attribute.getSingleIntegerValueOrDefault(l, TagFromName.Columns, 0);
        int samples = Attribute.getSingleIntegerValueOrDefault(l, TagFromName.SamplesPerPixel, 1);
        int bitsAllocated = Attribute.getSingleIntegerValueOrDefault(l, TagFromName.BitsAllocated, 16);
        int bitsStored = Attribute.getSingleIntegerValueOrDefault(l, TagFromName.BitsStored, bitsAllocated);
        boolean signed = Attribute.getSingleIntegerValueOrDefault(l, TagFromName.PixelRepresentation, 0) == 1;
        int frames = Math.max(1, Attribute.getSingleIntegerValueOrDefault(l, TagFromName.NumberOfFrames, 1));
        String photometric = Attribute.getSingleStringValueOrEmptyString(l, TagFromName.PhotometricInterpretation).trim();
        double slope = Attribute.getSingleDoubleValueOrDefault(l, TagFromName.RescaleSlope, 1.0);
        double intercept = Attribute.getSingleDoubleValueOrDefault(l, TagFromName.RescaleIntercept, 0.0);
        if (samples != 1 || !(photometric.equals("MONOCHROME2") || photometric.equals("MONOCHROME1"))) {
            throw new Unusable("instance " + sop + " is not grayscale (" + photometric + ", " + samples + " samples)");
        }
        if (rows <= 0 || cols <= 0) throw new Unusable("instance " + sop + " has no Rows/Columns");
        Attribute pd = l.get(TagFromName.PixelData);
        if (pd == null) throw new Unusable("instance " + sop + " has no pixel data");
        int perFrame = rows * cols;
        int[] raw = new int[perFrame * frames];
        try {
            if (bitsAllocated == 16) {
                short[] v = pd.getShortValues();
                if (v.length < raw.length) throw new Unusable("instance " + sop + " pixel data is short");
                for (int k = 0; k < raw.length; k++) raw[k] = sample(v[k] & 0xffff, bitsStored, signed);
            } else if (bitsAllocated == 8) {
                byte[] v = pd.getByteValues();
                if (v.length < raw.length) throw new Unusable("instance " + sop + " pixel data is short");
                for (int k = 0; k < raw.length; k++) raw[k] = sample(v[k] & 0xff, bitsStored, signed);
            } else {
                throw new Unusable("instance " + sop + " has BitsAllocated " + bitsAllocated + " (8 or 16 are decoded)");
            }
        } catch (DicomException e) {
            throw new Unusable("instance " + sop + " pixel data cannot be read: " + e.getMessage());
        }
        int maxStored = signed ? (1 << (bitsStored - 1)) - 1 : (1 << bitsStored) - 1;
        int minStored = signed ? -(1 << (bitsStored - 1)) : 0;
        List<BufferedImage> out = new ArrayList<>(frames);
        for (int f = 0; f < frames; f++) {
            BufferedImage img = new BufferedImage(cols, rows, BufferedImage.TYPE_USHORT_GRAY);
            short[] dst = ((DataBufferUShort) img.getRaster().getDataBuffer()).getData();
            for (int k = 0; k < perFrame; k++) {
                int r = raw[f * perFrame + k];
                if (photometric.equals("MONOCHROME1")) r = maxStored + minStored - r;
                long value = Math.round(r * slope + intercept);
                dst[k] = (short) Math.max(0, Math.min(65535, value));
            }
            out.add(img);
        }
        return out;
    }

    /** The stored value of one sample: the low {@code bitsStored} bits, sign-extended when signed. */
    private static int sample(int word, int bitsStored, boolean signed) {
        int v = word & ((1 << bitsStored) - 1);
        if (signed && (v & (1 << (bitsStored - 1))) != 0) v -= 1 << bitsStored;
        return v;
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
