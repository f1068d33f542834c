package org.imagingpipeline.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.imagingpipeline.dicomnet.MalformedDicomException;
import org.imagingpipeline.dicomnet.Part10;

/**
 * Malformed instances for the running stack, made from real vendor files: each seed's Study, Series and SOP Instance
 * UIDs are replaced, byte for byte, by fresh UIDs of the same length (so the bytes around them do not move and the
 * seed stays structurally what it was), then one mutation of {@link Kind} is applied. Deterministic for a seed.
 *
 * <p>Every mutant of one vendor folder shares one fresh study and series, so that the accepted ones form a handful of
 * series (not one new scanner domain per mutant); byte-level mutations leave the Study and Series UIDs alone for the same
 * reason (a flipped Series UID would be a stray series of the domain, enough of which start an adaptation job).
 */
final class InstanceMutator {
    static final String IMPLICIT_LE = "1.2.840.10008.1.2";
    static final String EXPLICIT_LE = "1.2.840.10008.1.2.1";

    enum Kind {
        /** Fresh UIDs only: a valid instance that must be stored. */
        INTACT,
        /** 1-16 random bytes of the attributes before the pixel data overwritten. */
        FLIP_BYTES,
        /** Cut at a random point of the dataset. */
        TRUNCATE,
        /** 1-64 random bytes inserted among the attributes. */
        INSERT_GARBAGE,
        /** 1-64 bytes of the attributes removed. */
        DELETE_RANGE,
        /** 4 bytes at a random point of the attributes set to a huge length (0xFFFFFFxx). */
        HUGE_LENGTH,
        /** Rows and Columns claim 30000 x 30000; the pixel data stays as it was (the OutOfMemoryError of issue 20). */
        HUGE_MATRIX,
        /** Bits Allocated 0 (or 64) with the structure intact. */
        ODD_BITS,
        /** The request names another SOP Instance UID than the dataset. */
        UID_MISMATCH,
        /** The SOP Instance UID replaced by a same-length string that is not a UID (letters), in request and dataset. */
        BAD_UID,
        /** An explicit-VR dataset sent in an Implicit VR Little Endian context (or the reverse). */
        WRONG_TRANSFER_SYNTAX
    }

    /** A seed: a vendor file's bytes, where its dataset starts and the UIDs and value positions that matter. */
    record Seed(String folder, Path file, byte[] bytes, Part10.Meta meta, String study, String series, int pixelDataTag) {
    }

    /** One mutant: bytes of the dataset (no Part-10 meta), the context it is sent in, the request's SOP Instance UID. */
    record Mutant(int index, Kind kind, Seed seed, String sopClassUid, String transferSyntaxUid, String requestSopUid,
                  String datasetSopUid, byte[] dataset, String studyUid) {
        String label() {
            return "#" + index + " " + kind + " of " + seed.folder() + "/" + seed.file().getFileName();
        }
    }

    private final long seed;
    private final Map<String, String[]> studyAndSeries = new TreeMap<>();

    InstanceMutator(long seed) {
        this.seed = seed;
    }

    /** The fresh Series Instance UIDs the mutants were given so far (one per vendor folder). */
    java.util.Set<String> seriesUids() {
        java.util.Set<String> out = new java.util.TreeSet<>();
        studyAndSeries.values().forEach(ss -> out.add(ss[1]));
        return out;
    }

    /** Little-endian uncompressed-header seeds: up to {@code perFolder} files per folder, sorted, every transfer syntax. */
    static List<Seed> seeds(Path vendors, List<String> folders, int perFolder) throws IOException {
        List<Seed> out = new ArrayList<>();
        for (String folder : folders) {
            List<Path> files;
            try (var s = Files.walk(vendors.resolve(folder))) {
                files = s.filter(f -> f.toString().endsWith(".dcm")).sorted().toList();
            }
            int taken = 0;
            for (Path f : files) {
                if (taken >= perFolder) break;
                byte[] b = Files.readAllBytes(f);
                Part10.Meta meta;
                try {
                    meta = Part10.readMeta(b);
                } catch (MalformedDicomException e) {
                    continue;
                }
                if (meta.transferSyntaxUid().equals("1.2.840.10008.1.2.2") || meta.transferSyntaxUid().equals("1.2.840.10008.1.2.1.99")) {
                    continue; // big endian and deflated: the byte-level UID replacement needs little-endian, uncompressed attributes
                }
                boolean implicit = meta.transferSyntaxUid().equals(IMPLICIT_LE);
                String study = uidValue(b, meta.datasetOffset(), 0x0020, 0x000D, implicit);
                String series = uidValue(b, meta.datasetOffset(), 0x0020, 0x000E, implicit);
                if (study == null || series == null || meta.mediaStorageSopInstanceUid() == null) continue;
                out.add(new Seed(folder, f, b, meta, study, series, pixelDataTag(b, meta.datasetOffset())));
                taken++;
            }
        }
        return out;
    }

