package org.imagingpipeline.ingest;

import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.DicomInputStream;
import com.pixelmed.dicom.SOPClass;
import com.pixelmed.dicom.TagFromName;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import org.imagingpipeline.blob.BlobStore;
import org.imagingpipeline.blob.StagedBlob;
import org.imagingpipeline.events.BlobRef;
import org.imagingpipeline.events.InstanceHeader;
import org.imagingpipeline.events.InstanceReceived;
import org.imagingpipeline.dicomnet.DatasetStructure;
import org.imagingpipeline.dicomnet.InflateLimits;
import org.imagingpipeline.dicomnet.MalformedDicomException;
import org.imagingpipeline.dicomnet.Part10;
import org.imagingpipeline.dicomnet.PixelDataLimits;
import org.imagingpipeline.dicomnet.TransferSyntaxes;
import org.jboss.logging.Logger;

/**
 * The one path every instance takes, whatever protocol brought it: check it, store its bytes, publish its
 * event, and only then report success. Order matters: blob first (durable), then the Kafka event (acked),
 * then the acknowledged-index entry; any failure before the ack is reported as failure to the sender.
 */
@ApplicationScoped
public class InstanceIngestor {
    private static final Logger LOG = Logger.getLogger(InstanceIngestor.class);
    /** Bytes read to find the file meta of a STOW part; a meta group longer than this is refused as malformed. */
    private static final int META_PREFIX_BYTES = 64 * 1024;
    private static final Pattern UID = Pattern.compile("[0-9]+(\\.[0-9]+)*");

    private final BlobStore blobs;
    private final InstancePublisher publisher;
    private final AcknowledgedIndex index;
    private final Quarantine quarantine;
    private final IngestMetrics metrics;
    private final IngestConfig config;

    public InstanceIngestor(BlobStore blobs, InstancePublisher publisher, AcknowledgedIndex index, Quarantine quarantine,
                            IngestMetrics metrics, IngestConfig config) {
        this.blobs = blobs;
        this.publisher = publisher;
        this.index = index;
        this.quarantine = quarantine;
        this.metrics = metrics;
        this.config = config;
    }

    /** The sender is done with these series for now (see {@link InstancePublisher#senderDone}); never blocks. */
    public void senderDone(java.util.Collection<String> seriesUids, String how) {
        if (!seriesUids.isEmpty()) publisher.senderDone(seriesUids, how);
    }

    public long maxObjectBytes() {
        return config.maxObjectBytes();
    }

    /** A new staged blob for an instance about to arrive (a temporary file beside the blobs). */
    public StagedBlob stage() throws IOException {
        return blobs.stage();
    }

    /** The caps on a gzip/deflate request body of at most {@code maxBytes}. */
    public InflateLimits inflateLimits(long maxBytes) {
        return new InflateLimits(maxBytes, config.maxInflateRatio());
    }

