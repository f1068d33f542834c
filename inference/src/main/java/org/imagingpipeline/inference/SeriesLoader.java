package org.imagingpipeline.inference;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.DicomException;
import com.pixelmed.dicom.DicomInputStream;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import com.pixelmed.display.SourceImage;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.imagingpipeline.blob.BlobNotFoundException;
import org.imagingpipeline.blob.BlobStore;
import org.imagingpipeline.events.BlobRef;
import org.imagingpipeline.dicomnet.PixelDataLimits;
import org.imagingpipeline.events.SeriesReady;

/**
 * Reads a series' slices from the blob store with PixelMed and applies the modality rescale. Every transfer syntax
 * PixelMed (with pixelmed-imageio) can decode works: uncompressed LE/BE, deflate, RLE, JPEG baseline and lossless,
 * JPEG-LS; anything else (e.g. JPEG 2000, for which no ImageIO reader is installed) fails with
 * {@link InferenceFailure.Kind#UNDECODABLE} naming the instance and its transfer syntax.
 *
 * <p>Pixel-size arithmetic comes first: each instance's header is read up to PixelData (nothing of the pixel data is
 * read or decompressed) and its geometry checked by {@link PixelDataLimits} (the caps {@code inference.pixels.*},
 * an overflowing product, native pixel data that the file cannot hold); after the full read, native pixel data whose
 * length disagrees with the geometry is refused too. A refusal is {@link InferenceFailure.Kind#PIXEL_LIMITS}: the
 * series gets an ERROR result and a DLQ record, and nothing of the claimed size was allocated.
 */
public final class SeriesLoader {
    private final BlobStore blobs;
    private final PixelDataLimits limits;

    public SeriesLoader(BlobStore blobs) {
        this(blobs, PixelDataLimits.DEFAULT);
    }

    public SeriesLoader(BlobStore blobs, PixelDataLimits limits) {
        this.blobs = blobs;
        this.limits = limits;
    }

    public SliceStack load(SeriesReady series) throws InferenceFailure {
        if (series.instances().isEmpty()) {
            throw new InferenceFailure(InferenceFailure.Kind.UNDECODABLE, "the series has no instances");
        }
        List<float[]> slices = new ArrayList<>();
        List<SliceStack.Source> sources = new ArrayList<>();
        int rows = -1;
        int columns = -1;
        AttributeList first = null;
        for (SeriesReady.Instance inst : series.instances()) {
            AttributeList list = read(inst);
            int r = Attribute.getSingleIntegerValueOrDefault(list, TagFromName.Rows, 0);
            int c = Attribute.getSingleIntegerValueOrDefault(list, TagFromName.Columns, 0);
            if (first == null) {
                rows = r;
                columns = c;
            } else if (r != rows || c != columns) {
                throw new InferenceFailure(InferenceFailure.Kind.UNDECODABLE, "instance " + inst.sopInstanceUid()
                        + " is " + c + "x" + r + ", the series' first instance " + columns + "x" + rows);
            }
            slices.add(pixels(list, inst));
            sources.add(new SliceStack.Source(
                    Attribute.getSingleStringValueOrNull(list, TagFromName.SOPClassUID),
                    Attribute.getSingleStringValueOrNull(list, TagFromName.SOPInstanceUID),
                    doubles(list, TagFromName.ImagePositionPatient, 3),
                    doubles(list, TagFromName.ImageOrientationPatient, 6),
                    Attribute.getSingleStringValueOrNull(list, TagFromName.FrameOfReferenceUID)));
            if (first == null) {
                list.remove(TagFromName.PixelData);
                first = list;
            }
        }
        double[] pixelSpacing = doubles(first, TagFromName.PixelSpacing, 2);
        if (pixelSpacing == null && series.geometry() != null && series.geometry().pixelSpacing() != null
                && series.geometry().pixelSpacing().length == 2) {
            pixelSpacing = series.geometry().pixelSpacing();
        }
        Double sliceSpacing = null;
        String from = null;
        if (series.geometry() != null && series.geometry().sliceSpacing() != null && series.geometry().sliceSpacing() > 0) {
            sliceSpacing = series.geometry().sliceSpacing();
            from = "slice spacing measured from ImagePositionPatient";
        } else if (positive(first, TagFromName.SpacingBetweenSlices) != null) {
            sliceSpacing = positive(first, TagFromName.SpacingBetweenSlices);
            from = "SpacingBetweenSlices";
        } else if (positive(first, TagFromName.SliceThickness) != null) {
            sliceSpacing = positive(first, TagFromName.SliceThickness);
            from = "SliceThickness";
        }
        return new SliceStack(rows, columns, slices, sources, pixelSpacing, sliceSpacing, from, first);
    }