    Mutant mutate(int index, Kind kind, Seed s) {
        Random rnd = new Random(seed * 1_000_003L + index);
        String[] ss = studyAndSeries.computeIfAbsent(s.folder(), f -> new String[] {
            freshUid(s.study().length(), new Random(seed ^ f.hashCode())), freshUid(s.series().length(), new Random(~seed ^ f.hashCode()))});
        String sop = freshUid(s.meta().mediaStorageSopInstanceUid().length(), rnd);
        byte[] file = s.bytes().clone();
        replaceAll(file, s.meta().mediaStorageSopInstanceUid(), sop);
        replaceAll(file, s.study(), ss[0]);
        replaceAll(file, s.series(), ss[1]);
        int start = s.meta().datasetOffset();
        byte[] ds = Arrays.copyOfRange(file, start, file.length);
        int attrs = Math.max(16, s.pixelDataTag() < 0 ? ds.length : s.pixelDataTag() - start);
        boolean implicit = s.meta().transferSyntaxUid().equals(IMPLICIT_LE);
        List<int[]> keep = List.of(valueRange(ds, ss[0]), valueRange(ds, ss[1]));
        String ts = s.meta().transferSyntaxUid();
        String requestSop = sop;
        String datasetSop = sop;
        switch (kind) {
            case INTACT -> {
            }
            case FLIP_BYTES -> {
                int n = 1 + rnd.nextInt(16);
                for (int i = 0; i < n; i++) {
                    int at = position(rnd, attrs, keep);
                    ds[at] = (byte) rnd.nextInt(256);
                }
            }
            case TRUNCATE -> ds = Arrays.copyOf(ds, rnd.nextInt(ds.length));
            case INSERT_GARBAGE -> {
                int at = position(rnd, attrs, keep);
                byte[] junk = new byte[1 + rnd.nextInt(64)];
                rnd.nextBytes(junk);
                byte[] out = new byte[ds.length + junk.length];
                System.arraycopy(ds, 0, out, 0, at);
                System.arraycopy(junk, 0, out, at, junk.length);
                System.arraycopy(ds, at, out, at + junk.length, ds.length - at);
                ds = out;
            }
            case DELETE_RANGE -> {
                int at = position(rnd, attrs, keep);
                int n = Math.min(1 + rnd.nextInt(64), ds.length - at);
                byte[] out = new byte[ds.length - n];
                System.arraycopy(ds, 0, out, 0, at);
                System.arraycopy(ds, at + n, out, at, ds.length - at - n);
                ds = out;
            }
            case HUGE_LENGTH -> {
                int at = Math.min(position(rnd, attrs, keep), ds.length - 4);
                ds[at] = (byte) (0xF0 + rnd.nextInt(16));
                ds[at + 1] = (byte) 0xFF;
                ds[at + 2] = (byte) 0xFF;
                ds[at + 3] = (byte) 0xFF;
            }
            case HUGE_MATRIX -> {
                setUs(ds, 0x0028, 0x0010, 30000, implicit);
                setUs(ds, 0x0028, 0x0011, 30000, implicit);
            }
            case ODD_BITS -> setUs(ds, 0x0028, 0x0100, rnd.nextBoolean() ? 0 : 64, implicit);
            case UID_MISMATCH -> requestSop = freshUid(sop.length(), rnd);
            case BAD_UID -> {
                char[] letters = sop.toCharArray();
                for (int i = 0; i < letters.length; i++) if (rnd.nextInt(3) == 0 && letters[i] != '.') letters[i] = (char) ('a' + rnd.nextInt(26));
                letters[letters.length - 1] = 'x';
                String bad = new String(letters);
                replaceAll(ds, sop, bad);
                requestSop = bad;
                datasetSop = bad;
            }
            case WRONG_TRANSFER_SYNTAX -> ts = implicit ? EXPLICIT_LE : IMPLICIT_LE;
        }
        return new Mutant(index, kind, s, s.meta().mediaStorageSopClassUid(), ts, requestSop, datasetSop, ds, ss[0]);
    }