    /**
     * Checks, stores and publishes the staged instance. Its bytes are read back from the staged file (page cache) for
     * the structure check and the header, never held whole; the blob is the staged file itself, renamed into place.
     */
    public IngestOutcome ingest(IncomingInstance in) {
        long t0 = System.nanoTime();
        StagedBlob staged = in.staged();
        String sha = staged.finish();
        long size = staged.size();
        Path file = staged.file();
        if (size > config.maxObjectBytes()) {
            return reject(in, RejectReason.OVERSIZED, size + " bytes exceed ingest.max-object-bytes=" + config.maxObjectBytes(),
                    in.claimedSopClass(), in.claimedSopInstance(), file, size);
        }
        String ts = in.transferSyntaxUid();
        long offset = in.datasetOffset();
        AttributeList header;
        Part10.Meta meta = null;
        DatasetStructure.Result structure;
        try {
            if (ts == null || offset < 0) {
                meta = Part10.readMeta(prefix(file, size));
                ts = meta.transferSyntaxUid();
                offset = meta.datasetOffset();
            }
            if (!TransferSyntaxes.accepted(ts)) {
                return reject(in, RejectReason.UNSUPPORTED_TRANSFER_SYNTAX, "transfer syntax " + ts + " is not accepted",
                        in.claimedSopClass(), in.claimedSopInstance(), file, size);
            }
            try (InputStream dataset = Files.newInputStream(file)) {
                dataset.skipNBytes(offset);
                structure = DatasetStructure.verify(dataset, ts, new InflateLimits(config.maxInflatedBytes(), config.maxInflateRatio()));
            } catch (InflateLimits.Exceeded e) {
                return reject(in, RejectReason.OVERSIZED, "deflated dataset " + e.getMessage() + " (ingest.max-inflated-bytes="
                        + config.maxInflatedBytes() + ", ingest.max-inflate-ratio=" + config.maxInflateRatio() + ")",
                        in.claimedSopClass(), in.claimedSopInstance(), file, size);
            }
            if (structure.pixelDataOffset() > config.maxHeaderBytes()) {
                return reject(in, RejectReason.OVERSIZED, structure.pixelDataOffset() + " bytes of attributes before the pixel data exceed"
                        + " ingest.max-header-bytes=" + config.maxHeaderBytes(), in.claimedSopClass(), in.claimedSopInstance(), file, size);
            }
            header = new AttributeList();
            try (DicomInputStream dis = new DicomInputStream(new BufferedInputStream(Files.newInputStream(file), 64 * 1024))) {
                header.read(dis, TagFromName.PixelData);
            }
        } catch (MalformedDicomException e) {
            return reject(in, RejectReason.MALFORMED, e.getMessage(), in.claimedSopClass(), in.claimedSopInstance(), file, size);
        } catch (Exception e) { // PixelMed's DicomException, IOException, runtime parse errors
            return reject(in, RejectReason.MALFORMED, "header unreadable: " + e.getMessage(), in.claimedSopClass(),
                    in.claimedSopInstance(), file, size);
        }

        String study = HeaderExtractor.str(header, TagFromName.StudyInstanceUID);
        String series = HeaderExtractor.str(header, TagFromName.SeriesInstanceUID);
        String sop = HeaderExtractor.str(header, TagFromName.SOPInstanceUID);
        String sopClass = HeaderExtractor.str(header, TagFromName.SOPClassUID);
        String known = sop != null ? sop : in.claimedSopInstance();
        String knownClass = sopClass != null ? sopClass : in.claimedSopClass();
        if (study == null || series == null || sop == null || sopClass == null) {
            String missing = (study == null ? " StudyInstanceUID" : "") + (series == null ? " SeriesInstanceUID" : "")
                    + (sop == null ? " SOPInstanceUID" : "") + (sopClass == null ? " SOPClassUID" : "");
            return reject(in, RejectReason.MISSING_UID, "missing" + missing, knownClass, known, file, size);
        }
        for (String uid : new String[] {study, series, sop, sopClass}) {
            if (uid.length() > 64 || !UID.matcher(uid).matches()) {
                return reject(in, RejectReason.INVALID_UID, "not a valid UID: " + uid, knownClass, known, file, size);
            }
        }
        if ((in.claimedSopInstance() != null && !in.claimedSopInstance().equals(sop))
                || (in.claimedSopClass() != null && !in.claimedSopClass().equals(sopClass))) {
            return reject(in, RejectReason.UID_MISMATCH, "dataset SOP " + sopClass + "/" + sop + " differs from the request's "
                    + in.claimedSopClass() + "/" + in.claimedSopInstance(), sopClass, sop, file, size);
        }
        // A Part-10 file (STOW-RS) names its instance twice: in the file meta and in the dataset; they must agree (PS3.10 7.1).
        if (meta != null && ((meta.mediaStorageSopInstanceUid() != null && !meta.mediaStorageSopInstanceUid().equals(sop))
                || (meta.mediaStorageSopClassUid() != null && !meta.mediaStorageSopClassUid().equals(sopClass)))) {
            return reject(in, RejectReason.UID_MISMATCH, "dataset SOP " + sopClass + "/" + sop + " differs from the file meta's "
                    + meta.mediaStorageSopClassUid() + "/" + meta.mediaStorageSopInstanceUid(), sopClass, sop, file, size);
        }
        if (!SOPClass.isStorage(sopClass)) {
            return reject(in, RejectReason.UNSUPPORTED_SOP_CLASS, "SOP class " + sopClass + " is not a storage SOP class",
                    sopClass, sop, file, size);
        }
        String pixels = pixelClaimProblem(header, structure);
        if (pixels != null) {
            return reject(in, RejectReason.MALFORMED, pixels, sopClass, sop, file, size);
        }
        if (in.requiredStudyUid() != null && !in.requiredStudyUid().equals(study)) {
            return reject(in, RejectReason.STUDY_MISMATCH, "instance belongs to study " + study + ", not " + in.requiredStudyUid(),
                    sopClass, sop, file, size);
        }

        ReentrantLock lock = index.lockFor(sop);
        lock.lock();
        try {
            Optional<String> before;
            try {
                before = index.blobShaFor(sop);
            } catch (IOException e) {
                return unavailable(in, RejectReason.STORAGE_UNAVAILABLE, "index unreadable: " + e.getMessage(), sopClass, sop);
            }
            if (before.isPresent() && before.get().equals(sha)) {
                metrics.duplicate();
                LOG.debugf("duplicate sop=%s series=%s: already acknowledged, no new event", sop, series);
                return new IngestOutcome.Duplicate(sopClass, sop, sha);
            }
            BlobRef blob;
            long tBlob = System.nanoTime();
            try {
                blob = staged.commit("application/dicom", config.fsync());
                metrics.blobWritten(System.nanoTime() - tBlob);
            } catch (IOException | RuntimeException e) {
                return unavailable(in, RejectReason.STORAGE_UNAVAILABLE, "blob write failed: " + e.getMessage(), sopClass, sop);
            }
            InstanceHeader h = HeaderExtractor.extract(header);
            InstanceReceived event = new InstanceReceived(InstanceReceived.SCHEMA_VERSION,
                    InstanceReceived.eventIdFor(sop, blob.sha256()), Instant.now(), in.source(),
                    study, series, sop, sopClass, ts, h, blob);
            long tKafka = System.nanoTime();
            try {
                publisher.publish(event);
                metrics.kafkaAcked(System.nanoTime() - tKafka);
            } catch (InstancePublisher.PublishException e) {
                return unavailable(in, RejectReason.KAFKA_UNAVAILABLE, e.getMessage(), sopClass, sop);
            }
            try {
                index.record(sop, blob.sha256());
            } catch (IOException e) {
                // The event is acknowledged: success stands. A re-send may then publish once more with the same eventId.
                LOG.warnf("acknowledged-index write failed for sop=%s: %s", sop, e.getMessage());
            }
            long nanos = System.nanoTime() - t0;
            metrics.stored(size, nanos);
            LOG.debugf("stored sop=%s series=%s study=%s blob=%s via %s in %.1f ms", sop, series, study, blob.sha256(),
                    in.source().protocol(), nanos / 1e6);
            return new IngestOutcome.Stored(event);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Why the image pixel attributes cannot describe the pixel data, or null when they can (or the object claims no image):
     * Rows, Columns, SamplesPerPixel, BitsAllocated and NumberOfFrames present and in range, their product not
     * overflowing, and native pixel data at least as long as that product. The archive keeps any size (no caps here: the
     * stages that decode apply their own, {@code streams.pixels.*} and {@code inference.pixels.*}); what it refuses is an
     * image that no decoder can read, which would otherwise reach every stage and its dead-letter topic. Longer native
     * pixel data than the claim is kept (some scanners pad); dciodvfy would warn.
     */
    static String pixelClaimProblem(AttributeList header, DatasetStructure.Result structure) {
        boolean pixelData = structure.pixelDataOffset() < structure.length();
        PixelDataLimits.Claim claim = new PixelDataLimits.Claim(integer(header, TagFromName.Rows), integer(header, TagFromName.Columns),
                integer(header, TagFromName.SamplesPerPixel), integer(header, TagFromName.BitsAllocated), integer(header, TagFromName.NumberOfFrames));
        if (!pixelData && !claim.claimsPixels()) return null;
        try {
            long needed = ARCHIVE.check(claim, -1, -1);
            long held = structure.nativePixelDataLength();
            if (held >= 0 && held < needed) {
                return "PixelData holds " + held + " bytes; Rows x Columns x SamplesPerPixel x BitsAllocated x NumberOfFrames needs " + needed;
            }
            return null;
        } catch (PixelDataLimits.Refused e) {
            return "image pixel attributes: " + e.getMessage();
        }
    }

    /** No caps, only consistency (see {@link #pixelClaimProblem}). */
    private static final PixelDataLimits ARCHIVE = new PixelDataLimits(65535, 65535, Long.MAX_VALUE, Integer.MAX_VALUE, Long.MAX_VALUE);

    private static Integer integer(AttributeList h, com.pixelmed.dicom.AttributeTag tag) {
        com.pixelmed.dicom.Attribute a = h.get(tag);
        if (a == null || a.getVM() == 0) return null;
        try {
            return Integer.parseInt(a.getSingleStringValueOrEmptyString().trim());
        } catch (NumberFormatException e) {
            return -1; // present but not a number: refused as out of range
        }
    }

    /** Counts and quarantines a refused instance. */
    public IngestOutcome.Rejected reject(IncomingInstance in, RejectReason reason, String detail, String sopClass, String sop,
                                         Path file, long length) {
        metrics.rejected(reason);
        Path kept = reason.quarantine ? quarantine.keep(file, length, reason, detail, sop, in == null ? null : in.source()) : null;
        LOG.warnf("rejected sop=%s reason=%s from %s: %s%s", sop, reason.tag, in == null ? "?" : describe(in.source()), detail,
                kept == null ? "" : " (kept in " + kept + ")");
        return new IngestOutcome.Rejected(reason, detail, sopClass, sop);
    }

    private IngestOutcome unavailable(IncomingInstance in, RejectReason reason, String detail, String sopClass, String sop) {
        metrics.rejected(reason);
        LOG.errorf("refused sop=%s (%s): %s; the sender must retry", sop, reason.tag, detail);
        return new IngestOutcome.Rejected(reason, detail, sopClass, sop);
    }

    private static String describe(InstanceReceived.Source s) {
        return s == null ? "?" : s.protocol() + (s.callingAeTitle() != null ? " AE " + s.callingAeTitle() : "") + " " + s.remoteAddress();
    }

    /** The first bytes of the file: enough for the preamble and file meta. */
    private static byte[] prefix(Path file, long size) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes((int) Math.min(size, META_PREFIX_BYTES));
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