    private AttributeList read(SeriesReady.Instance inst) throws InferenceFailure {
        if (inst.blob() == null) {
            throw new InferenceFailure(InferenceFailure.Kind.MISSING_BLOB, "instance " + inst.sopInstanceUid() + " has no blob reference");
        }
        long expected = checkHeader(inst);
        AttributeList list = readList(inst, null);
        String ts = Attribute.getSingleStringValueOrNull(list, TagFromName.TransferSyntaxUID);
        Attribute px = list.getPixelData();
        if (expected >= 0 && px != null && ts != null && TransferSyntax.isNotEncapsulated(ts) && px.getVL() != expected && px.getVL() != expected + (expected & 1)) {
            throw new InferenceFailure(InferenceFailure.Kind.PIXEL_LIMITS, "instance " + inst.sopInstanceUid() + ": PixelData holds "
                    + px.getVL() + " bytes; the header's geometry needs " + expected);
        }
        return list;
    }

    /** The instance's dataset, whole or up to {@code stopAt} (exclusive). */
    private AttributeList readList(SeriesReady.Instance inst, AttributeTag stopAt) throws InferenceFailure {
        AttributeList list = new AttributeList();
        InputStream blob;
        try {
            blob = blobs.open(inst.blob());
        } catch (BlobNotFoundException e) {
            throw new InferenceFailure(InferenceFailure.Kind.MISSING_BLOB, "instance " + inst.sopInstanceUid()
                    + ": blob " + inst.blob().sha256() + " is not in the blob store", e);
        } catch (IOException e) {
            throw new InferenceFailure(InferenceFailure.Kind.BLOB_UNREADABLE, "instance " + inst.sopInstanceUid()
                    + ": blob " + inst.blob().sha256() + " cannot be opened: " + e, e);
        }
        // Opened: from here an I/O error is the file's content (truncated, malformed), which a retry does not change.
        try (InputStream in = new BufferedInputStream(blob, 1 << 16)) {
            if (stopAt == null) list.read(new DicomInputStream(in));
            else list.read(new DicomInputStream(in), stopAt);
        } catch (IOException | DicomException | RuntimeException e) {
            throw new InferenceFailure(InferenceFailure.Kind.UNDECODABLE, "instance " + inst.sopInstanceUid()
                    + " (transfer syntax " + inst.transferSyntaxUid() + ") cannot be read: " + e, e);
        }
        return list;
    }

    /**
     * Reads the instance's header up to PixelData and checks its pixel geometry before anything of that size exists.
     *
     * @return the decoded size in bytes of all frames; -1 when the header claims no image at all
     */
    private long checkHeader(SeriesReady.Instance inst) throws InferenceFailure {
        AttributeList h = readList(inst, TagFromName.PixelData);
        String ts = Attribute.getSingleStringValueOrNull(h, TagFromName.TransferSyntaxUID);
        // compressed (encapsulated or deflated) pixel data may decode to more bytes than the file has
        boolean compressed = ts == null || TransferSyntax.isEncapsulated(ts) || new TransferSyntax(ts).isDeflated();
        PixelDataLimits.Claim claim = new PixelDataLimits.Claim(integer(h, TagFromName.Rows), integer(h, TagFromName.Columns),
                integer(h, TagFromName.SamplesPerPixel), integer(h, TagFromName.BitsAllocated), integer(h, TagFromName.NumberOfFrames));
        if (!claim.claimsPixels()) return -1; // no image: decoding says UNDECODABLE, as before
        try {
            long fileSize = compressed ? -1 : blobs.find(inst.blob().sha256()).map(BlobRef::size).orElse(-1L);
            return limits.check(claim, -1, fileSize);
        } catch (PixelDataLimits.Refused e) {
            throw new InferenceFailure(InferenceFailure.Kind.PIXEL_LIMITS, "instance " + inst.sopInstanceUid() + ": " + e.getMessage());
        } catch (IOException e) {
            throw new InferenceFailure(InferenceFailure.Kind.BLOB_UNREADABLE, "instance " + inst.sopInstanceUid() + ": blob "
                    + inst.blob().sha256() + " cannot be looked up: " + e.getMessage(), e);
        }
    }