    /** A UID of exactly {@code length} characters under the 2.25 (UUID-derived) root. */
    static String freshUid(int length, Random rnd) {
        if (length < 8) throw new IllegalArgumentException("UID length " + length);
        StringBuilder b = new StringBuilder("2.25.").append((char) ('1' + rnd.nextInt(9)));
        while (b.length() < length) b.append((char) ('0' + rnd.nextInt(10)));
        return b.toString();
    }

    /** A random position among the attributes [0, attrs), outside the kept value ranges. */
    private static int position(Random rnd, int attrs, List<int[]> keep) {
        for (int tries = 0; ; tries++) {
            int at = rnd.nextInt(attrs);
            boolean inside = false;
            for (int[] r : keep) inside |= r != null && at >= r[0] - 8 && at < r[1];
            if (!inside || tries > 100) return at;
        }
    }

    private static int[] valueRange(byte[] b, String value) {
        int at = indexOf(b, value.getBytes(StandardCharsets.US_ASCII), 0);
        return at < 0 ? null : new int[] {at, at + value.length()};
    }

    /** Replaces every occurrence of {@code from} (not followed by another UID character) by the same-length {@code to}. */
    static void replaceAll(byte[] b, String from, String to) {
        if (from.length() != to.length()) throw new IllegalArgumentException("lengths differ");
        byte[] f = from.getBytes(StandardCharsets.US_ASCII);
        byte[] t = to.getBytes(StandardCharsets.US_ASCII);
        for (int at = indexOf(b, f, 0); at >= 0; at = indexOf(b, f, at + f.length)) {
            int next = at + f.length;
            if (next < b.length && (Character.isDigit(b[next]) || b[next] == '.')) continue;
            System.arraycopy(t, 0, b, at, t.length);
        }
    }

    private static int indexOf(byte[] b, byte[] f, int from) {
        outer:
        for (int i = Math.max(0, from); i <= b.length - f.length; i++) {
            for (int j = 0; j < f.length; j++) if (b[i + j] != f[j]) continue outer;
            return i;
        }
        return -1;
    }

    /** The value of a top-level UI element (first occurrence of its tag), trimmed; null when not found. */
    private static String uidValue(byte[] b, int from, int group, int element, boolean implicit) {
        int at = tag(b, from, group, element);
        if (at < 0) return null;
        int len;
        int value;
        if (implicit) {
            len = le32(b, at + 4);
            value = at + 8;
        } else {
            if (b[at + 4] != 'U' || b[at + 5] != 'I') return null;
            len = (b[at + 6] & 0xff) | (b[at + 7] & 0xff) << 8;
            value = at + 8;
        }
        if (len <= 0 || value + len > b.length) return null;
        String s = new String(b, value, len, StandardCharsets.US_ASCII);
        int end = s.length();
        while (end > 0 && (s.charAt(end - 1) == 0 || s.charAt(end - 1) == ' ')) end--;
        return s.substring(0, end);
    }

    /** Sets a top-level US element's value (first occurrence of its tag) when present. */
    private static void setUs(byte[] ds, int group, int element, int v, boolean implicit) {
        int at = tag(ds, 0, group, element);
        if (at < 0) return;
        int value = at + 8;
        if (!implicit && (ds[at + 4] != 'U' || ds[at + 5] != 'S')) return;
        if (value + 2 > ds.length) return;
        ds[value] = (byte) v;
        ds[value + 1] = (byte) (v >> 8);
    }

    private static int tag(byte[] b, int from, int group, int element) {
        byte[] t = {(byte) group, (byte) (group >> 8), (byte) element, (byte) (element >> 8)};
        return indexOf(b, t, from);
    }

    private static int pixelDataTag(byte[] b, int from) {
        for (int i = b.length - 4; i >= from; i--) {
            if (b[i] == (byte) 0xe0 && b[i + 1] == 0x7f && b[i + 2] == 0x10 && b[i + 3] == 0x00) return i;
        }
        return -1;
    }

    private static int le32(byte[] b, int at) {
        return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8 | (b[at + 2] & 0xff) << 16 | (b[at + 3] & 0xff) << 24;
    }
}