    private static Integer integer(AttributeList h, AttributeTag tag) {
        Attribute a = h.get(tag);
        return a == null || a.getVM() == 0 ? null : Attribute.getSingleIntegerValueOrDefault(h, tag, 0);
    }

    private static float[] pixels(AttributeList list, SeriesReady.Instance inst) throws InferenceFailure {
        String ts = Attribute.getSingleStringValueOrDefault(list, TagFromName.TransferSyntaxUID, inst.transferSyntaxUid());
        if (list.getPixelData() == null) {
            throw new InferenceFailure(InferenceFailure.Kind.UNDECODABLE, "instance " + inst.sopInstanceUid() + " has no pixel data");
        }
        int frames = Attribute.getSingleIntegerValueOrDefault(list, TagFromName.NumberOfFrames, 1);
        int samples = Attribute.getSingleIntegerValueOrDefault(list, TagFromName.SamplesPerPixel, 1);
        if (frames != 1 || samples != 1) {
            throw new InferenceFailure(InferenceFailure.Kind.UNDECODABLE, "instance " + inst.sopInstanceUid() + " has "
                    + frames + " frames and " + samples + " samples per pixel; only single-frame greyscale is segmented");
        }
        Raster raster;
        try {
            BufferedImage img = new SourceImage(list).getBufferedImage(0);
            if (img == null) throw new DicomException("no image decoded");
            raster = img.getRaster();
        } catch (Exception | LinkageError e) {
            throw new InferenceFailure(InferenceFailure.Kind.UNDECODABLE, "instance " + inst.sopInstanceUid()
                    + ": pixel data in transfer syntax " + ts + " cannot be decoded (" + e + ")", e);
        }
        // SourceImage hands signed pixels over as their unsigned bit patterns (-1500 as 64036): keep the stored bits
        // and sign-extend them when PixelRepresentation is 1.
        int bitsStored = Attribute.getSingleIntegerValueOrDefault(list, TagFromName.BitsStored,
                Attribute.getSingleIntegerValueOrDefault(list, TagFromName.BitsAllocated, 16));
        boolean signed = Attribute.getSingleIntegerValueOrDefault(list, TagFromName.PixelRepresentation, 0) == 1;
        int mask = bitsStored >= 32 ? -1 : (1 << bitsStored) - 1;
        int signBit = bitsStored >= 32 ? 0 : 1 << (bitsStored - 1);
        double slope = Attribute.getSingleDoubleValueOrDefault(list, TagFromName.RescaleSlope, 1.0);
        double intercept = Attribute.getSingleDoubleValueOrDefault(list, TagFromName.RescaleIntercept, 0.0);
        if (slope == 0) slope = 1.0;
        int w = raster.getWidth();
        int h = raster.getHeight();
        float[] out = new float[w * h];
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            raster.getSamples(0, y, w, 1, 0, row);
            for (int x = 0; x < w; x++) {
                int v = row[x] & mask;
                if (signed && (v & signBit) != 0) v -= signBit << 1;
                out[y * w + x] = (float) (v * slope + intercept);
            }
        }
        return out;
    }

    private static double[] doubles(AttributeList list, com.pixelmed.dicom.AttributeTag tag, int n) {
        try {
            Attribute a = list.get(tag);
            if (a == null) return null;
            double[] v = a.getDoubleValues();
            return v != null && v.length == n ? v : null;
        } catch (DicomException e) {
            return null;
        }
    }

    private static Double positive(AttributeList list, com.pixelmed.dicom.AttributeTag tag) {
        double v = Attribute.getSingleDoubleValueOrDefault(list, tag, 0);
        return v > 0 ? v : null;
    }
}
